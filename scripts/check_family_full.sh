#!/usr/bin/env bash
# Dev-time parity of the GPT-2 family at real width (distilgpt2 6 x 12 x 768, gpt2-medium
# 24 x 16 x 1024, gpt2-large 36 x 20 x 1280, gpt2-xl 48 x 25 x 1600): for each size named (all
# four by default), HF transformers writes a seeded random F32 checkpoint and goldens of every
# hook, the Rust test compares them within 1e-3, and the model is deleted before the next one
# is made (gpt2-xl is 6.2 GB). Needs python with torch + transformers + safetensors
# (PYTHON=/path/to/venv/bin/python) and ~7 GB free under FAMILY_DIR (default $TMPDIR or /tmp).
#   bash scripts/check_family_full.sh [distilgpt2 gpt2-medium gpt2-large gpt2-xl]
set -euo pipefail
cd "$(dirname "$0")/.."
root=${FAMILY_DIR:-${TMPDIR:-/tmp}/nexttoken-family}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(distilgpt2 gpt2-medium gpt2-large gpt2-xl)
test=(cargo test -p nexttoken-model --test gpt2_family full_width_member_matches_transformers)
"${test[@]}" --no-run
for name in "${sizes[@]}"; do
  dir="$root/$name"
  trap 'rm -rf "$dir"' EXIT
  "${PYTHON:-python3}" scripts/make_family_fixtures.py --full "$name" "$dir"
  NEXTTOKEN_FAMILY_DIR="$dir" "${test[@]}" -- --ignored --nocapture
  rm -rf "$dir"
done

#!/usr/bin/env bash
# Dev-time parity check on a GPT-2-small-shaped (12 layers x 12 heads x 768) random model:
# HF transformers writes the model and its goldens, then the Rust test compares every hook.
# Needs python with torch + transformers + safetensors (PYTHON=/path/to/venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-${TMPDIR:-/tmp}/nexttoken-gpt2-full}
"${PYTHON:-python3}" scripts/make_fixtures.py --full "$dir"
NEXTTOKEN_PARITY_DIR="$dir" cargo test --release -p nexttoken-model --test parity \
  full_size_model_matches_transformers -- --ignored --nocapture

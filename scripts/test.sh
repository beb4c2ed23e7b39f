#!/usr/bin/env bash
# Runs every test. Installs what the tests need first (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --workspace --all-targets

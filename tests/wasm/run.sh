#!/usr/bin/env bash
# Builds the browser engine (crates/wasm) for wasm32-unknown-unknown and the native binary, then
# checks in Node.js that both answer every request of the API alike (tests/wasm/parity.test.js).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"

rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
  || rustup target add wasm32-unknown-unknown
cargo build -p nexttoken-wasm --target wasm32-unknown-unknown --release
cargo build -p nexttoken

NEXTTOKEN_WASM="$target/wasm32-unknown-unknown/release/nexttoken_wasm.wasm" \
NEXTTOKEN_BIN="$target/debug/nexttoken" \
  node --test tests/wasm/

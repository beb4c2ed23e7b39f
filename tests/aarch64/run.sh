#!/usr/bin/env bash
# The model crate's tests built for AArch64 (Apple silicon, Raspberry Pi, Graviton) and run
# under qemu-user: its NEON kernels and portable loops, held to the same bits as the x86 ones.
# Installs the cross toolchain when it is missing (Debian's qemu-user, gcc-aarch64-linux-gnu).
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v qemu-aarch64 >/dev/null 2>&1 || ! command -v aarch64-linux-gnu-gcc >/dev/null 2>&1; then
  apt-get update && apt-get install -y qemu-user gcc-aarch64-linux-gnu
fi
rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu \
  || rustup target add aarch64-unknown-linux-gnu

runner="qemu-aarch64 -L /usr/aarch64-linux-gnu"
# NEXTTOKEN_TEST_RUNNER: tests that start the test binary again start it under qemu too.
CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="$runner" \
NEXTTOKEN_TEST_RUNNER="$runner" \
  cargo test -p nexttoken-model --target aarch64-unknown-linux-gnu

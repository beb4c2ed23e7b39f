#!/usr/bin/env bash
# Where the browser engine's decode step goes, by V8's own machine code: one run of the bench
# page (profile.mjs) under `perf record` (a software clock, so it works in VMs without
# hardware counters), V8's jitdump files merged in, then the worker thread's hottest wasm
# functions and, for each, its hottest loop: instructions per turn, their mix, and the share of
# the function's samples on the loop's one hottest instruction (the one after a load that waits
# on memory). Instruction counts do not move with the machine's load; times do.
#
#   bash bench/wasm/profile.sh MODEL_DIR [DTYPE] [WASM] [FUNCTIONS]
# Needs `perf` (linux-perf), Chromium and tests/browser's npm packages; the .wasm as for
# run.mjs. OUT (default a fresh folder under /tmp) keeps perf.data and the annotated code.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
model="${1:?usage: bash bench/wasm/profile.sh MODEL_DIR [DTYPE] [WASM] [FUNCTIONS]}"
dtype="${2:-f16}" wasm="${3:-}" functions="${4:-2}"
out="${OUT:-$(mktemp -d /tmp/nexttoken-wasm-profile-XXXXXX)}"
mkdir -p "$out/jit"
model="$(cd "$model" && pwd)"
[ -n "$wasm" ] && wasm="$(cd "$(dirname "$wasm")" && pwd)/$(basename "$wasm")"
# V8 writes jit-PID.dump into the renderer's working directory.
(cd "$out/jit" && perf record -q -e cpu-clock -F 1000 -k 1 -o "$out/raw.data" -- \
  node "$root/bench/wasm/profile.mjs" "$model" "$dtype" $wasm)
perf inject --jit -i "$out/raw.data" -o "$out/perf.data" 2>/dev/null
perf report -i "$out/perf.data" --comm DedicatedWorker --sort sym --stdio -n 2>/dev/null \
  | grep -v '^#' | grep . > "$out/worker.txt" || true
echo "worker thread: $(awk '{s+=$2} END {print s}' "$out/worker.txt") samples of 1 ms; wasm functions:"
grep wasm-function "$out/worker.txt" | sed -n "1,${functions}p" | tee "$out/top.txt"
while read -r share samples _ sym; do
  perf annotate -i "$out/perf.data" --stdio -s "$sym" 2>/dev/null > "$out/$sym.txt"
  echo "$sym ($share): $(python3 "$root/bench/wasm/loops.py" "$out/$sym.txt")"
done < "$out/top.txt"
echo "files: $out"

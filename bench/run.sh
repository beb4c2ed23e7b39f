#!/usr/bin/env bash
# Runs nexttoken (f32, bf16, f16) and HF transformers side by side on one checkpoint directory,
# interleaved so both see the same machine load, and prints medians and ratios; then 8
# concurrent /api/trace requests against one (bench/trace_concurrency.py, f32).
#
#   bash bench/run.sh DIR [ROUNDS (3)] [RUNS per process (5)]
#
# Needs a release build (cargo build --release) and PYTHON with torch + transformers.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: bench/run.sh MODEL_DIR [ROUNDS] [RUNS]}
rounds=${2:-3}
runs=${3:-5}
python=${PYTHON:-python3}
bin=${NEXTTOKEN_BIN:-${CARGO_TARGET_DIR:-target}/release/nexttoken}
threads=${NEXTTOKEN_THREADS:-2}
out=$(mktemp -d)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for round in $(seq "$rounds"); do
  echo "round $round/$rounds" >&2
  "$python" bench/hf_bench.py --model "$dir" --threads "$threads" --runs "$runs" >>"$out/hf.jsonl"
  for dtype in f32 bf16 f16; do
    NEXTTOKEN_THREADS=$threads "$bin" bench --model "$dir" --dtype "$dtype" --runs "$runs" --json >>"$out/$dtype.jsonl"
  done
done
"$python" - "$out" <<'PY'
import json, statistics, sys
from pathlib import Path
out = Path(sys.argv[1])
rows = {name: [json.loads(l) for l in (out / f"{name}.jsonl").read_text().splitlines()]
        for name in ["hf", "f32", "bf16", "f16"]}
keys = ["prefill_ms", "decode_tok_s", "prefill_recorded_ms", "decode_recorded_tok_s", "peak_rss_mb", "weights_mb"]
med = {n: {k: statistics.median(r[k] for r in rs) for k in keys} for n, rs in rows.items()}
print(f"{'metric':24}" + "".join(f"{n:>12}" for n in med) + "   ratios vs HF (f32 / bf16 / f16)")
for k in keys:
    ratio = " / ".join(f"{med[n][k] / med['hf'][k]:.2f}" for n in ["f32", "bf16", "f16"])
    print(f"{k:24}" + "".join(f"{med[n][k]:>12.1f}" for n in med) + f"   {ratio}")
for n in ["f32", "bf16", "f16"]:
    m = med[n]
    print(f"{n}: record overhead prefill {100 * (m['prefill_recorded_ms'] / m['prefill_ms'] - 1):+.0f}%, "
          f"decode {100 * (m['decode_tok_s'] / m['decode_recorded_tok_s'] - 1):+.0f}%; "
          f"peak RSS / weights {m['peak_rss_mb'] / m['weights_mb']:.2f}")
print(json.dumps({"medians": med, "rounds": len(rows["hf"])}))
PY
NEXTTOKEN_THREADS=$threads "$python" bench/trace_concurrency.py "$dir" --bin "$bin" --rounds "$runs" | tee "$out/concurrent.json"
echo "raw results: $out" >&2

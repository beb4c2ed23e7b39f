#!/usr/bin/env bash
# Bounded loopback load test (docs/hardening.md): serves the tiny fixture model on 127.0.0.1
# only, warms up, then for DURATION seconds runs 28 connections mixing /api/trace and
# /api/distribution (and some /api/health) beside 4 connections asking only /api/health.
# Every connection has one request in flight, so the load is bounded in count and time, and
# it stops by itself. Passes when no answer is an error other than 503, /api/health's p99 is
# under 100 ms, and resident memory after the load is within 1.2x of before it.
# Needs wrk (apt-get install -y wrk). Not part of scripts/test.sh: a dev run.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-60}
PORT=${PORT:-18080}
BIN=${NEXTTOKEN:-${CARGO_TARGET_DIR:-target}/release/nexttoken}
OUT=${OUT:-$(mktemp -d)}
URL="http://127.0.0.1:$PORT"

command -v wrk >/dev/null || { echo "needs wrk: apt-get install -y wrk" >&2; exit 1; }
[[ -x $BIN ]] || cargo build --release -p nexttoken

"$BIN" serve --host 127.0.0.1 --port "$PORT" --model fixtures/tiny-gpt2 >"$OUT/server.log" 2>&1 &
PID=$!
trap 'kill "$PID" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -sf "$URL/api/health" >/dev/null && break
  sleep 0.1
done

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$PID/status"; }

# Fills the logits cache and the allocator's pools, so "before" is the steady state.
wrk -t1 -c8 -d10s --timeout 10s -s bench/load/load.lua "$URL/" >"$OUT/warmup.txt"
before=$(rss_kb)
wrk -t2 -c28 -d"${DURATION}s" --timeout 10s -s bench/load/load.lua "$URL/" >"$OUT/mix.txt" &
MIX=$!
wrk -t1 -c4 -d"${DURATION}s" --timeout 10s -s bench/load/load.lua "$URL/api/health" \
  >"$OUT/health.txt"
wait "$MIX"
sleep 1
after=$(rss_kb)
curl -sf "$URL/api/health" >"$OUT/health-after.json"

echo "== mix (trace, distribution, health; 28 connections, ${DURATION}s)"; cat "$OUT/mix.txt"
echo "== health only (4 connections, ${DURATION}s)"; cat "$OUT/health.txt"
echo "== pool gauges after: $(cat "$OUT/health-after.json")"
echo "== VmRSS before ${before} kB, after ${after} kB"

fail=0
bad=$(cat "$OUT/mix.txt" "$OUT/health.txt" | awk '$1 == "status" && $2 != 200 && $2 != 503 {n += $3} END {print n + 0}')
sock=$(cat "$OUT/mix.txt" "$OUT/health.txt" | awk '$1 == "socket_errors" {n += $2} END {print n + 0}')
p99=$(awk '$1 == "p99_ms" {print $2}' "$OUT/health.txt")
[[ $bad == 0 && $sock == 0 ]] || { echo "FAIL: $bad error answers, $sock socket errors"; fail=1; }
awk -v p="$p99" 'BEGIN {exit !(p < 100)}' || { echo "FAIL: health p99 ${p99} ms"; fail=1; }
awk -v a="$after" -v b="$before" 'BEGIN {exit !(a <= 1.2 * b)}' ||
  { echo "FAIL: RSS grew from ${before} to ${after} kB"; fail=1; }
[[ $fail == 0 ]] && echo "PASS: no errors but 503, health p99 ${p99} ms, RSS ${before} -> ${after} kB"
exit "$fail"

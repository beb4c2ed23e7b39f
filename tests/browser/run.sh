#!/usr/bin/env bash
# Browser tests of the page: builds nexttoken, serves the tiny fixture model on a free loopback
# port, exports the static site, and runs the node:test suites in Debian's chromium.
# Needs: chromium at /usr/bin/chromium and `npm ci` done here (scripts/test.sh does both).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

target="${CARGO_TARGET_DIR:-$root/target}"
bin="$target/debug/nexttoken"
model="fixtures/tiny-gpt2"

cargo build -p nexttoken

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port="$(node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')"
"$bin" serve --model "$model" --host 127.0.0.1 --port "$port" >"$work/server.log" 2>&1 &
server_pid=$!
url="http://127.0.0.1:$port/"
healthy() { node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "${url}api/health"; }
for _ in $(seq 1 150); do
  if healthy; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then cat "$work/server.log"; echo "the server exited" >&2; exit 1; fi
  sleep 0.2
done
healthy || { cat "$work/server.log"; echo "the server never answered" >&2; exit 1; }

"$bin" export --model "$model" --out "$work/site" >/dev/null

cd "$here"
NEXTTOKEN_URL="$url" NEXTTOKEN_EXPORT_DIR="$work/site" \
  node --test --test-concurrency=1 live.test.js static.test.js

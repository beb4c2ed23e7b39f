#!/usr/bin/env bash
# Browser tests of the page: builds nexttoken, serves the tiny fixture model on a free loopback
# port, serves the bundled model offline (GPT-2 cannot download), exports the static site and the
# live site (the engine in WebAssembly, served with no nexttoken server), and runs the node:test
# suites in Debian's chromium.
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
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}

healthy() {
  node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$1api/health"
}

# start_server NAME COMMAND...: runs `COMMAND --host 127.0.0.1 --port P` on a free port P, waits for /api/health, and sets
# $url. Extra environment comes from the caller's `env` prefix.
start_server() {
  local name="$1" port
  shift
  port="$(free_port)"
  "$@" --host 127.0.0.1 --port "$port" >"$work/$name.log" 2>&1 &
  pids+=("$!")
  url="http://127.0.0.1:$port/"
  for _ in $(seq 1 150); do
    if healthy "$url"; then return; fi
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then break; fi
    sleep 0.2
  done
  cat "$work/$name.log"
  echo "the $name server never answered" >&2
  exit 1
}

start_server fixture "$bin" serve --model "$model"
live_url="$url"
# No --model and an empty, offline Hugging Face cache: the bundled model serves and the page
# must say that GPT-2 cannot be downloaded.
mkdir -p "$work/hf"
start_server bundled env -u HUGGINGFACE_HUB_CACHE HF_HOME="$work/hf" HF_HUB_CACHE="$work/hf/hub" HF_HUB_OFFLINE=1 "$bin" serve
bundled_url="$url"

# The fixture with room for 1,024 positions, for the long-prompt views.
node "$here/lib/long-model.js" "$model" "$work/long-model" 1024
start_server long "$bin" serve --model "$work/long-model"
long_url="$url"

# gpt2-xl's 48 layers x 25 heads, 2 channels a head: the views at the family's largest shape.
start_server deep "$bin" serve --model fixtures/gpt2-family/gpt2-xl
deep_url="$url"

"$bin" export --model "$model" --out "$work/site" >/dev/null

# Every suite, or only those named: `bash tests/browser/run.sh long.test.js a11y.test.js`.
suites=("$@")
if [ ${#suites[@]} -eq 0 ]; then
  suites=(live.test.js loop.test.js errors.test.js views.test.js bundled.test.js static.test.js approx.test.js
    recorded.test.js long.test.js a11y.test.js patch.test.js inbrowser.test.js threads.test.js deep.test.js smollm2.test.js)
fi
if [[ " ${suites[*]} " =~ \ (inbrowser|threads|a11y)\.test\.js\  ]]; then
  # The live export: the bundled model computed in the browser (the engine built for wasm32 by
  # the exporter, a no-op after tests/wasm, and again with threads, which needs nightly's
  # rust-src: scripts/test.sh installs it), the fixture beside it as the "GPT-2" the page may load.
  "$bin" export --live --with-weights "$model" --out "$work/live-site" >/dev/null
fi

# The real SmolLM2-135M-Instruct when its GGUF is at hand (scripts/test.sh fetches it); without
# it smollm2.test.js says it skipped and why.
smollm2_url=""
if [[ -n "${NEXTTOKEN_SMOLLM2_GGUF:-}" && " ${suites[*]} " == *" smollm2.test.js "* ]]; then
  start_server smollm2 "$bin" serve --model "$NEXTTOKEN_SMOLLM2_GGUF"
  smollm2_url="$url"
fi

cd "$here"
NEXTTOKEN_URL="$live_url" NEXTTOKEN_BUNDLED_URL="$bundled_url" NEXTTOKEN_LONG_URL="$long_url" NEXTTOKEN_DEEP_URL="$deep_url" NEXTTOKEN_EXPORT_DIR="$work/site" \
  NEXTTOKEN_LIVE_DIR="$work/live-site" NEXTTOKEN_BIN="$bin" NEXTTOKEN_SMOLLM2_URL="$smollm2_url" \
  node --test --test-concurrency=1 "${suites[@]}"

// One run of the bench page in headless Chromium with V8's perf support on, for
// bench/wasm/profile.sh to record: the engine's machine code as V8 compiled it (jitdump files
// in the working directory) and where a decode step's time went.
//
//   node bench/wasm/profile.mjs MODEL_DIR [DTYPE] [WASM]
// DTYPE defaults to f16; WASM to this checkout's one-thread build. The prefill is one token
// and there is one timed run, so nearly all the engine's time is decoding (2 × 64 steps).
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { benchPage, benchSite } from './lib.mjs';
import { serveStatic } from '../../tests/browser/lib/static-server.js';

const [modelDir, dtype = 'f16', wasm] = process.argv.slice(2);
if (!modelDir) throw new Error('usage: node bench/wasm/profile.mjs MODEL_DIR [DTYPE] [WASM]');
const root = resolve(import.meta.dirname, '../..');
const target = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
const engine = wasm ? resolve(wasm) : join(target, 'wasm32-unknown-unknown/release/nexttoken_wasm.wasm');

const site = benchSite('profile', modelDir, { 'engine.wasm': engine });
const server = await serveStatic(site);
try {
  // --no-write-protect-code-memory: V8 writes its jitdump records as it compiles.
  const flags = '--js-flags=--perf-prof --no-write-protect-code-memory';
  const url = `${server.url}bench/index.html?dtype=${dtype}&runs=1&prefill=1`;
  console.log(JSON.stringify(await benchPage(url, `wasm ${dtype}`, () => ({}), [flags])));
} finally {
  await server.close();
  rmSync(site, { recursive: true, force: true });
}

// The browser engine on 1 and 2 threads, in one run: the bench page (bench/wasm/page) in
// headless Chromium, served cross-origin isolated so the build with shared memory may start
// its threads, alternating per round between the one-thread build, the threaded build on one
// thread (its cost of atomics alone) and on two; then the medians over rounds and the ratios.
//
//   node bench/wasm/threads.mjs MODEL_DIR [ROUNDS] [RUNS]
// Needs both builds of crates/wasm (`nexttoken export --live` makes them; see BENCHMARKS.md)
// and tests/browser's npm packages. DTYPES=f32,f16 picks the weights' types (default f32).
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { benchPage, benchSite, median } from './lib.mjs';
import { ISOLATED, serveStatic } from '../../tests/browser/lib/static-server.js';

const [modelDir, rounds = '3', runs = '3'] = process.argv.slice(2);
if (!modelDir) throw new Error('usage: node bench/wasm/threads.mjs MODEL_DIR [ROUNDS] [RUNS]');
const root = resolve(import.meta.dirname, '../..');
const target = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
const DTYPES = (process.env.DTYPES ?? 'f32').split(',');
// [label, threads]: 0 is the one-thread build.
const ENGINES = [['one-thread build', 0], ['threaded build, 1 thread', 1], ['threaded build, 2 threads', 2]];

const site = benchSite('threads', modelDir, {
  'engine.wasm': join(target, 'wasm32-unknown-unknown/release/nexttoken_wasm.wasm'),
  'engine-threads.wasm': join(target, 'wasm32-nexttoken-threads/wasm-threads/nexttoken_wasm.wasm'),
});

async function wasm(server, dtype, threads) {
  const url = `${server.url}bench/index.html?dtype=${dtype}&runs=${runs}&threads=${threads}`;
  const result = await benchPage(url, `wasm ${dtype} on ${threads} thread(s)`);
  if (result.threads !== Math.max(threads, 1)) throw new Error(`asked for ${threads} threads, the engine ran ${result.threads}`);
  return result;
}

const load = [loadavg()[0]];
const server = await serveStatic(site, { headers: ISOLATED });
const results = {};
try {
  for (let round = 0; round < Number(rounds); round += 1) {
    for (const dtype of DTYPES) {
      for (const [label, threads] of ENGINES) {
        const r = await wasm(server, dtype, threads);
        (results[`${label} ${dtype}`] ??= []).push(r);
        load.push(loadavg()[0]);
        console.error(`round ${round + 1} ${label} ${dtype}: prefill ${r.prefill_ms.toFixed(0)} ms, decode ${r.decode_tok_s.toFixed(2)} tok/s, load ${loadavg()[0].toFixed(2)}`);
      }
    }
  }
} finally {
  await server.close();
  rmSync(site, { recursive: true, force: true });
}

console.log(`load average (1 min) over the run: ${Math.min(...load).toFixed(2)}–${Math.max(...load).toFixed(2)}, median ${median(load).toFixed(2)}`);
console.log('| engine | prefill 256 ms | decode tok/s | prefill speed-up | decode speed-up |');
console.log('|---|---|---|---|---|');
for (const dtype of DTYPES) {
  const base = results[`${ENGINES[0][0]} ${dtype}`];
  const prefill = (rs) => median(rs.map((r) => r.prefill_ms));
  const decode = (rs) => median(rs.map((r) => r.decode_tok_s));
  for (const [label] of ENGINES) {
    const rs = results[`${label} ${dtype}`];
    console.log(`| ${label}, ${dtype} | ${prefill(rs).toFixed(0)} | ${decode(rs).toFixed(2)} | `
      + `${(prefill(base) / prefill(rs)).toFixed(2)}× | ${(decode(rs) / decode(base)).toFixed(2)}× |`);
  }
}

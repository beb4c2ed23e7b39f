// WebAssembly against native on one thread, in one run: alternates `nexttoken bench` (native,
// NEXTTOKEN_THREADS=1) with the bench page in headless Chromium (the engine in a Web Worker)
// for each dtype, then prints the medians over rounds and wasm's share of native.
//
//   node bench/wasm/run.mjs MODEL_DIR [ROUNDS] [RUNS]
// Needs the release builds of nexttoken and of crates/wasm (bench/wasm/run.sh makes both) and
// tests/browser's npm packages.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { benchPage, benchSite, median } from './lib.mjs';
import { serveStatic } from '../../tests/browser/lib/static-server.js';
import { peers } from './peer/peers.mjs';

const [modelDir, rounds = '3', runs = '3'] = process.argv.slice(2);
if (!modelDir) throw new Error('usage: node bench/wasm/run.mjs MODEL_DIR [ROUNDS] [RUNS]');
const root = resolve(import.meta.dirname, '../..');
const target = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
const DTYPES = (process.env.DTYPES ?? 'f32,f16').split(',');

// The site: the page's engine modules, the bench page, the .wasm and the model, side by side.
const site = benchSite('bench', modelDir, {
  'engine.wasm': join(target, 'wasm32-unknown-unknown/release/nexttoken_wasm.wasm'),
});

function native(dtype) {
  const out = execFileSync(join(target, 'release/nexttoken'),
    ['bench', '--model', modelDir, '--dtype', dtype, '--runs', runs, '--json'],
    { env: { ...process.env, NEXTTOKEN_THREADS: '1' } });
  return JSON.parse(out);
}

const wasm = (server, dtype) =>
  benchPage(`${server.url}bench/index.html?dtype=${dtype}&runs=${runs}`, `wasm ${dtype}`);

// transformers.js in the same rounds when PEER_ONNX is set (bench/wasm/peer/peers.mjs).
const peer = await peers(site, { runs, nexttoken: join(target, 'release/nexttoken'), modelDir });
const server = await serveStatic(site);
const results = {};
try {
  for (let round = 0; round < Number(rounds); round += 1) {
    for (const dtype of DTYPES) {
      for (const [engine, run] of [['native', () => native(dtype)], ['wasm', () => wasm(server, dtype)], ...peer.engines(dtype)]) {
        const r = await run();
        (results[`${engine} ${dtype}`] ??= []).push(r);
        console.error(`round ${round + 1} ${engine} ${dtype}: prefill ${r.prefill_ms.toFixed(0)} ms, decode ${r.decode_tok_s.toFixed(2)} tok/s`);
      }
    }
  }
} finally {
  await server.close();
  await peer.close();
  rmSync(site, { recursive: true, force: true });
}

console.log('| engine, 1 thread | prefill 256 ms | decode tok/s | wasm decode / native | wasm memory MB |');
console.log('|---|---|---|---|---|');
for (const dtype of DTYPES) {
  const nat = results[`native ${dtype}`];
  const was = results[`wasm ${dtype}`];
  const decode = (rs) => median(rs.map((r) => r.decode_tok_s));
  const prefill = (rs) => median(rs.map((r) => r.prefill_ms));
  console.log(`| native ${dtype} | ${prefill(nat).toFixed(0)} | ${decode(nat).toFixed(2)} | | |`);
  console.log(`| wasm ${dtype} | ${prefill(was).toFixed(0)} | ${decode(was).toFixed(2)} | ${(decode(was) / decode(nat) * 100).toFixed(0)}% | ${median(was.map((r) => r.memory_mb)).toFixed(0)} |`);
}
peer.report(results, median);

// transformers.js (onnxruntime-web, WASM) as the peer of nexttoken's WebAssembly engine, timed
// in the rounds of bench/wasm/run.mjs when PEER_ONNX names an export of the same weights
// (bench/wasm/peer/export_onnx.py). Each run is a fresh headless Chromium on the peer page
// (page/), whose Web Worker loads the ONNX model from the site and times prefill and decode
// as the nexttoken engine is timed. Also checks the peer's logits against nexttoken's native
// ones on the same prompt, and records the tab's peak memory.
//
//   PEER_ONNX=DIR [PEER_DTYPES=fp32,q8] [PEER_THREADS=1,2] node bench/wasm/run.mjs MODEL 3 3
//
// fp32 runs beside nexttoken's f32, q8 and fp16 beside its f16. One thread is served as most
// sites are; more threads need SharedArrayBuffer, so those runs get a cross-origin isolated
// server (COOP/COEP). Needs `npm ci --ignore-scripts` in bench/wasm/peer.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { benchPage } from '../lib.mjs';
import { ISOLATED, serveStatic } from '../../../tests/browser/lib/static-server.js';

const BESIDE = { fp32: 'f32', fp16: 'f16', q8: 'f16' };
// The sanity check's prompt: nexttoken tokenizes it, the peer runs the same ids.
const CHECK_PROMPT = 'The quick brown fox jumps over the lazy dog, and the';

const none = { engines: () => [], report: () => {}, close: async () => {} };

// { engines(dtype) → [[name, run]], report(results, median), close() }.
export async function peers(site, { runs, nexttoken, modelDir }) {
  const onnx = process.env.PEER_ONNX;
  if (!onnx) return none;
  const dtypes = (process.env.PEER_DTYPES ?? 'fp32,q8').split(',');
  const threads = (process.env.PEER_THREADS ?? '1,2').split(',').map(Number);
  const unknown = dtypes.filter((d) => !BESIDE[d]);
  if (unknown.length) throw new Error(`PEER_DTYPES: unknown ${unknown}; choose from ${Object.keys(BESIDE)}`);
  layOut(site, onnx);
  const native = nativeLogits(nexttoken, modelDir);
  const servers = { plain: await serveStatic(site), isolated: await serveStatic(site, { headers: ISOLATED }) };
  const checks = {};
  const run = (dtype, n) => async () => {
    const server = n > 1 ? servers.isolated : servers.plain;
    const query = `dtype=${dtype}&threads=${n}&runs=${runs}&check=${native.ids.join(',')}`;
    const r = await inBrowser(`${server.url}peer/index.html?${query}`);
    const diff = compare(r.check_logits, native);
    checks[dtype] = { logit: Math.max(checks[dtype]?.logit ?? 0, diff.logit), logProb: Math.max(checks[dtype]?.logProb ?? 0, diff.logProb) };
    delete r.check_logits;
    return r;
  };
  return {
    engines: (ours) => dtypes.filter((d) => BESIDE[d] === ours)
      .flatMap((d) => threads.map((n) => [`transformers.js ${d} ${n}t`, run(d, n)])),
    report: (results, median) => report(results, median, { dtypes, threads, checks, native }),
    close: async () => {
      await servers.plain.close();
      await servers.isolated.close();
    },
  };
}

// The peer's page, transformers.js, onnxruntime-web's .wasm files and the export, beside the
// bench site's own files.
function layOut(site, onnx) {
  const modules = join(import.meta.dirname, 'node_modules');
  const tjs = join(modules, '@huggingface/transformers/dist');
  const ort = [join(modules, 'onnxruntime-web/dist'), join(modules, '@huggingface/transformers/node_modules/onnxruntime-web/dist')]
    .find(existsSync);
  if (!existsSync(tjs) || !ort) throw new Error('transformers.js is not installed: cd bench/wasm/peer && npm ci --ignore-scripts');
  if (!existsSync(join(onnx, 'onnx/model.onnx'))) throw new Error(`${onnx}: no onnx/model.onnx (bench/wasm/peer/export_onnx.py)`);
  symlinkSync(join(import.meta.dirname, 'page'), join(site, 'peer'));
  symlinkSync(tjs, join(site, 'tjs'));
  symlinkSync(ort, join(site, 'ort'));
  mkdirSync(join(site, 'models'));
  symlinkSync(resolve(onnx), join(site, 'models/gpt2'), 'dir');
}

// nexttoken's native logits at the last position of CHECK_PROMPT, and the prompt's ids: a
// trace's first step lists the top 1,024 candidates by logit, each with its probability under
// the softmax of all the vocabulary's logits.
function nativeLogits(nexttoken, modelDir) {
  const vocab = JSON.parse(readFileSync(join(modelDir, 'config.json'))).vocab_size;
  const trace = JSON.parse(execFileSync(nexttoken,
    ['trace', '--json', '--model', modelDir, '--steps', '1', '--top', String(vocab), CHECK_PROMPT],
    { env: { ...process.env, NEXTTOKEN_THREADS: '1' }, maxBuffer: 1 << 30 }));
  const candidates = trace.steps[0].candidates.map((c) => ({ id: c.id, logit: c.logit, logProb: Math.log(c.prob) }));
  return { ids: trace.tokens.map((t) => t.id), vocab, candidates };
}

// The largest |difference| over the native candidates, of logits and of log-probabilities
// (the latter also checks the peer's logits outside the candidates, through the softmax's sum).
function compare(peer, native) {
  if (!peer || peer.length !== native.vocab) throw new Error('the peer returned no logits of the vocabulary\'s length');
  const top = Math.max(...peer);
  const logSum = top + Math.log(peer.reduce((s, x) => s + Math.exp(x - top), 0));
  let [logit, logProb] = [0, 0];
  for (const c of native.candidates) {
    logit = Math.max(logit, Math.abs(peer[c.id] - c.logit));
    logProb = Math.max(logProb, Math.abs(peer[c.id] - logSum - c.logProb));
  }
  return { logit, logProb };
}

// One fresh browser on the peer page: its report, and the tab's peak resident memory.
const inBrowser = (url) => benchPage(url, 'transformers.js', () => ({ tab_peak_mb: rendererPeakMb() }));

// The largest peak RSS (VmHWM) among this process's Chromium renderers: the tab, whose
// renderer holds the worker, onnxruntime-web's memory and the model.
function rendererPeakMb() {
  const procs = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).flatMap((pid) => {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return [{ pid: +pid, ppid: +status.match(/PPid:\s+(\d+)/)[1], hwm: +(status.match(/VmHWM:\s+(\d+)/)?.[1] ?? 0), cmdline }];
    } catch {
      return []; // gone meanwhile
    }
  });
  const mine = new Set([process.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) if (mine.has(p.ppid) && !mine.has(p.pid)) grew = mine.add(p.pid);
  }
  const renderers = procs.filter((p) => mine.has(p.pid) && p.cmdline.includes('--type=renderer'));
  return Math.max(0, ...renderers.map((p) => p.hwm)) / 1024;
}

function report(results, median, { dtypes, threads, checks, native }) {
  const pick = (key, metric) => (results[key] ? median(results[key].map((r) => r[metric])) : NaN);
  console.log(`\nPeer: transformers.js on the same weights in ONNX, checked against nexttoken's native logits at the last of ${native.ids.length} tokens (the top ${native.candidates.length} candidates).`);
  console.log('| engine | prefill 256 ms | decode tok/s | decode / native 1 thread | nexttoken wasm speed / this: prefill, decode | tab peak RSS MB | max abs diff vs native: logit, log-prob |');
  console.log('|---|---|---|---|---|---|---|');
  for (const d of dtypes) {
    for (const n of threads) {
      const ours = BESIDE[d];
      const key = `transformers.js ${d} ${n}t ${ours}`; // run.mjs's key: engine, then its dtype
      const [prefill, decode] = [pick(key, 'prefill_ms'), pick(key, 'decode_tok_s')];
      const share = decode / pick(`native ${ours}`, 'decode_tok_s');
      const speedup = `${(prefill / pick(`wasm ${ours}`, 'prefill_ms')).toFixed(2)}×, ${(pick(`wasm ${ours}`, 'decode_tok_s') / decode).toFixed(2)}×`;
      console.log(`| transformers.js ${d}, ${n} thread${n > 1 ? 's' : ''} | ${prefill.toFixed(0)} | ${decode.toFixed(2)} | ${(share * 100).toFixed(0)}% | ${speedup} (vs wasm ${ours}) | ${pick(key, 'tab_peak_mb').toFixed(0)} | ${checks[d] ? `${checks[d].logit.toExponential(1)}, ${checks[d].logProb.toExponential(1)}` : ''} |`);
    }
  }
}

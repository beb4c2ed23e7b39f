// The in-browser engine's Web Worker: one WebAssembly instance of crates/wasm and the model in
// it, so the page never freezes while the model runs. Messages are { id, type, ...args };
// answers { id, result } or { id, error }, with { id, progress } while a model downloads or a
// request's passes run; { type: 'cancel', target } abandons request `target` at its next layer.
// Where the page is cross-origin isolated it also writes the id into shared memory (start()'s
// `cancels`, slot id % CANCEL_SLOTS), which a pass reads between layers while it keeps this
// worker from its messages.
// Between the chunks of a download the worker keeps answering requests on the model it has.
import { forgetCacheCopies, openStore } from './keep.js';
import { readInto, streamInto } from './stream.js';
import { startThreads } from './threads.js';
import { instantiate } from './wasm.js';

// More threads than this mostly wait for memory, and each costs an instance and a stack.
const MAX_THREADS = 8;
// How often a long request reports its layer and pauses to read its messages (a Cancel).
const REPORT_MS = 200;
// Cancels the shared memory holds: a call's slot is reused only by the call this many later.
const CANCEL_SLOTS = 64;

let engine = null;
// The engines' URLs, and how many threads this page runs on (start()).
let urls = null;
let threads = 1;
// The threaded engine's other threads, ended with it.
let workers = [];
// What load() last loaded, to load it again into a fresh instance after a trap.
let loaded = null;
// Requests by message id, so a Cancel finds its request whether it runs or waits its turn.
const requests = new Map();
// The ids of cancelled calls, in memory shared with the page (slot id % CANCEL_SLOTS), or null.
let cancels = null;
// Loads and requests take turns: a request paused between layers still holds the model.
let turn = Promise.resolve();

self.onmessage = async ({ data: { id, type, ...args } }) => {
  if (type === 'cancel') {
    const request = requests.get(args.target);
    if (request) request.cancelled = true;
    return;
  }
  try {
    const result = await handlers[type](args, (progress) => self.postMessage({ id, progress }), id);
    self.postMessage({ id, result });
  } catch (err) {
    self.postMessage({ id, error: String(err?.message ?? err) });
  }
};

function inTurn(work) {
  const done = turn.then(work);
  turn = done.catch(() => {});
  return done;
}

const handlers = {
  // The threaded engine where the site has one and this page may share memory with workers
  // (it is cross-origin isolated), else, or if it fails to start, the one-thread engine.
  async start({ wasm, threadsWasm }) {
    forgetCacheCopies();
    urls = { wasm, threadsWasm };
    const cores = Math.min(navigator.hardwareConcurrency || 1, MAX_THREADS);
    const shared = self.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function';
    threads = threadsWasm && shared ? cores : 1;
    cancels = shared ? new Int32Array(new SharedArrayBuffer(4 * CANCEL_SLOTS)).fill(-1) : null;
    await startInstance();
    return { threads, cancels: cancels?.buffer };
  },

  // Streams the model's weights into the engine; `load` then makes it the one that answers.
  async fetch({ model }, progress) {
    const store = await openStore();
    const config = await configText(model, store);
    await streamWeights(model, store, (bytes, total, kept) => progress({ bytes, total, kept }));
    return { config };
  },

  load({ model, config }) {
    return inTurn(() => {
      engine.load(model.name, config, { dtype: model.dtype, source: model.source });
      loaded = { model, config };
      return engine.request('/api/model').data;
    });
  },

  // Whether a model's weights are kept in this browser already.
  async kept({ model }) {
    return Boolean(await (await openStore())?.has(model.weights, model.bytes));
  },

  request({ path, body }, progress, id) {
    const request = { cancelled: false };
    requests.set(id, request);
    const run = async () => {
      if (!engine) await restart();
      try {
        return await engine.requestWatched(path, body, watch(request, id, progress));
      } catch (err) {
        engine = null; // the instance trapped: the next request starts a fresh one
        throw err;
      }
    };
    return inTurn(run).finally(() => requests.delete(id));
  },
};

async function startInstance() {
  for (const worker of workers) worker.terminate();
  workers = [];
  if (threads > 1) {
    try {
      ({ engine, workers } = await startThreads(await fetch(urls.threadsWasm), threads));
      return;
    } catch (err) {
      console.warn(`nexttoken: the engine runs on one thread: its threads did not start (${err.message})`);
      threads = 1;
    }
  }
  engine = await instantiate(await fetch(urls.wasm));
}

// Before each layer of request `id`'s passes: 1 once the page cancelled it; else, at most
// every REPORT_MS, progress({ block, blocks, rows }) and (where the engine can pause) a pause
// in which this worker reads its messages.
function watch(request, id, progress) {
  const cancelled = () => request.cancelled || (cancels !== null && Atomics.load(cancels, id % cancels.length) === id);
  let reported = performance.now();
  return (block, blocks, rows) => {
    if (cancelled()) return 1;
    const now = performance.now();
    if (now - reported < REPORT_MS) return 0;
    reported = now;
    progress({ block, blocks, rows });
    if (!engine.canPause) return 0;
    return new Promise((resume) => setTimeout(() => resume(cancelled() ? 1 : 0)));
  };
}

// A fresh instance with the last model in it (from the cache or the browser's HTTP cache).
async function restart() {
  await startInstance();
  if (!loaded) return;
  await streamWeights(loaded.model, await openStore());
  engine.load(loaded.model.name, loaded.config, { dtype: loaded.model.dtype, source: loaded.model.source });
}

// A model's config.json: the copy kept beside its kept weights, else downloaded (and kept).
async function configText(model, store) {
  if (await store?.has(model.weights, model.bytes)) {
    const kept = await store.readText(model.config);
    if (kept !== null) return kept;
  }
  const text = await (await download(model.config)).text();
  await store?.writeText(model.config, text);
  return text;
}

// Streams a model's weights into the engine from the copy kept in `store` (keep.js), else
// downloads them and keeps a copy; reports progress(bytes, total, kept).
async function streamWeights(model, store, progress = () => {}) {
  const kept = await store?.open(model.weights, model.bytes);
  if (kept) {
    try {
      await readInto(engine, kept, (bytes, total) => progress(bytes, total, true));
    } finally {
      kept.close();
    }
    return;
  }
  const response = await download(model.weights);
  const copy = await store?.create(model.weights, model.bytes);
  // An f32 file for an f16 model (the hub's GPT-2) narrowed as it arrives, where this browser
  // has Float16Array; elsewhere the engine narrows it at load, holding both for a moment.
  const narrow = model.dtype === 'f16' && typeof Float16Array === 'function';
  try {
    await streamInto(engine, response, { size: model.bytes, copy, narrow, progress: (bytes, total) => progress(bytes, total, false) });
  } catch (err) {
    await copy?.drop();
    throw err;
  }
  await copy?.keep();
}

async function download(url) {
  let response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new Error(`${url} could not be reached (${err.message})`);
  }
  if (!response.ok) throw new Error(`${url} answered ${response.status} ${response.statusText}`);
  return response;
}

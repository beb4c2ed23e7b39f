// The in-browser engine's Web Worker: one WebAssembly instance of crates/wasm and the model in
// it, so the page never freezes while the model runs. Messages are { id, type, ...args };
// answers { id, result } or { id, error }, with { id, progress } while a model downloads.
// Between the chunks of a download the worker keeps answering requests on the model it has.
import { streamInto } from './stream.js';
import { startThreads } from './threads.js';
import { instantiate } from './wasm.js';

// Downloaded weights are kept here, so a second visit needs no download.
const CACHE = 'nexttoken-models-v1';
// More threads than this mostly wait for memory, and each costs an instance and a stack.
const MAX_THREADS = 8;

let engine = null;
// The engines' URLs, and how many threads this page runs on (start()).
let urls = null;
let threads = 1;
// The threaded engine's other threads, ended with it.
let workers = [];
// What load() last loaded, to load it again into a fresh instance after a trap.
let loaded = null;

self.onmessage = async ({ data: { id, type, ...args } }) => {
  try {
    const result = await handlers[type](args, (progress) => self.postMessage({ id, progress }));
    self.postMessage({ id, result });
  } catch (err) {
    self.postMessage({ id, error: String(err?.message ?? err) });
  }
};

const handlers = {
  // The threaded engine where the site has one and this page may share memory with workers
  // (it is cross-origin isolated), else, or if it fails to start, the one-thread engine.
  async start({ wasm, threadsWasm }) {
    urls = { wasm, threadsWasm };
    const cores = Math.min(navigator.hardwareConcurrency || 1, MAX_THREADS);
    const shared = self.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function';
    threads = threadsWasm && shared ? cores : 1;
    await startInstance();
    return { threads };
  },

  // Streams the model's weights into the engine; `load` then makes it the one that answers.
  async fetch({ model }, progress) {
    const config = await (await fetchKept(model.config)).response.text();
    const { response, kept } = await fetchKept(model.weights);
    await streamInto(engine, response, (bytes, total) => progress({ bytes, total, kept }));
    return { config };
  },

  load({ model, config }) {
    engine.load(model.name, config, { dtype: model.dtype, source: model.source });
    loaded = { model, config };
    return engine.request('/api/model').data;
  },

  // Whether a model's weights are kept in this browser already.
  async kept({ model }) {
    const cache = await openCache();
    return Boolean(await cache?.match(model.weights));
  },

  async request({ path, body }) {
    if (!engine) await restart();
    try {
      return engine.request(path, body);
    } catch (err) {
      engine = null; // the instance trapped: the next request starts a fresh one
      throw err;
    }
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

// A fresh instance with the last model in it (from the cache or the browser's HTTP cache).
async function restart() {
  await startInstance();
  if (!loaded) return;
  const { response } = await fetchKept(loaded.model.weights);
  await streamInto(engine, response);
  engine.load(loaded.model.name, loaded.config, { dtype: loaded.model.dtype, source: loaded.model.source });
}

async function openCache() {
  // Only secure contexts (https, localhost) have the Cache API; elsewhere nothing is kept.
  return self.caches ? caches.open(CACHE).catch(() => null) : null;
}

// The response for `url`, from the cache when kept there, else fetched and kept.
async function fetchKept(url) {
  const cache = await openCache();
  const hit = await cache?.match(url);
  if (hit) return { response: hit, kept: true };
  let response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new Error(`${url} could not be reached (${err.message})`);
  }
  if (!response.ok) throw new Error(`${url} answered ${response.status} ${response.statusText}`);
  // A full disk or a refused quota only means it is not kept.
  cache?.put(url, response.clone()).catch(() => {});
  return { response, kept: false };
}

// The page's side of the in-browser engine: starts the Web Worker (worker.js) and turns its
// messages into promises. Nothing here knows the API; api.js sends it requests.

// Starts the engine from the .wasm at `wasm` (a URL), or from the threaded build at
// `threadsWasm` where the page can run it; resolves to { call, threads } once it is compiled.
export async function startEngine(wasm, threadsWasm) {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  const pending = new Map();
  let next = 0;
  // Where the page is cross-origin isolated: memory shared with the worker, where a Cancel
  // reaches a running pass at once, even one that keeps the worker from its messages.
  let cancels = null;
  worker.onmessage = ({ data }) => {
    const call = pending.get(data.id);
    if (!call) return;
    if ('progress' in data) {
      call.onProgress?.(data.progress);
      return;
    }
    pending.delete(data.id);
    if ('error' in data) call.reject(new Error(data.error));
    else call.resolve(data.result);
  };
  // A worker that cannot even start (no module workers, a blocked script) fails every call.
  worker.onerror = (event) => {
    event.preventDefault();
    for (const call of pending.values()) call.reject(new Error(event.message || 'the engine could not start'));
    pending.clear();
  };
  // `signal` (an AbortSignal) cancels the call in the worker (requests: at their next layer).
  const call = (type, args = {}, onProgress = null, signal = null) => new Promise((resolve, reject) => {
    const id = next++;
    pending.set(id, { resolve, reject, onProgress });
    worker.postMessage({ id, type, ...args });
    const cancel = () => {
      if (cancels) Atomics.store(cancels, id % cancels.length, id);
      worker.postMessage({ id: next++, type: 'cancel', target: id });
    };
    signal?.addEventListener('abort', cancel, { once: true });
  });
  const url = (path) => path && new URL(path, document.baseURI).href;
  const started = await call('start', { wasm: url(wasm), threadsWasm: url(threadsWasm) });
  cancels = started.cancels ? new Int32Array(started.cancels) : null;
  return { call, threads: started.threads };
}

// The page's side of the in-browser engine: starts the Web Worker (worker.js) and turns its
// messages into promises. Nothing here knows the API; api.js sends it requests.

// Starts the engine from the .wasm at `wasm` (a URL); resolves once it is compiled.
export async function startEngine(wasm) {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  const pending = new Map();
  let next = 0;
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
  const call = (type, args = {}, onProgress = null) => new Promise((resolve, reject) => {
    const id = next++;
    pending.set(id, { resolve, reject, onProgress });
    worker.postMessage({ id, type, ...args });
  });
  await call('start', { wasm: new URL(wasm, document.baseURI).href });
  return { call };
}

// The JavaScript side of crates/wasm: the engine's plain WebAssembly exports as two calls,
// load() and request(), with bytes and JSON crossing the boundary. Runs in a Web Worker (or
// Node.js for the parity tests); nothing here touches the page.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// WebAssembly's JavaScript Promise Integration (Chromium 137 and later): a call can pause
// between a pass's layers for the worker to read its messages (a Cancel) and go on.
const JSPI = typeof WebAssembly.Suspending === 'function' && typeof WebAssembly.promising === 'function';

// Between layers the engine calls nt_layer: 0 goes on, 1 abandons the pass, 2 calls nt_pause
// first, which waits for `pause` (a promise of 0 or 1). Only a call entered through
// WebAssembly.promising may pause: nt_pause throws anywhere else. An Engine and the instance
// it drives must share one (threads.js passes it to both).
export class Watch {
  onLayer = null;
  pausing = false;
  pause = null;

  layer = (block, blocks, rows) => {
    const verdict = this.onLayer?.(block, blocks, rows) ?? 0;
    if (typeof verdict === 'number') return verdict;
    if (!this.pausing) return 0;
    this.pause = verdict;
    return 2;
  };

  suspend = JSPI ? new WebAssembly.Suspending(() => this.pause) : () => 0;
}

// What an instance imports: the clock, the watch between layers, and the memory where the
// threaded build shares one.
export const imports = (memory, watch = new Watch()) => ({
  env: { nt_now: () => performance.now(), nt_layer: watch.layer, nt_pause: watch.suspend, ...(memory && { memory }) },
});

// Compiles and starts an engine from the .wasm's bytes (or a Response, streamed).
export async function instantiate(source) {
  const watch = new Watch();
  const { instance } = source instanceof Response
    ? await WebAssembly.instantiateStreaming(source, imports(undefined, watch))
    : await WebAssembly.instantiate(source, imports(undefined, watch));
  return new Engine(instance.exports, instance.exports.memory, watch);
}

export class Engine {
  // `memory`: the instance's own, or the one the threaded build imports; `watch`: the one its
  // imports call between layers.
  constructor(exports, memory = exports.memory, watch = new Watch()) {
    this.exports = exports;
    this.memory = memory;
    this.watch = watch;
    // nt_request as a call that may pause: it returns a promise of its status. Not on shared
    // memory: a paused call would leave the pool's first thread suspended mid-pass while other
    // calls enter the instance; there the worker reads a Cancel from shared memory instead.
    const shared = typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer;
    this.pausable = JSPI && !shared ? WebAssembly.promising(exports.nt_request) : null;
  }

  // Whether a watched request can pause between layers (see requestWatched).
  get canPause() {
    return this.pausable !== null;
  }

  // Copies bytes into a buffer the next call owns; returns [pointer, length].
  put(bytes) {
    const data = typeof bytes === 'string' ? encoder.encode(bytes) : bytes;
    const ptr = this.exports.nt_alloc(data.length) >>> 0; // wasm32 pointers are unsigned
    // The memory may have grown (and its old buffer been detached) in nt_alloc.
    new Uint8Array(this.memory.buffer, ptr, data.length).set(data);
    return [ptr, data.length];
  }

  output() {
    const { nt_out_ptr: ptr, nt_out_len: len } = this.exports;
    // A copy: TextDecoder refuses views of the threaded build's shared memory.
    return decoder.decode(new Uint8Array(this.memory.buffer, ptr() >>> 0, len() >>> 0).slice());
  }

  // A trap leaves the instance unusable: say what broke (the panic hook left it as output).
  call(f) {
    try {
      return f();
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) throw new Error(`the engine stopped: ${this.output() || e.message}`);
      throw e;
    }
  }

  // Room for a model.safetensors of `length` bytes inside the engine, so a download streams
  // straight there; returns { write(chunk, offset), view(offset, length) } (a view to read a
  // file into). The next load() takes it.
  image(length) {
    const ptr = this.exports.nt_image(length) >>> 0;
    if (ptr === 0) throw new Error(`the ${Math.round(length / 1e6)} MB of weights do not fit in this browser's WebAssembly memory`);
    const view = (offset, n) => new Uint8Array(this.memory.buffer, ptr + offset, n);
    return { view, write: (chunk, offset) => view(offset, chunk.length).set(chunk) };
  }

  // Loads a model from its config.json text and the image written since image(), storing the
  // matrices as dtype ('f32', 'f16' or 'bf16'); /api/model names `source` as where it came from.
  load(name, configText, { dtype = 'f32', source = 'site' } = {}) {
    const options = `{"name":${JSON.stringify(name)},"config":${configText},"dtype":"${dtype}","source":"${source}"}`;
    if (this.call(() => this.exports.nt_load(...this.put(options))) !== 0) throw new Error(this.output());
  }

  // load() from bytes already in hand.
  loadBytes(name, configText, weights, options) {
    this.image(weights.length).write(weights, 0);
    this.load(name, configText, options);
  }

  // bench.rs's report on the loaded model for these sizes.
  bench(sizes) {
    const args = this.put(JSON.stringify(sizes));
    if (this.call(() => this.exports.nt_bench(...args)) !== 0) throw new Error(this.output());
    return JSON.parse(this.output());
  }

  // The answer to one API request, as the server would give it: { status, data }. `body` is
  // a value to send as JSON, JSON text as it is, or undefined for a GET.
  request(path, body) {
    const status = this.call(() => this.exports.nt_request(...this.requestArgs(path, body)));
    return { status, data: JSON.parse(this.output()) };
  }

  // request(), with onLayer(block, blocks, rows) called before each layer of its passes (and
  // after the last): it answers 1 to abandon the pass (the request then answers 503
  // `cancelled`), else 0; or, where canPause, a promise of either, the call pausing meanwhile.
  // One call at a time: nothing else may enter the engine until this one has answered.
  async requestWatched(path, body, onLayer) {
    const args = this.requestArgs(path, body);
    Object.assign(this.watch, { onLayer, pausing: this.canPause });
    try {
      const status = this.pausable ? await this.pausable(...args) : this.exports.nt_request(...args);
      return { status, data: JSON.parse(this.output()) };
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) throw new Error(`the engine stopped: ${this.output() || e.message}`);
      throw e;
    } finally {
      Object.assign(this.watch, { onLayer: null, pausing: false, pause: null });
    }
  }

  requestArgs(path, body) {
    const method = body === undefined ? 'GET' : 'POST';
    const json = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    return [...this.put(method), ...this.put(path), ...this.put(json)];
  }
}

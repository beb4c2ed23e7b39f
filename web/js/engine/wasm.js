// The JavaScript side of crates/wasm: the engine's plain WebAssembly exports as two calls,
// load() and request(), with bytes and JSON crossing the boundary. Runs in a Web Worker (or
// Node.js for the parity tests); nothing here touches the page.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// What an instance imports: the clock, and the memory where the threaded build shares one.
export const imports = (memory) => ({ env: { nt_now: () => performance.now(), ...(memory && { memory }) } });

// Compiles and starts an engine from the .wasm's bytes (or a Response, streamed).
export async function instantiate(source) {
  const { instance } = source instanceof Response
    ? await WebAssembly.instantiateStreaming(source, imports())
    : await WebAssembly.instantiate(source, imports());
  return new Engine(instance.exports);
}

export class Engine {
  // `memory`: the instance's own, or the one the threaded build imports.
  constructor(exports, memory = exports.memory) {
    this.exports = exports;
    this.memory = memory;
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
  // straight there; returns write(chunk, offset). The next load() takes it.
  image(length) {
    const ptr = this.exports.nt_image(length) >>> 0;
    if (ptr === 0) throw new Error(`the ${Math.round(length / 1e6)} MB of weights do not fit in this browser's WebAssembly memory`);
    return (chunk, offset) => new Uint8Array(this.memory.buffer, ptr + offset, chunk.length).set(chunk);
  }

  // Loads a model from its config.json text and the image written since image(), storing the
  // matrices as dtype ('f32', 'f16' or 'bf16'); /api/model names `source` as where it came from.
  load(name, configText, { dtype = 'f32', source = 'site' } = {}) {
    const options = `{"name":${JSON.stringify(name)},"config":${configText},"dtype":"${dtype}","source":"${source}"}`;
    if (this.call(() => this.exports.nt_load(...this.put(options))) !== 0) throw new Error(this.output());
  }

  // load() from bytes already in hand.
  loadBytes(name, configText, weights, options) {
    this.image(weights.length)(weights, 0);
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
    const method = body === undefined ? 'GET' : 'POST';
    const json = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    const args = [...this.put(method), ...this.put(path), ...this.put(json)];
    const status = this.call(() => this.exports.nt_request(...args));
    return { status, data: JSON.parse(this.output()) };
  }
}

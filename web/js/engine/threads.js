// The engine on several threads, for pages that are cross-origin isolated: the build of
// crates/wasm with shared memory, one instance on this worker and one on each of `threads - 1`
// more Web Workers (thread.js), all on one WebAssembly.Memory. Rayon's pool in
// crates/wasm/src/threads.rs runs on them; this thread takes part while it waits for a pass.
import { Engine, Watch, imports } from './wasm.js';

// Each worker's stack: Rust's own default for WebAssembly's first thread.
const STACK = 1 << 20;

// Starts the threaded engine from the .wasm's Response; resolves to { engine, workers } once
// every thread runs. `workers` are ended with terminate() when the engine is replaced.
export async function startThreads(response, threads) {
  const bytes = await response.arrayBuffer();
  const module = await WebAssembly.compile(bytes);
  const memory = new WebAssembly.Memory({ ...memoryLimits(new Uint8Array(bytes)), shared: true });
  // One watch for the instance's imports and the engine: the pass runs on this thread (the
  // pool's first), so its layers report here.
  const watch = new Watch();
  const { exports } = await WebAssembly.instantiate(module, imports(memory, watch));
  const engine = new Engine(exports, memory, watch);
  const alloc = (size, align) => {
    const ptr = exports.nt_thread_alloc(size, align) >>> 0;
    if (ptr === 0) throw new Error('no memory is left for another thread');
    return ptr;
  };
  const threadLocals = () => alloc(exports.__tls_size.value, exports.__tls_align.value);
  // Thread-locals of its own for this thread too, before Rust code uses any: with shared
  // memory the linker leaves placing every thread's block to the program (allocating touches
  // none).
  exports.__wasm_init_tls(threadLocals());
  const workers = [];
  try {
    await Promise.all(Array.from({ length: threads - 1 }, () => {
      const worker = new Worker(new URL('./thread.js', import.meta.url), { type: 'module' });
      workers.push(worker);
      const stack = alloc(STACK, 16) + STACK; // stacks grow down from their top
      worker.postMessage({ module, memory, stack, tls: threadLocals() });
      return started(worker);
    }));
    if (engine.call(() => exports.nt_threads(threads)) !== 0) throw new Error(engine.output());
  } catch (err) {
    for (const worker of workers) worker.terminate();
    throw err;
  }
  return { engine, workers };
}

// Resolves once `worker` has its instance and is about to wait for its share of the work.
function started(worker) {
  return new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => (data.error ? reject(new Error(data.error)) : resolve());
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(event.message || 'a thread of the engine could not start'));
    };
  });
}

// The memory the module imports, { initial, maximum } in 64 KiB pages, read from its import
// section: the shared memory given to it must have these limits.
function memoryLimits(b) {
  let at = 8; // past the magic number and the version
  const leb = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = b[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  const skipName = () => {
    const length = leb(); // read first: `at += leb()` would add to the `at` before the read
    at += length;
  };
  while (at < b.length) {
    const [id, size] = [b[at++], leb()];
    const end = at + size;
    if (id === 2) {
      for (let n = leb(); n > 0; n -= 1) {
        skipName();
        skipName();
        const kind = b[at++];
        if (kind === 2) {
          const flags = b[at++];
          const initial = leb();
          return { initial, maximum: flags & 1 ? leb() : initial };
        }
        if (kind !== 0) throw new Error(`the threaded engine imports something other than functions and memory (kind ${kind})`);
        leb(); // a function's type
      }
    }
    at = end;
  }
  throw new Error('the threaded engine imports no memory');
}

// One more thread of the threaded engine (threads.js): an instance of its module on the shared
// memory, with the stack and thread-local block the first thread set aside for it, that runs
// its share of each forward pass (crates/wasm/src/threads.rs) for as long as the page lives.
import { imports } from './wasm.js';

self.onmessage = async ({ data: { module, memory, stack, tls } }) => {
  let exports;
  try {
    ({ exports } = await WebAssembly.instantiate(module, imports(memory)));
    // Before any Rust code runs here: a stack and thread-locals of its own, not the first
    // thread's, which every instance starts with.
    exports.__stack_pointer.value = stack;
    exports.__wasm_init_tls(tls);
  } catch (err) {
    self.postMessage({ error: `a thread of the engine could not start: ${err.message}` });
    return;
  }
  self.postMessage({ started: true });
  exports.nt_thread_run();
};

// The browser engine as the page runs it (a module Web Worker): load the model by streaming it
// into the engine, then time prefill and decoding (crates/wasm/src/bench.rs). `threads` 0 runs
// the one-thread build (../engine.wasm); 1 or more the build with shared memory
// (../engine-threads.wasm) on that many threads, which needs a cross-origin isolated page.
import { instantiate } from '../web/js/engine/wasm.js';
import { streamInto } from '../web/js/engine/stream.js';
import { startThreads } from '../web/js/engine/threads.js';

self.onmessage = async ({ data: { dtype, sizes, threads } }) => {
  try {
    const engine = threads > 0
      ? (await startThreads(await fetch('../engine-threads.wasm'), threads)).engine
      : await instantiate(await fetch('../engine.wasm'));
    const config = await (await fetch('../model/config.json')).text();
    const started = performance.now();
    // f16 narrowed as it streams in, as the site's Load GPT-2 does: the engine then uses the
    // f16 tensors in place, and the memory read below is the site's, not an f32 image's plus
    // the f16 copies made from it.
    await streamInto(engine, await fetch('../model/model.safetensors'), { narrow: dtype === 'f16' });
    engine.load('bench', config, { dtype });
    const load_ms = performance.now() - started;
    const report = engine.bench(sizes);
    const memory_mb = engine.memory.buffer.byteLength / 1e6;
    self.postMessage({ ...report, load_ms, memory_mb });
  } catch (e) {
    self.postMessage({ error: String(e?.message ?? e) });
  }
};

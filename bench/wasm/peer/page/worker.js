// transformers.js as a web developer would run GPT-2 with it: AutoModelForCausalLM on the
// WASM device (onnxruntime-web, served from this site), greedy `generate`. Timed as
// crates/wasm/src/bench.rs times nexttoken's engine: the same prompts, one warm-up, medians.
// - prefill: `generate` of one token after PREFILL tokens (one forward pass; transformers.js's
//   graph computes the logits of every position, nexttoken only the last one's);
// - decode: greedy steps after a PROMPT-token prompt, from the first new token to the last
//   (each step is one forward pass with the key/value cache, then the argmax).
import { AutoModelForCausalLM, Tensor, env } from '../tjs/transformers.js';

const site = new URL('../', import.meta.url).href;
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = `${site}models/`;
env.useBrowserCache = false;
env.useWasmCache = false;
env.backends.onnx.wasm.wasmPaths = {
  mjs: `${site}ort/ort-wasm-simd-threaded.asyncify.mjs`,
  wasm: `${site}ort/ort-wasm-simd-threaded.asyncify.wasm`,
};

// Token ids spread over the vocabulary: the formula of `nexttoken bench`.
const prompt = (n, vocab) => Array.from({ length: n }, (_, i) => (1000 + 7919 * i) % vocab);

const feed = (ids) => ({
  input_ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
  attention_mask: new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
});

async function prefill(model, ids) {
  const start = performance.now();
  await model.generate({ ...feed(ids), max_new_tokens: 1, do_sample: false });
  return performance.now() - start;
}

// Milliseconds for `steps` greedy steps after `ids` (the streamer sees the prompt, then each
// new token as it is chosen).
async function decode(model, ids, steps) {
  const seen = [];
  const streamer = { put: () => seen.push(performance.now()), end: () => {} };
  await model.generate({
    ...feed(ids), max_new_tokens: steps + 1, min_new_tokens: steps + 1, do_sample: false, streamer,
  });
  if (seen.length !== steps + 2) throw new Error(`generate produced ${seen.length - 2} tokens, not ${steps + 1}`);
  return seen[steps + 1] - seen[1];
}

// The logits of the last position of `ids`, for the check against nexttoken's.
async function lastLogits(model, ids) {
  const { logits } = await model(feed(ids)); // (1, T, V)
  const vocab = logits.dims[2];
  return Array.from(logits.data.subarray((ids.length - 1) * vocab, ids.length * vocab)); // (V,)
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

self.onmessage = async ({ data: { dtype, threads, check, sizes } }) => {
  try {
    if (threads > 1 && !self.crossOriginIsolated) throw new Error('more than one thread needs a cross-origin isolated page');
    env.backends.onnx.wasm.numThreads = threads;
    const started = performance.now();
    const model = await AutoModelForCausalLM.from_pretrained('gpt2', { dtype, device: 'wasm' });
    const load_ms = performance.now() - started;
    const vocab = model.config.vocab_size;
    const prefillIds = prompt(sizes.prefill_tokens, vocab);
    const decodeIds = prompt(sizes.prompt_tokens, vocab);
    await prefill(model, prefillIds);
    await decode(model, decodeIds, sizes.decode_tokens);
    const prefills = [];
    const decodes = [];
    for (let run = 0; run < sizes.runs; run += 1) {
      prefills.push(await prefill(model, prefillIds));
      decodes.push(await decode(model, decodeIds, sizes.decode_tokens));
    }
    self.postMessage({
      engine: 'transformers.js',
      version: env.version,
      onnxruntime_web: env.backends.onnx.versions?.web,
      dtype,
      threads,
      ...sizes,
      prefill_ms: median(prefills),
      decode_tok_s: sizes.decode_tokens / (median(decodes) / 1e3),
      load_ms,
      check_logits: check ? await lastLogits(model, check) : null,
    });
  } catch (e) {
    self.postMessage({ error: String(e?.stack ?? e?.message ?? e) });
  }
};

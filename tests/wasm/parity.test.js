// The browser engine (crates/wasm, run here in Node.js) against the native server on the same
// fixture model: the same requests must give the same JSON, every number within 1e-5, every
// token id, status and error equal. Needs NEXTTOKEN_WASM (the built .wasm) and NEXTTOKEN_BIN
// (the native nexttoken); run.sh sets both.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { instantiate } from '../../web/js/engine/wasm.js';
import { assertClose } from './lib/close.js';
import { start } from './lib/native.js';

const TOLERANCE = 1e-5;
// Attention weights go out rounded to 4 decimals (api/endpoints/attention.rs): a weight within
// 1e-5 of a rounding boundary may land one step (1e-4) apart.
const ROUNDED = 1e-4 + TOLERANCE;
const root = new URL('../../', import.meta.url).pathname;
const modelDir = `${root}fixtures/tiny-gpt2`;

let engine;
let native;

before(async () => {
  engine = await instantiate(readFileSync(process.env.NEXTTOKEN_WASM));
  engine.loadBytes('tiny-gpt2', readFileSync(`${modelDir}/config.json`, 'utf8'), readFileSync(`${modelDir}/model.safetensors`));
  native = await start(process.env.NEXTTOKEN_BIN, modelDir);
});

after(() => native?.close());

// Both engines answer; the status and body must agree. Labels that name where numbers come
// from (elapsed time, the model's name and source, the cache each keeps) are left out.
async function same(path, body, tolerance = TOLERANCE) {
  const want = await native.request(path, body);
  const got = engine.request(path, body);
  for (const answer of [want.data, got.data]) {
    delete answer.elapsed_ms;
    delete answer.name;
    delete answer.source;
    delete answer.limits?.cache_bytes;
  }
  assert.equal(got.status, want.status, `${path}: ${JSON.stringify(got.data)} vs ${JSON.stringify(want.data)}`);
  assertClose(got.data, want.data, '$', tolerance);
  return got.data;
}

const greedy = { greedy: true, temperature: 1, top_k: null, top_p: null };
const sampled = (temperature, top_k = null, top_p = null) => ({ greedy: false, temperature, top_k, top_p });
const PROMPT = 'Hello 🦀 world, and a longer prompt with more tokens in it';

describe('every endpoint gives the native answer', () => {
  test('traces: greedy, seeded sampling, top-k and top-p together', async () => {
    await same('/api/trace', { prompt: 'The capital of France is', steps: 6 });
    const a = await same('/api/trace', { prompt: 'Once upon a time', steps: 8, sampling: sampled(1.3), seed: 7 });
    await same('/api/trace', { prompt: PROMPT, steps: 5, sampling: sampled(0.7, 40, 0.9), seed: 3 });
    assert.ok(a.steps.length === 8 && a.resid_norms.length > 1 && a.embedding.tok_norms.length > 0);
  });

  test('stepping: seeded draws, a forced token, a branch and a step back', async () => {
    const { token_ids: prompt } = await same('/api/trace', { prompt: 'Once upon a time', steps: 0 });
    let tokens = prompt;
    for (let draw = 0; draw < 4; draw += 1) {
      const settings = { sampling: sampled(1.1, null, 0.95), seed: 11, top_n: 30 };
      tokens = (await same('/api/step', { tokens, draw, ...settings, force: draw === 2 ? 262 : null })).tokens;
    }
    await same('/api/step', { tokens: tokens.slice(0, -2), draw: 1, sampling: greedy });
    await same('/api/step', { tokens: [...prompt, 11], draw: 0, sampling: sampled(0.8), seed: 5 });
  });

  test('a slider reshapes the distribution exactly as natively', async () => {
    const { token_ids: tokens } = await same('/api/trace', { prompt: PROMPT, steps: 0 });
    for (const sampling of [greedy, sampled(0.3), sampled(2.5), sampled(1, 5), sampled(1, null, 0.5), sampled(0.7, 40, 0.9)]) {
      await same('/api/distribution', { tokens, sampling, top_n: 30 });
    }
  });

  test('tokenizer, surgery and comparisons', async () => {
    await same('/api/tokenize', { text: PROMPT });
    await same('/api/bpe', { text: PROMPT });
    await same('/api/vocab/lookup', { text: ' world' });
    await same('/api/vocab/lookup', { bytes: [240, 159] });
    await same('/api/vocab/31373');
    await same('/api/compare', { before: [15496, 995], after: [15496, 11, 995], top_n: 10 });
  });

  test('attention, thumbnails, head scores and the logit lens', async () => {
    const { token_ids: tokens } = await same('/api/trace', { prompt: PROMPT, steps: 0 });
    await same('/api/attention', { tokens, layer: 1, head: 0 }, ROUNDED);
    await same('/api/attention', { tokens, layer: 0, head: 1 }, ROUNDED);
    await same('/api/attention/overview', { tokens, layer: 1, size: 8 }, ROUNDED);
    await same('/api/heads', { tokens });
    await same('/api/lens', { tokens, position: 3, top: 5 });
    await same('/api/model');
  });

  test('the patching lab and surprisal', async () => {
    const ids = async (text) => (await same('/api/tokenize', { text })).tokens.map((t) => t.id);
    const clean = await ids('When Mary and John went to the store, John gave a drink to');
    const corrupted = await ids('When Mary and John went to the store, Mary gave a drink to');
    const pair = { clean, corrupted, answer: (await ids(' Mary'))[0], other: (await ids(' John'))[0] };
    await same('/api/pair', pair);
    // `restored` divides by clean − corrupted, here 0.087: a 1e-6 metric apart becomes ~1e-5.
    const RATIO = 1e-4;
    await same('/api/patch', { ...pair, sweep: 'resid' }, RATIO);
    await same('/api/patch', { ...pair, sweep: 'head_pos', layer: 1, direction: 'noise', rows: [1, 3] }, RATIO);
    await same('/api/patch', { ...pair, sweep: 'heads', rows: [0, 1] }, RATIO);
    await same('/api/patch', { ...pair, sweep: 'neurons' });
    await same('/api/pair', { ...pair, corrupted: corrupted.slice(1) });
    await same('/api/surprisal', { tokens: clean });
  });

  test('bad requests get the same status and the same error', async () => {
    await same('/api/trace', { prompt: 'x', sampling: sampled(-1) });
    await same('/api/trace', { prompt: 'x', steps: 1000 });
    await same('/api/trace', { prompt: '' });
    await same('/api/trace', { prompt: 'x', surprise: 1 });
    await same('/api/trace', '{"prompt": ');
    await same('/api/step', { tokens: [1, 99999999] });
    await same('/api/attention', { tokens: [1, 2], layer: 9, head: 0 });
    await same('/api/vocab/abc');
    await same('/api/nowhere', {});
    await same('/api/trace', { prompt: 'x'.repeat(70_000) });
    assert.equal(engine.request('/api/trace', { prompt: 'x' }).status, 200, 'and it keeps answering');
  });
});

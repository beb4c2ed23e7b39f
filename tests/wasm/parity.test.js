// The browser engine (crates/wasm, run here in Node.js) against the native one: the same
// requests must give the same JSON, every number within 1e-5 and every token id equal.
// Needs NEXTTOKEN_WASM (the built .wasm) and NEXTTOKEN_BIN (the native nexttoken); see run.sh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { instantiate } from '../../web/js/engine/wasm.js';

const TOLERANCE = 1e-5;
const root = new URL('../../', import.meta.url).pathname;
const modelDir = `${root}fixtures/tiny-gpt2`;
const wasmPath = process.env.NEXTTOKEN_WASM;
const bin = process.env.NEXTTOKEN_BIN;

const engine = await instantiate(readFileSync(wasmPath));
engine.loadBytes('tiny-gpt2', readFileSync(`${modelDir}/config.json`, 'utf8'), readFileSync(`${modelDir}/model.safetensors`));

// Walks two JSON values together: numbers within TOLERANCE, everything else equal.
export function assertClose(got, want, path = '$') {
  if (typeof want === 'number') {
    assert.equal(typeof got, 'number', `${path}: ${JSON.stringify(got)} is not a number`);
    assert.ok(Math.abs(got - want) <= TOLERANCE, `${path}: ${got} vs ${want}`);
  } else if (Array.isArray(want)) {
    assert.ok(Array.isArray(got), `${path} is not an array`);
    assert.equal(got.length, want.length, `${path}: length`);
    want.forEach((w, i) => assertClose(got[i], w, `${path}[${i}]`));
  } else if (want !== null && typeof want === 'object') {
    assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), `${path}: fields`);
    for (const key of Object.keys(want)) assertClose(got[key], want[key], `${path}.${key}`);
  } else {
    assert.equal(got, want, path);
  }
}

const nativeTrace = (prompt, flags) =>
  JSON.parse(execFileSync(bin, ['trace', '--json', '--model', modelDir, '--top', '30', ...flags, prompt]));

const cases = [
  { name: 'greedy', prompt: 'The capital of France is', flags: ['--steps', '6'], body: { steps: 6 } },
  {
    name: 'seeded sampling',
    prompt: 'Once upon a time',
    flags: ['--steps', '8', '--temperature', '1.3', '--seed', '7'],
    body: { steps: 8, sampling: { greedy: false, temperature: 1.3, top_k: null, top_p: null }, seed: 7 },
  },
  {
    name: 'top-k and top-p together',
    prompt: 'Hello 🦀 world, and a longer prompt with more tokens in it',
    flags: ['--steps', '5', '--temperature', '0.7', '--top-k', '40', '--top-p', '0.9', '--seed', '3'],
    body: { steps: 5, sampling: { greedy: false, temperature: 0.7, top_k: 40, top_p: 0.9 }, seed: 3 },
  },
];

for (const { name, prompt, flags, body } of cases) {
  test(`trace, ${name}: the browser engine gives the native numbers`, () => {
    const want = nativeTrace(prompt, flags);
    const { status, data: got } = engine.request('/api/trace', { prompt, top_n: 30, ...body });
    assert.equal(status, 200, JSON.stringify(got));
    // What the model is called and how long it took are labels, not results.
    for (const t of [got, want]) {
      delete t.elapsed_ms;
      delete t.model.name;
    }
    assertClose(got, want);
    assert.ok(got.steps.length > 0 && got.resid_norms.length > 1);
  });
}

test('a bad request gets the error shape, and the engine keeps answering', () => {
  const bad = engine.request('/api/trace', { prompt: 'x', sampling: { greedy: false, temperature: -1, top_k: null, top_p: null } });
  assert.equal(bad.status, 400);
  assert.match(bad.data.error.message, /temperature/);
  assert.equal(engine.request('/api/trace', { prompt: 'x' }).status, 200);
});

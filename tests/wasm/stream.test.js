// web/js/engine/stream.js: a model file streamed into the engine's memory chunk by chunk (from a
// byte stream through one reused buffer, or from a plain stream), written to the kept copy as
// it arrives, or read back from that copy, gives the same model as its bytes loaded whole; a
// file longer or shorter than announced is refused. Needs NEXTTOKEN_WASM (run.sh sets it).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { plan } from '../../web/js/engine/narrow.js';
import { readInto, streamInto } from '../../web/js/engine/stream.js';
import { instantiate } from '../../web/js/engine/wasm.js';

const root = new URL('../../', import.meta.url).pathname;
const config = readFileSync(`${root}fixtures/tiny-gpt2/config.json`, 'utf8');
const weights = new Uint8Array(readFileSync(`${root}fixtures/tiny-gpt2/model.safetensors`));
const wasm = readFileSync(process.env.NEXTTOKEN_WASM);
// Chunks of an odd size, so none lines up with a tensor or with the reader's buffer.
const PIECE = 99_991;
const BODY = { tokens: [464, 1893, 286], sampling: { temperature: 1, top_k: 0, top_p: 1 }, top_n: 30 };

let want;

before(async () => {
  const engine = await instantiate(wasm);
  engine.loadBytes('tiny-gpt2', config, weights);
  want = answer(engine);
  assert.equal(want.status, 200);
});

// The distribution after a few tokens, less the time it took.
function answer(engine) {
  const got = engine.request('/api/distribution', BODY);
  delete got.data.elapsed_ms;
  return got;
}

// Chunks handed out as new buffers rather than written into the reader's own.
let enqueued = 0;

// The bytes as a stream of PIECE-sized chunks: a byte stream (which a BYOB reader can fill) or
// a plain one.
function body(bytes, bytesType) {
  let at = 0;
  const pull = (controller) => {
    if (at >= bytes.length) {
      controller.close();
      return controller.byobRequest?.respond(0); // a reader's pending read ends with the stream
    }
    const chunk = bytes.slice(at, at + PIECE);
    at += chunk.length;
    if (bytesType && controller.byobRequest) {
      const view = controller.byobRequest.view;
      const n = Math.min(view.byteLength, chunk.length);
      view.set(chunk.subarray(0, n));
      at -= chunk.length - n;
      return controller.byobRequest.respond(n);
    }
    enqueued += 1;
    return controller.enqueue(chunk);
  };
  return new ReadableStream(bytesType ? { type: 'bytes', pull } : { pull });
}

const response = (bytes, { bytesType = true, length = bytes.length } = {}) => new Response(body(bytes, bytesType), {
  headers: length === null ? {} : { 'content-length': String(length) },
});

// What a kept copy (keep.js) records of the writes it was given.
function recorder() {
  const file = new Uint8Array(weights.length);
  return { file, write: (bytes, at) => file.set(bytes, at) };
}

async function loadedAnswer(fill) {
  const engine = await instantiate(wasm);
  const progress = [];
  await fill(engine, (loaded, total) => progress.push([loaded, total]));
  engine.load('tiny-gpt2', config);
  assert.ok(progress.length > 1, 'progress is reported as the bytes arrive');
  assert.deepEqual(progress.at(-1), [weights.length, weights.length]);
  assert.ok(progress.every(([loaded], i) => i === 0 || loaded > progress[i - 1][0]));
  return answer(engine);
}

describe('streamInto', () => {
  for (const bytesType of [true, false]) {
    test(`a ${bytesType ? 'byte' : 'plain'} stream loads the same model and writes the whole file to the copy`, async () => {
      const copy = recorder();
      enqueued = 0;
      const got = await loadedAnswer((engine, progress) => streamInto(engine, response(weights, { bytesType }), { copy, progress }));
      assert.deepEqual(got, want);
      assert.deepEqual(copy.file, weights);
      if (bytesType) assert.equal(enqueued, 0, 'a byte stream is read into the one buffer');
    });
  }

  test('without a length, the size the site listed sizes the image', async () => {
    const got = await loadedAnswer((engine, progress) => streamInto(engine, response(weights, { length: null }), { size: weights.length, progress }));
    assert.deepEqual(got, want);
  });

  test('a file longer or shorter than announced, or of no known length, is refused', async () => {
    const engine = await instantiate(wasm);
    const longer = response(weights, { length: weights.length - 1 });
    await assert.rejects(streamInto(engine, longer), /is longer than its announced/);
    const shorter = response(weights.subarray(0, 1000), { length: weights.length });
    await assert.rejects(streamInto(engine, shorter), /ended after 1000 of/);
    await assert.rejects(streamInto(engine, response(weights, { length: null })), /did not say how long it is/);
  });
});

describe('readInto', () => {
  test('a kept copy read in pieces loads the same model', async () => {
    const kept = { size: weights.length, read: (view, at) => { view.set(weights.subarray(at, at + view.length)); return view.length; } };
    assert.deepEqual(await loadedAnswer((engine, progress) => readInto(engine, kept, progress)), want);
  });

  test('a kept copy that reads short is refused', async () => {
    const kept = { size: weights.length, read: () => 0 };
    await assert.rejects(readInto(await instantiate(wasm), kept), /incomplete/);
  });
});

describe('plan (narrow.js)', () => {
  test('lays out the f32 file in f16: every tensor half as long, in order, 8-byte aligned', () => {
    assert.equal(plan(weights.subarray(0, 100)), null, 'not the whole header yet');
    const layout = plan(weights);
    assert.ok(layout.narrows);
    assert.equal(layout.length, weights.length);
    assert.equal(layout.header.length % 8, 0);
    let to = layout.header.length;
    for (const t of layout.tensors) {
      assert.equal(t.to, to);
      to += (t.end - t.begin) / 2;
    }
    assert.equal(layout.total, to);
    // The narrowed header read back: nothing is left to narrow, and it is as long.
    const again = plan(layout.header);
    assert.equal(again.narrows, false);
    assert.equal(again.header.length, layout.header.length);
  });
});

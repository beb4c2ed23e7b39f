// The live export served cross-origin isolated (COOP and COEP headers, as the README says to
// serve it): the page runs the threaded engine (engine/nexttoken-threads.wasm) on the cores
// the browser reports, and its answers are the one-thread engine's, bit for bit, and native's
// within the parity tolerance; a long prompt shows its layer and Cancel stops it between layers.
// Served without the headers (inbrowser.test.js) it runs on one.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertClose } from '../wasm/lib/close.js';
import { start } from '../wasm/lib/native.js';
import { launch } from './lib/browser.js';
import { byTestId, idle, runPrompt } from './lib/page.js';
import { ISOLATED, serveStatic } from './lib/static-server.js';
import { zeroGpt2 } from './lib/zero-model.js';

const DIR = process.env.NEXTTOKEN_LIVE_DIR;
const BIN = process.env.NEXTTOKEN_BIN;
if (!DIR || !BIN) throw new Error('NEXTTOKEN_LIVE_DIR and NEXTTOKEN_BIN are not set: run tests/browser/run.sh');
const PROMPT = 'The people of the United States have, in the course of a long history, learned that';
const sampled = { greedy: false, temperature: 1.2, top_k: 40, top_p: 0.95 };

// Requests long enough that every matrix product splits across threads (sotu-tiny's narrowest
// output has 128 columns, two blocks), and whose answers carry every kind of number.
const REQUESTS = [
  ['/api/trace', { prompt: PROMPT, steps: 6 }],
  ['/api/trace', { prompt: PROMPT, steps: 6, sampling: sampled, seed: 7 }],
  ['/api/step', { tokens: [464, 661, 286, 262, 1578, 1829, 423], draw: 2, sampling: sampled, seed: 3, top_n: 30, force: null }],
  ['/api/attention', { tokens: [464, 661, 286, 262, 1578, 1829, 423], layer: 3, head: 1 }],
  ['/api/lens', { tokens: [464, 661, 286, 262, 1578, 1829, 423], position: 5, top: 5 }],
  ['/api/surprisal', { tokens: [464, 661, 286, 262, 1578, 1829, 423] }],
];

let site;
let browser;
let page;

before(async () => {
  site = await serveStatic(DIR, { headers: ISOLATED });
  browser = await launch({ viewport: { width: 1280, height: 800 } });
  page = browser.page;
  await page.goto(site.url);
  await idle(page);
});

after(async () => {
  await browser?.close();
  await site?.close();
});

// Each engine of the site, started in the page as the page starts its own, with the site's
// starting model loaded: its answers to REQUESTS, without the time each took.
async function answers(threaded) {
  return page.evaluate(async ({ threaded, requests }) => {
    const { startEngine } = await import('/web/js/engine/client.js');
    const site = await (await fetch('models/models.json')).json();
    const engine = await startEngine(site.engine, threaded ? site.threads_engine : undefined);
    const m = site.models[site.start];
    const at = (file) => new URL(`${m.dir}${file}`, document.baseURI).href;
    // Read from the copy the page kept when it loaded the model: into shared memory, for the
    // threaded engine.
    const model = { name: m.name, config: at('config.json'), weights: at('model.safetensors'), dtype: m.dtype, source: m.source, bytes: m.bytes };
    const { config } = await engine.call('fetch', { model });
    await engine.call('load', { model, config });
    const out = [];
    for (const [path, body] of requests) {
      const { status, data } = await engine.call('request', { path, body });
      delete data.elapsed_ms;
      out.push({ status, data });
    }
    return { threads: engine.threads, out };
  }, { threaded, requests: REQUESTS });
}

describe('live export, cross-origin isolated', () => {
  test('the site ships the threaded engine and the page says it runs on more than one thread', async () => {
    const index = JSON.parse(readFileSync(join(DIR, 'models/models.json'), 'utf8'));
    assert.equal(index.threads_engine, 'engine/nexttoken-threads.wasm', 'export --live built no threaded engine');
    assert.equal(await page.evaluate(() => crossOriginIsolated), true);
    const label = await byTestId(page, 'mode-label').textContent();
    const threads = Number(label.match(/^live: computed in this browser, (\d+) threads$/)?.[1]);
    assert.ok(threads >= 2, `${label} (this machine's browser reports ${await page.evaluate(() => navigator.hardwareConcurrency)} cores)`);
    await runPrompt(page, PROMPT);
    assert.equal(await byTestId(page, 'candidate-row').count(), 30);
    assert.deepEqual(browser.log.pageErrors, []);
  });

  test('the threaded engine gives the one-thread engine\'s bits and native\'s numbers', async () => {
    const one = await answers(false);
    const many = await answers(true);
    const weights = `/models/${JSON.parse(readFileSync(join(DIR, 'models/models.json'), 'utf8')).start}/model.safetensors`;
    assert.equal(site.requests.filter((path) => path === weights).length, 1, 'both engines read the copy the page kept');
    assert.equal(one.threads, 1);
    assert.ok(many.threads >= 2, `the threaded engine started ${many.threads} thread(s)`);
    // serde_json writes each float in the fewest digits that read back as it: equal text is
    // equal bits.
    many.out.forEach((answer, i) => {
      assert.equal(answer.status, 200, `${REQUESTS[i][0]}: ${JSON.stringify(answer.data)}`);
      assert.equal(JSON.stringify(answer.data), JSON.stringify(one.out[i].data), `${REQUESTS[i][0]} (request ${i})`);
    });
    const native = await start(BIN, 'sotu-tiny');
    try {
      for (const [i, [path, body]] of REQUESTS.entries()) {
        const want = (await native.request(path, body)).data;
        for (const key of ['elapsed_ms', 'name', 'source']) delete want[key];
        const got = structuredClone(many.out[i].data);
        for (const key of ['name', 'source']) delete got[key];
        // Attention weights go out rounded to 4 decimals: one near a boundary may land 1e-4 apart.
        assertClose(got, want, path, path === '/api/attention' ? 1e-4 + 1e-5 : 1e-5);
      }
    } finally {
      native.close();
    }
  });
});

describe('live export, cross-origin isolated, a long prompt', () => {
  test('the threaded engine reports its layer, Cancel stops it between layers, and the next request runs', async () => {
    const fresh = await launch({ viewport: { width: 1280, height: 800 } });
    try {
      // Served as the site's GPT-2: 8 layers 256 wide take seconds over 1,000 tokens.
      const model = zeroGpt2({ layers: 8, width: 256, positions: 1024 });
      await fresh.context.route('**/models/gpt2/config.json', (route) => route.fulfill({ body: model.config, contentType: 'application/json' }));
      await fresh.context.route('**/models/gpt2/model.safetensors', (route) => route.fulfill({ body: model.weights }));
      await fresh.page.goto(site.url);
      await idle(fresh.page);

      // The engine's own answer says whether the pass stopped: cancelled at its first report,
      // a 1,000-token step answers 503 `cancelled`, not its candidates.
      const run = await fresh.page.evaluate(async () => {
        const { startEngine } = await import('/web/js/engine/client.js');
        const site = await (await fetch('models/models.json')).json();
        const engine = await startEngine(site.engine, site.threads_engine);
        const m = site.models.gpt2;
        const at = (file) => new URL(`${m.dir}${file}`, document.baseURI).href;
        const model = { name: m.name, config: at('config.json'), weights: at('model.safetensors'), dtype: m.dtype, source: m.source };
        const { config } = await engine.call('fetch', { model });
        await engine.call('load', { model, config });
        const step = (tokens) => ({ tokens, draw: 0, sampling: { greedy: true }, seed: 0, top_n: 30, force: null });
        const controller = new AbortController();
        const progress = [];
        const onProgress = (p) => {
          progress.push(p);
          controller.abort();
        };
        const long = await engine.call('request', { path: '/api/step', body: step(Array(1000).fill(1573)) }, onProgress, controller.signal);
        const next = await engine.call('request', { path: '/api/step', body: step([464, 661, 286]) });
        return { threads: engine.threads, progress, long, next: { status: next.status, candidates: next.data.step?.candidates?.length } };
      });
      assert.ok(run.threads >= 2, `the threaded engine started ${run.threads} thread(s)`);
      assert.ok(run.progress.length >= 1, 'no layer was reported');
      const [first] = run.progress;
      assert.equal(first.blocks, 8);
      assert.equal(first.rows, 1000);
      assert.ok(first.block < 8, `the first report came after the last layer (${JSON.stringify(first)})`);
      assert.equal(run.long.status, 503, JSON.stringify(run.long.data).slice(0, 200));
      assert.equal(run.long.data.error.code, 'cancelled');
      assert.deepEqual(run.next, { status: 200, candidates: 30 });

      // The page: its progress line names the layer, Cancel ends the request, the next one runs.
      assert.match(await byTestId(fresh.page, 'mode-label').textContent(), /, \d+ threads$/);
      await byTestId(fresh.page, 'load-model').click();
      await fresh.page.waitForFunction(() => document.getElementById('download').hidden, null, { timeout: 60_000 });
      await idle(fresh.page);
      await byTestId(fresh.page, 'prompt-input').fill(' word'.repeat(1000).trim());
      await byTestId(fresh.page, 'run-button').click();
      await fresh.page.waitForFunction(() => /layer \d of 8 \(1,000 tokens\)/.test(document.getElementById('busy-text').textContent), null, { timeout: 60_000 });
      await byTestId(fresh.page, 'busy-cancel').click();
      await fresh.page.waitForFunction(() => /cancelled\.$/.test(document.getElementById('busy-text').textContent), null, { timeout: 60_000 });
      assert.equal(await byTestId(fresh.page, 'busy-text').textContent(), 'Running the model on your prompt: cancelled.');
      await runPrompt(fresh.page, 'A short prompt after it');
      assert.equal(await byTestId(fresh.page, 'candidate-row').count(), 30);
      assert.deepEqual(fresh.log.pageErrors, []);
    } finally {
      await fresh.close();
    }
  });
});

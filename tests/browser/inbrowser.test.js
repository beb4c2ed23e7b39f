// The live export (`nexttoken export --live`, run.sh sets NEXTTOKEN_LIVE_DIR) served by a plain
// static file server, with no nexttoken server running: the engine computes in the page's Web
// Worker. Every number is checked against the native engine's answers on the same model,
// gathered before the page opens from a native server that is closed again.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { start } from '../wasm/lib/native.js';
import { DEFAULT_SAMPLING } from './lib/api.js';
import { launch, screenshot } from './lib/browser.js';
import {
  byTestId, candidates, generated, generatedIds, idle, pressTimes, runPrompt, waitForSampling,
} from './lib/page.js';
import { serveStatic } from './lib/static-server.js';
import { zeroGpt2 } from './lib/zero-model.js';

const DIR = process.env.NEXTTOKEN_LIVE_DIR;
const BIN = process.env.NEXTTOKEN_BIN;
if (!DIR || !BIN) throw new Error('NEXTTOKEN_LIVE_DIR and NEXTTOKEN_BIN are not set: run tests/browser/run.sh');
// The browser engine's numbers match native within this (tests/wasm holds every endpoint to it).
const TOLERANCE = 1e-5;
// Attention weights go out rounded to 4 decimals: one within 1e-5 of a boundary may differ by 1e-4.
const ROUNDED = 1e-4 + TOLERANCE;
const PROMPT = 'The people of the United States have';
const COOLER = { ...DEFAULT_SAMPLING, temperature: 0.5 };
const TOP_K = { ...COOLER, top_k: 5 };

// The native engine's answers for what the test does, on the site's starting model.
const want = {};
let site;
let browser;
let page;

before(async () => {
  const native = await start(BIN, 'sotu-tiny');
  try {
    const call = async (path, body) => (await native.request(path, body)).data;
    want.model = await call('/api/model');
    want.tokens = (await call('/api/tokenize', { text: PROMPT })).tokens;
    const ids = want.tokens.map((t) => t.id);
    want.ids = ids;
    want.trace = await call('/api/trace', { prompt: PROMPT, steps: 0 });
    for (const [key, sampling] of [['plain', DEFAULT_SAMPLING], ['cooler', COOLER], ['topK', TOP_K]]) {
      want[key] = await call('/api/distribution', { tokens: ids, sampling, top_n: 30 });
    }
    // Two seeded draws with the page's default settings (seed 0), as Step takes them.
    const step = (tokens, draw) => call('/api/step', { tokens, draw, sampling: DEFAULT_SAMPLING, seed: 0, top_n: 30, force: null });
    const first = (await step(ids, 0)).step.chosen.id;
    want.steps = [first, (await step([...ids, first], 1)).step.chosen.id];
    want.attention = await call('/api/attention', { tokens: ids, layer: 1, head: 2 });
  } finally {
    native.close();
  }
  site = await serveStatic(DIR);
  browser = await launch({ viewport: { width: 1280, height: 800 } });
  page = browser.page;
  await page.goto(site.url);
  await idle(page);
});

after(async () => {
  await browser?.close();
  await site?.close();
});

function assertClose(got, expected, what, tolerance = TOLERANCE) {
  assert.ok(Math.abs(got - expected) <= tolerance, `${what}: ${got} vs ${expected}`);
}

// The rows on screen are the native distribution: same ids in order, probabilities within 1e-5.
async function expectShown(expected) {
  const shown = await candidates(page);
  assert.deepEqual(shown.map((c) => c.id), expected.candidates.map((c) => c.id));
  shown.forEach((c, i) => {
    assertClose(c.prob, expected.candidates[i].prob, `candidate ${i} at temperature 1`);
    assertClose(c.sampleProb, expected.candidates[i].sample_prob, `candidate ${i} with the settings`);
  });
  return shown;
}

describe('live export, computed in the browser', () => {
  test('says the numbers are computed in this browser on one thread, by the shipped model', async () => {
    // A plain server sends no cross-origin isolation headers: no shared memory, one thread.
    assert.equal(await byTestId(page, 'mode-label').textContent(), 'live: computed in this browser, 1 thread');
    assert.match(await byTestId(page, 'model-name').textContent(), /^sotu-tiny \(4 blocks, 128 wide\)$/);
    assert.match(await page.locator('#about').textContent(), /inside this browser tab/);
    assert.ok(await byTestId(page, 'static-banner').isHidden());
    assert.ok(await byTestId(page, 'run-button').isEnabled());
  });

  test('an own prompt: the native tokens, residual norms and distribution', async () => {
    await runPrompt(page, PROMPT);
    const chips = await byTestId(page, 'token-chip').allTextContents();
    assert.deepEqual(chips, want.tokens.map((t) => `${t.display}${t.id}`));
    assert.equal(await byTestId(page, 'layer-strip').count(), want.model.n_layer + 1);
    const lastRow = await byTestId(page, 'layer-strip').last().locator('.hm-cell')
      .evaluateAll((cells) => cells.map((c) => Number(c.title.split(': ').at(-1))));
    lastRow.forEach((shown, pos) => {
      const native = want.trace.resid_norms.at(-1)[pos];
      assert.ok(Math.abs(shown - native) <= 0.01 * Math.max(1, native), `position ${pos}: ${shown} vs ${native}`);
    });
    await expectShown(want.plain);
  });

  test('the sliders give exactly the native /api/distribution', async () => {
    await runPrompt(page, PROMPT);
    await pressTimes(byTestId(page, 'temperature-slider'), 'ArrowLeft', 10);
    await waitForSampling(page, COOLER);
    await expectShown(want.cooler);
    await pressTimes(byTestId(page, 'top-k-slider'), 'ArrowRight', 5);
    await waitForSampling(page, TOP_K);
    const shown = await expectShown(want.topK);
    assert.deepEqual(shown.map((c) => c.cut), shown.map((_, rank) => rank >= 5));
    await pressTimes(byTestId(page, 'top-k-slider'), 'ArrowLeft', 5);
    await pressTimes(byTestId(page, 'temperature-slider'), 'ArrowRight', 10);
    await waitForSampling(page, DEFAULT_SAMPLING);
  });

  test('Step draws the native seeded tokens, Back removes one, a clicked candidate branches', async () => {
    await runPrompt(page, PROMPT);
    for (let i = 0; i < 2; i += 1) {
      await byTestId(page, 'step-button').click();
      await idle(page);
    }
    assert.deepEqual(await generatedIds(page), want.steps);
    await byTestId(page, 'back-button').click();
    await idle(page);
    assert.deepEqual(await generatedIds(page), want.steps.slice(0, 1));
    await byTestId(page, 'timeline-step').first().click();
    await idle(page);
    const other = page.locator('[data-testid="candidate-row"]:not([aria-current])').nth(3);
    const otherId = Number(await other.getAttribute('data-id'));
    await other.click();
    await idle(page);
    assert.deepEqual(await generatedIds(page), [otherId]);
  });

  test('every view works: surgery, attention as native, the logit lens, the patch lab', async () => {
    await runPrompt(page, PROMPT);
    await byTestId(page, 'tab-surgery').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="kl-value"]')?.dataset.nats === '0');
    await byTestId(page, 'tab-attention').click();
    await byTestId(page, 'attn-layer').selectOption('1');
    await byTestId(page, 'attn-head').selectOption('2');
    const selector = '[data-testid="attn-heatmap"][data-layer="1"][data-head="2"]';
    await page.waitForSelector(selector);
    const cells = await page.locator(selector).evaluate((canvas) => canvas.cells);
    want.attention.pattern.forEach((row, q) => row.forEach((w, k) => assertClose(cells[q][k], w, `weight ${q},${k}`, ROUNDED)));
    await byTestId(page, 'tab-lens').click();
    await page.waitForSelector('[data-testid="lens-row"]');
    assert.equal(await byTestId(page, 'lens-row').count(), want.model.n_layer + 1);
    await byTestId(page, 'tab-patch').click();
    await byTestId(page, 'patch-clean').fill('The people of the United States');
    await byTestId(page, 'patch-corrupted').fill('The people of the United Kingdom');
    await byTestId(page, 'patch-compare').click();
    await page.waitForSelector('[data-testid="patch-metric"]');
    assert.match(await byTestId(page, 'view-patch').textContent(), /KL\(clean ‖ corrupted\) = [\d.]+ nats/);
    await byTestId(page, 'tab-pipeline').click();
  });

  test('a copied link reopens the same steps in a fresh page', async () => {
    await runPrompt(page, PROMPT);
    for (let i = 0; i < 2; i += 1) {
      await byTestId(page, 'step-button').click();
      await idle(page);
    }
    await byTestId(page, 'copy-link').click();
    const link = await byTestId(page, 'share-link').inputValue();
    const other = await browser.context.newPage();
    await other.goto(link);
    await other.waitForFunction((n) => document.querySelectorAll('#generated [data-id]').length === n, want.steps.length);
    assert.deepEqual(await generatedIds(other), want.steps);
    assert.equal(await generated(other), await generated(page));
    await other.close();
  });

  test('screenshots at 1280×800 and 390×844', async () => {
    await runPrompt(page, PROMPT);
    await byTestId(page, 'step-button').click();
    await idle(page);
    await screenshot(page, 'inbrowser-1280.png');
    await page.setViewportSize({ width: 390, height: 844 });
    await idle(page);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `the page is ${width}px wide at 390px`);
    await screenshot(page, 'inbrowser-390.png');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  test('"Load GPT-2" fetches the site\'s copy once, switches to it, and keeps it for the next visit', async () => {
    const weights = '/models/gpt2/model.safetensors';
    const fetched = () => site.requests.filter((path) => path === weights).length;
    assert.match(await byTestId(page, 'download').textContent(), /to download, then kept in this browser/);
    // Held back a moment, so the progress line is on screen while it downloads.
    const slow = async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return route.continue();
    };
    await browser.context.route(`**${weights}`, slow);
    await byTestId(page, 'load-model').click();
    await page.waitForSelector('#download progress');
    assert.match(await byTestId(page, 'download').textContent(), /tiny-gpt2 is downloading: model\.safetensors, [\d.]+ (of [\d.]+ )?MB $/);
    await page.waitForFunction(() => /^tiny-gpt2 /.test(document.getElementById('model-name').textContent), null, { timeout: 30_000 });
    await idle(page);
    await browser.context.unroute(`**${weights}`, slow);
    assert.equal(fetched(), 1);
    assert.ok(await byTestId(page, 'download').isHidden());
    assert.match(await page.locator('#about').textContent(), /downloaded from this site and kept in this browser/);
    assert.equal(await byTestId(page, 'candidate-row').count(), 30);
    // The origin private file system holds the whole file once the download has been written
    // there, and no part of one.
    const bytes = statSync(join(DIR, weights)).size;
    await page.waitForFunction(async (size) => {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('nexttoken-models-v1');
      const files = [];
      for await (const [name, file] of dir.entries()) files.push({ name, size: (await file.getFile()).size });
      return files.some((f) => f.size === size) && !files.some((f) => f.name.endsWith('.part'));
    }, bytes);
    // A copy in the Cache API, as versions before the file store kept it: the next visit
    // deletes it.
    await page.evaluate(async (url) => {
      await (await caches.open('nexttoken-models-v1')).put(url, new Response('an old copy'));
    }, weights);

    await page.reload();
    await idle(page);
    await page.waitForFunction(async () => !(await caches.has('nexttoken-models-v1')));
    assert.match(await byTestId(page, 'download').textContent(), /kept in this browser.*\(no download\)/);
    await byTestId(page, 'load-model').click();
    await page.waitForFunction(() => /^tiny-gpt2 /.test(document.getElementById('model-name').textContent), null, { timeout: 30_000 });
    await idle(page);
    assert.equal(fetched(), 1, 'the second visit read GPT-2 from the copy kept in this browser, not the site');
  });

  test('no request left the site, none went to a server API, no console errors', async () => {
    assert.deepEqual(site.requests.filter((path) => path.startsWith('/api')), []);
    const origin = new URL(site.url).origin;
    assert.deepEqual(browser.log.requests.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:')), []);
    assert.deepEqual(browser.log.pageErrors, []);
    assert.deepEqual(browser.log.consoleErrors, []);
  });
});

describe('live export, GPT-2 unreachable', () => {
  test('says neither source answered, and Try again loads it once one does', async () => {
    const fresh = await launch();
    try {
      const tried = [];
      const unreachable = (url) => url.pathname.startsWith('/models/gpt2/') || url.hostname.endsWith('huggingface.co');
      await fresh.context.route(unreachable, (route) => {
        tried.push(new URL(route.request().url()).host);
        return route.abort('internetdisconnected');
      });
      await fresh.page.goto(site.url);
      await idle(fresh.page);
      await byTestId(fresh.page, 'load-model').click();
      const box = byTestId(fresh.page, 'download');
      await fresh.page.waitForFunction(() => /could not be downloaded/.test(document.getElementById('download').textContent));
      assert.match(await box.textContent(), /neither this site nor huggingface\.co answered/);
      // The site's copy first, then the hub.
      assert.deepEqual([...new Set(tried)], [new URL(site.url).host, 'huggingface.co']);
      assert.match(await byTestId(fresh.page, 'mode-label').textContent(), /computed in this browser/);
      assert.equal(await byTestId(fresh.page, 'candidate-row').count(), 30, 'sotu-tiny still answers');

      await fresh.context.unroute(unreachable);
      await byTestId(fresh.page, 'load-model').click();
      await fresh.page.waitForFunction(() => /^tiny-gpt2 /.test(document.getElementById('model-name').textContent));
      assert.deepEqual(fresh.log.pageErrors, []);
    } finally {
      await fresh.close();
    }
  });
});

describe('live export, a long prompt', () => {
  test('reports the layer it is at, and Cancel stops the engine between layers; the page goes on', async () => {
    const fresh = await launch({ viewport: { width: 1280, height: 800 } });
    try {
      // Served as the site's GPT-2: 8 layers 256 wide read 1,000 tokens in seconds.
      const model = zeroGpt2({ layers: 8, width: 256, positions: 1024 });
      await fresh.context.route('**/models/gpt2/config.json', (route) => route.fulfill({ body: model.config, contentType: 'application/json' }));
      await fresh.context.route('**/models/gpt2/model.safetensors', (route) => route.fulfill({ body: model.weights }));
      await fresh.page.goto(site.url);
      await idle(fresh.page);
      await byTestId(fresh.page, 'load-model').click();
      await fresh.page.waitForFunction(() => document.getElementById('download').hidden, null, { timeout: 60_000 });
      await idle(fresh.page);

      // At each width: progress through the layers, then Cancel.
      const busy = byTestId(fresh.page, 'busy-text');
      for (const [width, height] of [[1280, 800], [390, 844]]) {
        await fresh.page.setViewportSize({ width, height });
        await byTestId(fresh.page, 'prompt-input').fill(' word'.repeat(1000).trim());
        await byTestId(fresh.page, 'run-button').click();
        await fresh.page.waitForFunction(() => /layer \d of 8 \(1,000 tokens\)/.test(document.getElementById('busy-text').textContent), null, { timeout: 60_000 });
        await screenshot(fresh.page, `inbrowser-long-${width}.png`);
        await byTestId(fresh.page, 'busy-cancel').click();
        await fresh.page.waitForFunction(() => /cancelled\.$/.test(document.getElementById('busy-text').textContent), null, { timeout: 60_000 });
        assert.equal(await busy.textContent(), 'Running the model on your prompt: cancelled.');
      }

      // The next prompt runs as usual.
      await runPrompt(fresh.page, 'A short prompt after it');
      assert.equal(await byTestId(fresh.page, 'candidate-row').count(), 30);
      assert.deepEqual(fresh.log.pageErrors, []);
    } finally {
      await fresh.close();
    }
  });
});

describe('live export, GPT-2 from the hub', () => {
  const fixture = new URL('../../fixtures/tiny-gpt2/', import.meta.url).pathname;

  test('an f32 file narrowed to f16 as it streams in is, bit for bit, the model the engine narrows itself', async () => {
    const fresh = await launch();
    try {
      await fresh.page.goto(site.url);
      const got = await fresh.page.evaluate(async () => {
        const { instantiate } = await import('/web/js/engine/wasm.js');
        const { streamInto } = await import('/web/js/engine/stream.js');
        const index = await (await fetch('models/models.json')).json();
        const m = index.models[index.start]; // f32
        const config = await (await fetch(`${m.dir}config.json`)).text();
        const wasm = await (await fetch(index.engine)).arrayBuffer();
        const body = { tokens: [464, 661, 286, 262, 1578, 1829], sampling: { temperature: 1, top_k: 0, top_p: 1 }, top_n: 30 };
        const answer = (engine) => {
          const { data } = engine.request('/api/distribution', body);
          delete data.elapsed_ms;
          return JSON.stringify(data);
        };
        const file = new Uint8Array(await (await fetch(`${m.dir}model.safetensors`)).arrayBuffer());
        // In chunks of an odd size, so values straddle them (a network's chunks may).
        let at = 0;
        const oddly = new ReadableStream({
          pull(controller) {
            if (at >= file.length) return controller.close();
            controller.enqueue(file.slice(at, at + 99_991));
            at += 99_991;
            return undefined;
          },
        });
        const streamed = await instantiate(wasm);
        await streamInto(streamed, new Response(oddly), { narrow: true, size: file.length });
        streamed.load(m.name, config, { dtype: 'f16' });
        const whole = await instantiate(wasm);
        whole.loadBytes(m.name, config, file, { dtype: 'f16' });
        return [answer(streamed), answer(whole)];
      });
      // serde_json writes each float in the fewest digits that read back as it: equal text is
      // equal bits.
      assert.equal(got[0], got[1]);
      assert.match(got[0], /"candidates"/);
    } finally {
      await fresh.close();
    }
  });

  test('where the site has no copy, the hub\'s f32 file arrives as f16 and is kept so', async () => {
    const fresh = await launch();
    try {
      const hub = [];
      await fresh.context.route((url) => url.pathname.startsWith('/models/gpt2/'), (route) => route.abort('internetdisconnected'));
      await fresh.context.route((url) => url.hostname === 'huggingface.co', (route) => {
        const file = new URL(route.request().url()).pathname.split('/').at(-1);
        hub.push(file);
        return route.fulfill({ path: `${fixture}${file}`, headers: { 'access-control-allow-origin': '*' } });
      });
      await fresh.page.goto(site.url);
      await idle(fresh.page);
      await byTestId(fresh.page, 'load-model').click();
      await fresh.page.waitForFunction(() => document.getElementById('download').hidden, null, { timeout: 60_000 });
      await idle(fresh.page);
      assert.match(await fresh.page.locator('#about').textContent(), /downloaded from the Hugging Face hub and kept in this browser/);
      assert.equal(await byTestId(fresh.page, 'candidate-row').count(), 30);
      const f32 = statSync(`${fixture}model.safetensors`).size;
      const kept = await fresh.page.evaluate(async () => {
        const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('nexttoken-models-v1');
        const sizes = [];
        for await (const [, file] of dir.entries()) sizes.push((await file.getFile()).size);
        return sizes;
      });
      // The kept weights are the f16 file: about half the f32 download (plus a header).
      assert.ok(kept.some((size) => size > f32 * 0.45 && size < f32 * 0.55), `kept files of ${kept} bytes (f32: ${f32})`);

      await fresh.page.reload();
      await idle(fresh.page);
      await byTestId(fresh.page, 'load-model').click();
      await fresh.page.waitForFunction(() => document.getElementById('download').hidden, null, { timeout: 60_000 });
      await idle(fresh.page);
      assert.equal(await byTestId(fresh.page, 'candidate-row').count(), 30);
      assert.deepEqual(hub.filter((file) => file === 'model.safetensors'), ['model.safetensors'], 'the second visit read the kept copy');
      assert.deepEqual(fresh.log.pageErrors, []);
    } finally {
      await fresh.close();
    }
  });
});

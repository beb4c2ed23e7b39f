// The exported site (run.sh runs `nexttoken export` and sets NEXTTOKEN_EXPORT_DIR), served by a
// plain static server: the page must replay the recording and never ask for /api.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launch, screenshot } from './lib/browser.js';
import { byTestId, candidates, generated, generatedIds, idle, pct, pressTimes } from './lib/page.js';
import { serveStatic } from './lib/static-server.js';

const DIR = process.env.NEXTTOKEN_EXPORT_DIR;
if (!DIR) throw new Error('NEXTTOKEN_EXPORT_DIR is not set: run tests/browser/run.sh');

let site;
let browser;
let page;
let curated;

before(async () => {
  curated = JSON.parse(await readFile(join(DIR, 'data', 'curated.json'), 'utf8'));
  site = await serveStatic(DIR);
  browser = await launch();
  page = browser.page;
  await page.goto(site.url);
  await idle(page);
});

after(async () => {
  await browser?.close();
  await site?.close();
});

async function pickPrompt(index) {
  await byTestId(page, 'example-prompt').nth(index).click();
  await page.waitForFunction((t) => document.getElementById('tokens').dataset.prompt === t, curated.prompts[index].prompt);
  await idle(page);
}

async function step() {
  await byTestId(page, 'step-button').click();
  await idle(page);
}

describe('static export', () => {
  test('says it is a recording and that a new prompt needs the server', async () => {
    assert.ok(await byTestId(page, 'static-banner').isVisible());
    assert.match(await byTestId(page, 'static-banner').textContent(), /new prompt needs the server/);
    assert.match(await byTestId(page, 'mode-label').textContent(), /recorded/);
    assert.ok(await byTestId(page, 'run-button').isDisabled());
    assert.equal(await byTestId(page, 'example-prompt').count(), curated.prompts.length);
  });

  test('a recorded prompt shows every stage from the recording', async () => {
    await pickPrompt(1);
    const run = curated.prompts[1];
    assert.equal(await byTestId(page, 'token-chip').count(), run.token_ids.length);
    assert.equal(await byTestId(page, 'layer-strip').count(), curated.model.n_layer + 1);
    const shown = await candidates(page);
    assert.equal(shown.length, 30);
    // Temperature-1 probabilities are exact: exp(logit - lse) of the recorded logits.
    run.steps[0].candidates.forEach(([id, logit], i) => {
      assert.equal(shown[i].id, id);
      assert.ok(Math.abs(shown[i].prob - Math.exp(logit - run.steps[0].lse)) < 1e-12);
    });
  });

  test('Step replays the recorded tokens to the end, Back rewinds', async () => {
    await pickPrompt(1);
    const run = curated.prompts[1];
    for (let i = 0; i < run.steps.length; i += 1) await step();
    assert.deepEqual(await generatedIds(page), run.steps.map((s) => s.chosen.id));
    assert.equal(await generated(page), run.steps.map((s) => s.chosen.text).join(''));
    // The recorded tokens flow through the stages with their recorded columns.
    assert.equal(await byTestId(page, 'token-chip').count(), run.token_ids.length + run.steps.length);
    // The strip shows a window that ends at the newest token: cells are found by position.
    const lastRow = Object.fromEntries(await byTestId(page, 'layer-strip').last().locator('.hm-cell')
      .evaluateAll((cells) => cells.map((c) => [c.dataset.col, c.title])));
    run.steps.forEach((s, k) => {
      const shown = Number(lastRow[run.token_ids.length + k].split(': ').at(-1));
      const want = s.resid_norms.at(-1)[0];
      assert.ok(Math.abs(shown - want) <= 0.01 * Math.max(1, want), `generated ${k}: ${shown} vs ${want}`);
    });
    assert.ok(await byTestId(page, 'step-button').isDisabled());
    await byTestId(page, 'back-button').click();
    await idle(page);
    assert.equal((await generatedIds(page)).length, run.steps.length - 1);
  });

  test('sliders reshape the recorded candidates, labelled approximate', async () => {
    await pickPrompt(0);
    assert.ok(await page.locator('#sampling-approx').isVisible());
    await pressTimes(byTestId(page, 'temperature-slider'), 'ArrowLeft', 10);
    await pressTimes(byTestId(page, 'top-k-slider'), 'ArrowRight', 3);
    await page.waitForFunction(() => JSON.parse(document.getElementById('candidates').dataset.key).top_k === 3
      && document.body.dataset.state === 'idle');
    const shown = await candidates(page);
    assert.deepEqual(shown.map((c) => c.cut), shown.map((_, rank) => rank >= 3));
    const kept = shown.slice(0, 3).reduce((sum, c) => sum + c.sampleProb, 0);
    assert.ok(Math.abs(kept - 1) < 1e-9);
    shown.forEach((c) => assert.equal(c.shown, pct(c.sampleProb)));
  });

  test('taking a different token says it needs the server', async () => {
    await pickPrompt(0);
    await byTestId(page, 'candidate-row').nth(5).click();
    await idle(page);
    assert.match(await byTestId(page, 'error').textContent(), /needs the server/);
    assert.equal(await generated(page), '');
  });

  test('screenshots at 1280 and 390 px', async () => {
    await pickPrompt(2);
    await step();
    await step();
    await screenshot(page, 'static-1280.png');
    await page.setViewportSize({ width: 390, height: 844 });
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `the page is ${width}px wide at 390px`);
    await screenshot(page, 'static-390.png');
  });

  test('no /api request, no other host, no console errors', async () => {
    assert.deepEqual(site.requests.filter((path) => path.startsWith('/api')), []);
    const origin = new URL(site.url).origin;
    assert.deepEqual(browser.log.requests.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:')), []);
    assert.deepEqual(browser.log.pageErrors, []);
    assert.deepEqual(browser.log.consoleErrors, []);
  });
});

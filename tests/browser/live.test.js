// The page against the real server (run.sh starts it on a tiny random model and sets
// NEXTTOKEN_URL). Every value the page shows is checked against what the API answers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { apiClient, DEFAULT_SAMPLING } from './lib/api.js';
import { launch, screenshot } from './lib/browser.js';
import {
  byTestId, candidates, generated, generatedIds, idle, pct, pressTimes, runPrompt, waitForSampling,
} from './lib/page.js';

const BASE = process.env.NEXTTOKEN_URL;
if (!BASE) throw new Error('NEXTTOKEN_URL is not set: run tests/browser/run.sh');
const api = apiClient(BASE);
const PROMPT = 'The quick brown fox jumps over the lazy';

let browser;
let page;
let model;

before(async () => {
  model = await api.model();
  browser = await launch();
  page = browser.page;
  await page.goto(BASE);
  await idle(page);
});

after(async () => {
  await browser?.close();
});

describe('live page', () => {
  test('a prompt runs through every stage', async () => {
    await runPrompt(page, PROMPT);
    const { tokens } = await api.tokenize(PROMPT);
    const chips = byTestId(page, 'token-chip');
    assert.equal(await chips.count(), tokens.length);
    const chipTexts = await chips.allTextContents();
    tokens.forEach((t, i) => assert.equal(chipTexts[i], `${t.display}${t.id}`));
    const strips = byTestId(page, 'layer-strip');
    assert.equal(await strips.count(), model.n_layer + 1);
    for (const strip of await strips.all()) assert.equal(await strip.locator('.hm-cell').count(), tokens.length);
    assert.equal(await byTestId(page, 'candidate-row').count(), 30);
    for (const row of await candidates(page)) assert.match(row.text, /\d+(\.\d+)?(e-\d+)?%/);
    assert.equal(await generated(page), '');
    assert.match(await byTestId(page, 'model-name').textContent(), new RegExp(model.name));
    assert.match(await byTestId(page, 'mode-label').textContent(), /live/);
    assert.match(await byTestId(page, 'timing').textContent(), /ms/);
  });

  test('the candidates shown are the server’s distribution for the slider settings', async () => {
    await runPrompt(page, PROMPT);
    const ids = (await api.tokenize(PROMPT)).tokens.map((t) => t.id);
    const before = await candidates(page);
    await pressTimes(byTestId(page, 'temperature-slider'), 'ArrowLeft', 10);
    const cooler = { ...DEFAULT_SAMPLING, temperature: 0.5 };
    await waitForSampling(page, cooler);
    await expectShown(await api.distribution(ids, cooler));
    assert.notDeepEqual((await candidates(page)).map((c) => c.sampleProb), before.map((c) => c.sampleProb));

    await pressTimes(byTestId(page, 'top-k-slider'), 'ArrowRight', 5);
    const topK = { ...cooler, top_k: 5 };
    await waitForSampling(page, topK);
    const shown = await expectShown(await api.distribution(ids, topK));
    assert.deepEqual(shown.map((c) => c.cut), shown.map((_, rank) => rank >= 5));

    await pressTimes(byTestId(page, 'top-p-slider'), 'ArrowLeft', 99);
    const nucleus = { ...topK, top_p: 0.05 };
    await waitForSampling(page, nucleus);
    await expectShown(await api.distribution(ids, nucleus));

    await byTestId(page, 'greedy-toggle').check();
    const greedy = { ...nucleus, greedy: true };
    await waitForSampling(page, greedy);
    const greedyShown = await expectShown(await api.distribution(ids, greedy));
    assert.equal(greedyShown[0].shown, '100.00%');
    await resetSliders();
  });

  test('Step appends the server’s token, Back removes it, a clicked candidate is taken', async () => {
    await runPrompt(page, PROMPT);
    const ids = (await api.tokenize(PROMPT)).tokens.map((t) => t.id);
    await byTestId(page, 'step-button').click();
    await idle(page);
    const expected = await api.step(ids, 0, DEFAULT_SAMPLING, 0);
    assert.equal(await generated(page), expected.step.chosen.text);
    assert.deepEqual(await generatedIds(page), [expected.step.chosen.id]);

    await byTestId(page, 'back-button').click();
    await idle(page);
    assert.equal(await generated(page), '');

    const third = byTestId(page, 'candidate-row').nth(2);
    const id = Number(await third.getAttribute('data-id'));
    const { candidates: dist } = await api.distribution(ids, DEFAULT_SAMPLING);
    await third.click();
    await idle(page);
    assert.ok((await generated(page)).endsWith(dist[2].text));
    assert.deepEqual(await generatedIds(page), [id]);
  });

  test('a past step stays revisitable and branches from there', async () => {
    await runPrompt(page, PROMPT);
    for (let i = 0; i < 3; i += 1) {
      await byTestId(page, 'step-button').click();
      await idle(page);
    }
    assert.equal((await generatedIds(page)).length, 3);
    const steps = byTestId(page, 'timeline-step');
    assert.equal(await steps.count(), 4); // three taken and the next one
    await steps.first().click();
    await idle(page);
    // A sampled token may rank below the 30 listed; when it is listed, it is the one marked.
    const firstId = (await generatedIds(page))[0];
    const marked = await page.locator('[data-testid="candidate-row"][aria-current="true"]')
      .evaluateAll((rows) => rows.map((row) => Number(row.dataset.id)));
    const listed = (await candidates(page)).some((c) => c.id === firstId);
    assert.deepEqual(marked, listed ? [firstId] : []);
    assert.match(await byTestId(page, 'view-label').textContent(), /^Step 1: the model picked/);
    const other = page.locator('[data-testid="candidate-row"]:not([aria-current])').nth(3);
    const otherId = Number(await other.getAttribute('data-id'));
    await other.click();
    await idle(page);
    assert.deepEqual(await generatedIds(page), [otherId]);
  });

  test('Play keeps stepping until paused', async () => {
    await runPrompt(page, PROMPT);
    await byTestId(page, 'play-button').click();
    await page.waitForFunction(() => document.querySelectorAll('#generated [data-id]').length >= 3);
    await byTestId(page, 'play-button').click();
    await idle(page);
    const count = (await generatedIds(page)).length;
    await page.waitForTimeout(800);
    assert.equal((await generatedIds(page)).length, count);
    assert.equal(await byTestId(page, 'play-button').textContent(), 'Play');
  });

  test('the keyboard reaches every control: Tab to Run and Enter runs', async () => {
    await page.reload();
    await idle(page);
    const prompt = 'Keyboard users can run this';
    await byTestId(page, 'prompt-input').fill(prompt);
    await byTestId(page, 'prompt-input').focus();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'run-button');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, 'none');
    await page.keyboard.press('Enter');
    await page.waitForFunction((t) => document.getElementById('tokens').dataset.prompt === t, prompt);
    await idle(page);
    await byTestId(page, 'step-button').click();
    await idle(page);

    const reached = new Set();
    await page.evaluate(() => document.activeElement.blur());
    for (let i = 0; i < 120; i += 1) {
      await page.keyboard.press('Tab');
      reached.add(await page.evaluate(() => document.activeElement.dataset.testid ?? document.activeElement.id));
    }
    for (const id of ['prompt-input', 'run-button', 'example-prompt', 'candidate-row', 'temperature-slider',
      'top-p-slider', 'top-k-slider', 'greedy-toggle', 'seed-input', 'step-button', 'back-button', 'play-button',
      'timeline-step']) {
      assert.ok(reached.has(id), `Tab never reached ${id}`);
    }
  });

  test('reduced motion turns transitions off', async () => {
    await page.emulateMedia({ reducedMotion: 'reduce' });
    const duration = await page.locator('.bar').first().evaluate((bar) => getComputedStyle(bar).transitionDuration);
    assert.equal(duration, '0s');
    await page.emulateMedia({ reducedMotion: 'no-preference' });
  });

  test('screenshots at 1280 and 390 px, with nothing wider than the phone', async () => {
    await runPrompt(page, 'Once upon a time, in a village by the sea, there lived');
    for (let i = 0; i < 4; i += 1) {
      await byTestId(page, 'step-button').click();
      await idle(page);
    }
    await screenshot(page, 'live-1280.png');
    await page.setViewportSize({ width: 390, height: 844 });
    await idle(page);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `the page is ${width}px wide at 390px`);
    await screenshot(page, 'live-390.png');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  test('no console errors, and no request to any other host', async () => {
    assert.deepEqual(browser.log.pageErrors, []);
    assert.deepEqual(browser.log.consoleErrors, []);
    const origin = new URL(BASE).origin;
    const elsewhere = browser.log.requests.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:'));
    assert.deepEqual(elsewhere, []);
  });
});

// Each row must show the server's candidate, its exact sampling probability and its percentage.
async function expectShown(expected) {
  const shown = await candidates(page);
  assert.equal(shown.length, expected.candidates.length);
  expected.candidates.forEach((c, i) => {
    assert.equal(shown[i].id, c.id, `rank ${i + 1}`);
    assert.equal(shown[i].sampleProb, c.sample_prob, `rank ${i + 1}`);
    assert.equal(shown[i].prob, c.prob, `rank ${i + 1}`);
    assert.equal(shown[i].shown, pct(c.sample_prob), `rank ${i + 1}`);
    assert.equal(shown[i].cut, !c.kept, `rank ${i + 1}`);
  });
  return shown;
}

async function resetSliders() {
  await byTestId(page, 'greedy-toggle').uncheck();
  await pressTimes(byTestId(page, 'temperature-slider'), 'ArrowRight', 10);
  await pressTimes(byTestId(page, 'top-k-slider'), 'Home', 1);
  await pressTimes(byTestId(page, 'top-p-slider'), 'End', 1);
  await waitForSampling(page, DEFAULT_SAMPLING);
}

// The learner's loop (issue #11): generated tokens flow through every stage, against the real
// server (run.sh starts it on the tiny fixture model and sets NEXTTOKEN_URL).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { apiClient, DEFAULT_SAMPLING } from './lib/api.js';
import { launch } from './lib/browser.js';
import { byTestId, generatedIds, idle, runPrompt } from './lib/page.js';

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

async function step(times = 1) {
  for (let i = 0; i < times; i += 1) {
    await byTestId(page, 'step-button').click();
    await idle(page);
  }
}

describe('generated tokens in every stage', () => {
  test('chips, embeddings and residual strips show prompt then generated tokens, with the boundary', async () => {
    await runPrompt(page, PROMPT);
    const prompt = (await api.tokenize(PROMPT)).tokens;
    assert.equal(await byTestId(page, 'boundary').count(), 0, 'no boundary before a step');
    await step(3);
    const generated = await generatedIds(page);
    assert.equal(generated.length, 3);
    const chips = byTestId(page, 'token-chip');
    const ids = await chips.evaluateAll((list) => list.map((c) => Number(c.querySelector('.chip-id').textContent)));
    assert.deepEqual(ids, [...prompt.map((t) => t.id), ...generated]);
    const shaded = await chips.evaluateAll((list) => list.map((c) => c.classList.contains('gen')));
    assert.deepEqual(shaded, ids.map((_, i) => i >= prompt.length));
    // The boundary sits between the last prompt chip and the first generated one.
    const boundaryAt = await page.locator('#tokens > li').evaluateAll((items) => items.findIndex((li) => li.dataset.testid === 'boundary'));
    assert.equal(boundaryAt, prompt.length);
    assert.match(await byTestId(page, 'token-count').textContent(), new RegExp(`${prompt.length} prompt tokens \\+ 3 generated`));
    assert.equal(await page.locator('#embeddings .emb-col').count(), prompt.length + 3);
    const strips = byTestId(page, 'layer-strip');
    assert.equal(await strips.count(), model.n_layer + 1);
    for (const strip of await strips.all()) assert.equal(await strip.locator('.hm-cell').count(), prompt.length + 3);
  });

  test('the generated columns are the server’s numbers for the whole sequence', async () => {
    await runPrompt(page, PROMPT);
    await step(2);
    const ids = (await api.tokenize(PROMPT)).tokens.map((t) => t.id);
    const first = await api.step(ids, 0, DEFAULT_SAMPLING, 0);
    const second = await api.step(first.tokens, 1, DEFAULT_SAMPLING, 0);
    const titles = await byTestId(page, 'layer-strip').evaluateAll((strips) => strips.map((s) => [...s.querySelectorAll('.hm-cell')].map((c) => c.title)));
    const columns = [first, second].map((s) => s.resid_norms.map((row) => row[0]));
    columns.forEach((column, k) => column.forEach((value, r) => {
      const shown = Number(titles[r][ids.length + k].split(': ').at(-1));
      assert.ok(Math.abs(shown - value) <= 0.01 * Math.max(1, value), `row ${r}, generated ${k}: ${shown} vs ${value}`);
    }));
  });

  test('Back takes the last generated token out of every stage', async () => {
    await runPrompt(page, PROMPT);
    await step(2);
    const prompt = (await api.tokenize(PROMPT)).tokens;
    await byTestId(page, 'back-button').click();
    await idle(page);
    assert.equal(await byTestId(page, 'token-chip').count(), prompt.length + 1);
    await byTestId(page, 'back-button').click();
    await idle(page);
    assert.equal(await byTestId(page, 'token-chip').count(), prompt.length);
    assert.equal(await byTestId(page, 'boundary').count(), 0);
  });

  test('the analysis views get the whole sequence', async () => {
    await runPrompt(page, PROMPT);
    await step(2);
    const prompt = (await api.tokenize(PROMPT)).tokens;
    await byTestId(page, 'tab-lens').click();
    await idle(page);
    await page.waitForFunction((n) => /: (\d+) tokens/.exec(document.querySelector('[data-testid="lens-prompt"]')?.textContent ?? '')?.[1] === String(n), prompt.length + 2);
    await byTestId(page, 'tab-pipeline').click();
  });
});

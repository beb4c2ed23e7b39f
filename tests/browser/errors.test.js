// Errors in plain words, with what to do next (issue #11), against the real server (run.sh):
// a stopped server, a server bug, a prompt over the context. Failures are made by intercepting
// the page's own requests, so each path is checked exactly.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { apiClient } from './lib/api.js';
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

const errorText = () => byTestId(page, 'error-text').textContent();
const focused = () => page.evaluate(() => document.activeElement?.dataset.testid ?? document.activeElement?.id ?? document.activeElement?.tagName);

// Nothing a learner reads may be a raw address, status line or browser message.
function assertPlain(text) {
  for (const raw of [/https?:\/\//, /\/api\//, /Failed to fetch/, /\b(500|503|504)\b/, /Internal Server Error/, /null/]) {
    assert.doesNotMatch(text, raw, text);
  }
}

describe('errors', () => {
  test('a stopped server says how to start it again; Retry then carries on and clears the message', async () => {
    await runPrompt(page, PROMPT);
    await page.route('**/api/step', (route) => route.abort('connectionrefused'));
    await byTestId(page, 'step-button').click();
    await idle(page);
    const text = await errorText();
    assert.match(text, /^The server stopped\. Start it again with nexttoken serve .*press Retry\.$/);
    assertPlain(text);
    const details = page.locator('#error-details');
    assert.ok(await details.isVisible());
    assert.equal(await details.evaluate((d) => d.open), false, 'the raw words stay folded away');
    assert.match(await page.locator('#error-detail').textContent(), /POST \/api\/step/);
    assert.deepEqual(await generatedIds(page), []);
    await page.unroute('**/api/step');
    await byTestId(page, 'error-retry').click();
    await idle(page);
    assert.equal(await byTestId(page, 'error').isVisible(), false);
    assert.equal((await generatedIds(page)).length, 1, 'Retry took the step');
    assert.notEqual(await focused(), 'BODY');
  });

  test('a server bug is said plainly, details folded away', async () => {
    await runPrompt(page, PROMPT);
    await page.route('**/api/step', (route) => route.fulfill({
      status: 500, contentType: 'application/json', body: JSON.stringify({ error: { code: 'internal', message: 'worker panicked at src/x.rs:1' } }),
    }));
    await byTestId(page, 'step-button').click();
    await idle(page);
    const text = await errorText();
    assert.match(text, /hit a bug/);
    assertPlain(text);
    assert.match(await page.locator('#error-detail').textContent(), /500.*worker panicked/);
    await page.unroute('**/api/step');
    // Any later action that works clears the old message.
    await byTestId(page, 'step-button').click();
    await idle(page);
    assert.equal(await byTestId(page, 'error').isVisible(), false);
  });

  test('a prompt over the context gets the numbers and what to do, and no old numbers stay on screen', async () => {
    await runPrompt(page, PROMPT);
    const long = 'word '.repeat(model.n_positions + 10);
    const count = (await api.tokenize(long)).count;
    await byTestId(page, 'prompt-input').fill(long);
    await byTestId(page, 'run-button').click();
    await idle(page);
    const text = await errorText();
    assert.equal(text, `Your prompt is ${count} tokens, but ${model.name} reads at most ${model.n_positions} positions `
      + `and the next token needs one of them. Shorten the prompt to ${model.n_positions - 1} tokens or fewer, then press Run.`);
    assert.equal(await byTestId(page, 'error-retry').isVisible(), false, 'retrying the same prompt cannot help');
    assert.ok(await byTestId(page, 'stages-empty').isVisible());
    for (const id of ['token-chip', 'layer-strip', 'candidate-row']) {
      assert.equal(await byTestId(page, id).first().isVisible().catch(() => false), false, `${id} still shows the old prompt`);
    }
    await byTestId(page, 'tab-attention').click();
    assert.equal(await page.locator('#view-attention .view-body').isVisible(), false);
    await byTestId(page, 'tab-pipeline').click();
    await runPrompt(page, PROMPT);
    assert.equal(await byTestId(page, 'error').isVisible(), false);
    assert.equal(await byTestId(page, 'stages-empty').isVisible(), false);
    assert.ok(await byTestId(page, 'token-chip').first().isVisible());
  });

  test('closing the message returns focus to the control that failed', async () => {
    await runPrompt(page, PROMPT);
    await page.route('**/api/step', (route) => route.abort('connectionrefused'));
    await byTestId(page, 'step-button').focus();
    await page.keyboard.press('Enter');
    await idle(page);
    await page.locator('#error-close').focus();
    await page.keyboard.press('Enter');
    assert.equal(await byTestId(page, 'error').isVisible(), false);
    assert.equal(await focused(), 'step-button');
    await page.unroute('**/api/step');
  });

  test('a slow Step or Run says what it waits for, and Cancel leaves the panel as it was, focus on Step', async () => {
    await runPrompt(page, PROMPT);
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    const hold = async (route) => { await held; await route.continue().catch(() => {}); };
    await page.route('**/api/step', hold);
    await byTestId(page, 'step-button').click();
    await page.waitForFunction(() => /^Running the model for the next token… \d+\.\d s$/.test(document.querySelector('[data-testid="busy-text"]').textContent));
    await byTestId(page, 'busy-cancel').focus();
    await page.keyboard.press('Enter');
    await idle(page);
    assert.equal(await byTestId(page, 'busy-text').textContent(), 'Running the model for the next token: cancelled.');
    assert.deepEqual(await generatedIds(page), [], 'nothing was taken');
    assert.equal(await byTestId(page, 'error').isVisible(), false, 'a cancel is not an error');
    assert.equal(await focused(), 'step-button');

    await page.route('**/api/trace', hold);
    await byTestId(page, 'prompt-input').fill(`${PROMPT} cat`);
    await byTestId(page, 'run-button').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="busy-text"]').textContent.startsWith('Running the model on your prompt…'));
    assert.equal(await byTestId(page, 'edited-note').isVisible(), false, 'a prompt being run is not an edit');
    assert.ok(await page.evaluate(() => document.body.classList.contains('running-prompt')), 'the old numbers are dimmed');
    await byTestId(page, 'busy-cancel').click();
    await idle(page);
    assert.equal(await page.evaluate(() => document.getElementById('tokens').dataset.prompt), PROMPT, 'the last run stays');
    assert.ok(await byTestId(page, 'edited-note').isVisible(), 'and the panel says the prompt box differs from it');
    release();
    await page.unroute('**/api/step');
    await page.unroute('**/api/trace');
    await byTestId(page, 'step-button').click(); // Run ▶: the edited prompt runs
    await page.waitForFunction((t) => document.getElementById('tokens').dataset.prompt === t, `${PROMPT} cat`);
    await idle(page);
    assert.equal(await byTestId(page, 'busy').isVisible(), false);
  });

  test('a thumbnail row whose request failed says so, and loads again from its own button', async () => {
    await runPrompt(page, `${PROMPT} dog`);
    await page.route('**/api/attention/overview', (route) => route.abort('connectionrefused'));
    await byTestId(page, 'tab-attention').click();
    const retry = page.locator('.thumb-row[data-layer="0"] [data-testid="attn-thumbs-retry"]');
    await retry.waitFor();
    assert.equal(await page.locator('.thumb-row[data-layer="0"]').textContent(), 'layer 0Not loaded.Load layer 0 again');
    await page.unroute('**/api/attention/overview');
    await retry.focus();
    await page.keyboard.press('Enter');
    await page.locator('.thumb-row[data-layer="0"] [data-testid="attn-thumb"]').first().waitFor();
    assert.equal(await page.locator('.thumb-row[data-layer="0"] [data-testid="attn-thumb"]').count(), model.n_head);
    assert.equal(await focused(), 'attn-thumb', 'focus moves from the button to the row it loaded');
    await byTestId(page, 'tab-pipeline').click();
  });
});

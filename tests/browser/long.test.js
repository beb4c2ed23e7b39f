// A 1,000-token prompt in every view (NEXTTOKEN_LONG_URL: the tiny fixture stretched to 1,024
// positions, lib/long-model.js): no sideways page overflow at 1280 and 390 px, legible labels,
// a position picker and zoom that scale, surgery paged, and focus that stays on the control the
// reader used.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { launch, screenshot } from './lib/browser.js';
import { byTestId, idle, runPrompt } from './lib/page.js';

const BASE = process.env.NEXTTOKEN_LONG_URL;
if (!BASE) throw new Error('NEXTTOKEN_LONG_URL is not set: run tests/browser/run.sh');
const TOKENS = 1000;
const WIDTHS = [[1280, 800], [390, 844]];

const post = async (path, body) => {
  const response = await fetch(new URL(path, BASE), {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, path);
  return response.json();
};

let browser;
let page;
let model;
let tokens; // the prompt's tokens, from the server

// The public-domain sample, cut to exactly TOKENS tokens (whole tokens, so it re-encodes the same).
async function longPrompt() {
  const text = await readFile(new URL('../../fixtures/tokenizer/sotu_sample.txt', import.meta.url), 'utf8');
  const all = (await post('/api/tokenize', { text: text.slice(0, 8000) })).tokens;
  const bytes = Buffer.concat(all.slice(0, TOKENS).map((t) => Buffer.from(t.bytes)));
  return bytes.toString('utf8');
}

before(async () => {
  model = await (await fetch(new URL('/api/model', BASE))).json();
  assert.ok(model.n_positions >= 1024, 'the long model reads 1,024 positions');
  const prompt = await longPrompt();
  tokens = (await post('/api/tokenize', { text: prompt })).tokens;
  assert.equal(tokens.length, TOKENS);
  browser = await launch();
  page = browser.page;
  await page.goto(BASE);
  await idle(page);
  await runPrompt(page, prompt);
});

after(async () => {
  await browser?.close();
});

const openView = (name) => byTestId(page, `tab-${name}`).click();
const pageWidth = () => page.evaluate(() => document.documentElement.scrollWidth);
const focused = () => page.evaluate(() => document.activeElement?.dataset.testid ?? document.activeElement?.tagName);

// What each view must show once its answer is in.
const READY = {
  pipeline: '#residual [data-testid="layer-strip"] .hm-cell',
  surgery: '[data-testid="bpe-card"]',
  attention: '[data-testid="attn-heatmap"]',
  lens: '[data-testid="lens-table"]',
};

describe('a 1,000-token prompt', () => {
  for (const [width, height] of WIDTHS) {
    test(`every view fits ${width} px and keeps its labels`, async () => {
      await page.setViewportSize({ width, height });
      for (const view of Object.keys(READY)) {
        await openView(view);
        await page.waitForSelector(READY[view]);
        await idle(page);
        assert.ok(await pageWidth() <= width, `${view} at ${width} px is ${await pageWidth()} px wide`);
        await screenshot(page, `long-${view}-${width}.png`);
      }
    });
  }

  test('by keyboard, Step is a few Tabs after Run, past no chart', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await openView('pipeline');
    await byTestId(page, 'run-button').focus();
    const passed = [];
    for (let i = 0; i < 10 && passed.at(-1) !== 'step-button'; i += 1) {
      await page.keyboard.press('Tab');
      passed.push(await page.evaluate(() => {
        const at = document.activeElement;
        return at.closest('main') ? `main: ${at.className || at.tagName}` : (at.dataset.testid ?? at.id);
      }));
    }
    assert.equal(passed.at(-1), 'step-button', passed.join(' → '));
    assert.ok(passed.length <= 3, `Step is ${passed.length} Tabs after Run: ${passed.join(' → ')}`);
  });

  test('residual and embedding charts show a window with whole token labels and row labels', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await openView('pipeline');
    const ticks = await page.locator('#residual .hm-tick').evaluateAll((spans) => spans.map((s) => s.textContent));
    assert.ok(ticks.length >= 10 && ticks.length < TOKENS, `${ticks.length} columns shown`);
    const last = tokens.slice(-ticks.length).map((t) => t.display);
    assert.deepEqual(ticks, last, 'the window starts at the end, one label per column');
    const labels = await page.locator('#residual .hm-label').allTextContents();
    assert.deepEqual(labels.slice(0, 2), ['embed', 'block 1']);
    assert.match(await page.locator('#residual .win-where').textContent(), /of 1,000$/);
    // Earlier moves the window back by its width; labels follow.
    await page.locator('#residual .win-step').first().click();
    const moved = await page.locator('#residual .hm-tick').first().textContent();
    assert.equal(moved, tokens[TOKENS - 2 * ticks.length].display);
    // The keyboard carries the window: Home goes to position 0.
    await page.locator('#residual .heatmap').focus();
    await page.keyboard.press('Home');
    assert.equal(await page.locator('#residual .hm-tick').first().textContent(), tokens[0].display);
    assert.match(await page.locator('#residual .readout').textContent(), /position 0 /);
    assert.ok(await page.locator('#embeddings .emb-label').count() < TOKENS);
  });

  test('lens: a number and Enter pick a position; focus stays on the number', async () => {
    await openView('lens');
    await page.waitForSelector('[data-testid="lens-table"]');
    assert.equal(await byTestId(page, 'lens-position').count(), TOKENS, 'every token of the text can be clicked');
    assert.equal(await page.locator('#view-lens button').count() < 10, true, 'not a button per token');
    const input = byTestId(page, 'lens-position-input');
    await input.fill('500');
    await input.press('Enter');
    await page.waitForFunction(() => document.querySelector('table.lens caption')?.textContent.includes('position 500'));
    assert.equal(await focused(), 'lens-position-input');
    const caption = await page.locator('table.lens').boundingBox();
    assert.ok(caption.y < 800 && caption.y + 40 > 0, 'the answer is in view');
    // The slider moves by one with the arrow keys and keeps focus too.
    await byTestId(page, 'lens-position-slider').focus();
    await page.keyboard.press('ArrowLeft');
    await page.waitForFunction(() => document.querySelector('table.lens caption')?.textContent.includes('position 499'));
    assert.equal(await focused(), 'lens-position-slider');
    // A click on a token in the text picks it.
    await byTestId(page, 'lens-position').nth(3).click();
    await page.waitForFunction(() => document.querySelector('table.lens caption')?.textContent.includes('position 3)'));
    // The text is one tab stop too: the arrow keys move the pick along it.
    await byTestId(page, 'lens-position-text').focus();
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction(() => document.querySelector('table.lens caption')?.textContent.includes('position 4)'));
    assert.equal(await focused(), 'lens-position-text');
  });

  test('attention: the zoom has labels, moves with the keys, and the menus keep focus', async () => {
    await openView('attention');
    const zoom = byTestId(page, 'attn-heatmap');
    await page.waitForSelector('[data-testid="attn-heatmap"][data-layer="0"][data-head="0"]');
    assert.match(await byTestId(page, 'attn-window').textContent(), /^Queries \d+–999, keys \d+–999 of 1000$/);
    const box = await zoom.boundingBox();
    assert.ok(box.width <= 1280 && box.width > 300, `zoom ${box.width} px`);
    await zoom.focus();
    await page.keyboard.press('PageUp');
    const [, , lastQuery] = /^Queries (\d+)–(\d+), /.exec(await byTestId(page, 'attn-window').textContent());
    assert.ok(Number(lastQuery) < 999, 'Page Up moved the window to earlier queries');
    assert.match(await byTestId(page, 'attn-readout').textContent(), /gives .* of its attention to .*attends to .*attended by/);
    const layer = byTestId(page, 'attn-layer');
    await layer.focus();
    await page.keyboard.press('ArrowDown');
    await page.waitForSelector('[data-testid="attn-heatmap"][data-layer="1"][data-head="0"]');
    assert.equal(await focused(), 'attn-layer');
    await byTestId(page, 'attn-head').focus();
    await page.keyboard.press('ArrowDown');
    await page.waitForSelector('[data-testid="attn-heatmap"][data-layer="1"][data-head="1"]');
    assert.equal(await focused(), 'attn-head');
    // Every thumbnail arrives (the server computes every layer in one pass).
    await byTestId(page, 'attn-overview').scrollIntoViewIfNeeded();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="attn-thumb"]').length === n, model.n_layer * model.n_head);
  });

  test('surgery: merges come a page at a time, and edits work on the long sequence', async () => {
    await openView('surgery');
    await page.waitForSelector('[data-testid="bpe-card"]');
    const where = page.locator('#view-surgery .win-where').first();
    assert.match(await where.textContent(), /^Tokens 0–\d+ of 1,000 \(page 1 of \d+\)$/);
    const first = await byTestId(page, 'bpe-card').first().textContent();
    await byTestId(page, 'bpe-next').click();
    await page.waitForFunction((text) => document.querySelector('[data-testid="bpe-card"]')?.textContent !== text
      && document.body.dataset.state === 'idle', first);
    assert.match(await where.textContent(), /\(page 2 of/);
    assert.equal(await page.locator('#view-surgery [data-testid="task"].task-error').count(), 0, 'no error in the view');
    // The editor shows a window of chips; the slider selects any token.
    assert.ok(await byTestId(page, 'edit-chip').count() <= 40);
    await byTestId(page, 'edit-slider').evaluate((slider) => {
      slider.value = '600';
      slider.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.waitForSelector('[data-testid="edit-chip"][data-pos="600"][aria-pressed="true"]');
    await page.waitForSelector('[data-testid="edit-split-bytes"]');
    const bytes = tokens[600].bytes.length;
    if (bytes > 1) {
      await byTestId(page, 'edit-split-bytes').click();
      await page.waitForFunction(() => Number(document.querySelector('[data-testid="kl-value"]')?.dataset.nats) > 0);
      assert.equal(await focused(), 'edit-chip', 'focus lands on the edited token');
    }
  });

  test('the token chips scroll in their own box, a tab stop, with the newest token in view', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await openView('pipeline');
    await byTestId(page, 'step-button').click();
    await idle(page);
    const box = page.locator('.chips-box');
    const { height, tabIndex, label } = await box.evaluate((b) => ({ height: b.clientHeight, tabIndex: b.tabIndex, label: b.getAttribute('aria-label') }));
    assert.ok(height <= 400, `the chips box is ${height} px tall`);
    assert.equal(tabIndex, 0);
    assert.match(label, /^2 Tokens .*\(scrolls\)$/);
    const inBox = await page.locator('#tokens .chip.gen').last().evaluate((chip) => {
      const b = chip.closest('.chips-box').getBoundingClientRect();
      const c = chip.getBoundingClientRect();
      return c.top >= b.top && c.bottom <= b.bottom;
    });
    assert.ok(inBox, 'the generated token is scrolled into view');
    await byTestId(page, 'back-button').click();
    await idle(page);
  });

  test('no console errors', async () => {
    assert.deepEqual(browser.log.pageErrors, []);
    assert.deepEqual(browser.log.consoleErrors, []);
  });
});

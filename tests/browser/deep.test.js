// gpt2-xl's shape, 48 layers × 25 heads (NEXTTOKEN_DEEP_URL serves the narrow fixture
// fixtures/gpt2-family/gpt2-xl): every view renders and stays usable at 1280 and 390 px.
// 49 residual strips; 1,200 attention thumbnails in a box of their own that loads as it
// scrolls, one Tab stop with the arrow keys between heads and layers, so the chosen head's
// pattern stays near the top of the page; the head scores' top rows first; a 49-row lens.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launch, screenshot } from './lib/browser.js';
import { byTestId, idle, runPrompt } from './lib/page.js';

const BASE = process.env.NEXTTOKEN_DEEP_URL;
if (!BASE) throw new Error('NEXTTOKEN_DEEP_URL is not set: run tests/browser/run.sh');
const PROMPT = 'The United States of America is a country';
const WIDTHS = [[1280, 800], [390, 844]];

let browser;
let page;
let model;

before(async () => {
  model = await (await fetch(new URL('/api/model', BASE))).json();
  assert.deepEqual([model.n_layer, model.n_head], [48, 25], 'gpt2-xl\'s layers and heads');
  browser = await launch();
  page = browser.page;
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(BASE);
  await idle(page);
  await runPrompt(page, PROMPT);
});

after(async () => {
  await browser?.close();
});

const openView = (name) => byTestId(page, `tab-${name}`).click();
const focused = () => page.evaluate(() => {
  const at = document.activeElement;
  return { id: at?.dataset.testid ?? at?.tagName, layer: at?.dataset.layer, head: at?.dataset.head };
});
const thumbs = () => page.locator('[data-testid="attn-thumb"]').count();
// Where an element's top is on the page, in pixels from the page's top.
const pageTop = (locator) => locator.evaluate((node) => node.getBoundingClientRect().top + window.scrollY);

describe('48 layers × 25 heads', () => {
  test('the residual stream: 49 strips, embeddings to block 48', async () => {
    await openView('pipeline');
    await page.waitForSelector('#residual [data-testid="layer-strip"] .hm-cell');
    assert.equal(await byTestId(page, 'layer-strip').count(), 49);
    const labels = await page.locator('#residual .hm-label').allTextContents();
    assert.deepEqual([labels[0], labels[48]], ['embed', 'block 48']);
  });

  test('1,200 thumbnails load as their box scrolls, and the chosen head stays near the top', async () => {
    await openView('attention');
    await page.waitForSelector('[data-testid="attn-heatmap"][data-layer="0"][data-head="0"]');
    const box = byTestId(page, 'attn-overview');
    const { height } = await box.boundingBox();
    assert.ok(height <= 0.75 * 800, `the thumbnails' box is ${height} px tall`);
    const pattern = await pageTop(byTestId(page, 'attn-heatmap'));
    assert.ok(pattern < 2 * 800, `the chosen head's pattern starts ${pattern} px down the page`);
    await page.waitForFunction(() => {
      const overview = document.querySelector('[data-testid="attn-overview"]');
      overview.scrollTop += overview.clientHeight / 2;
      return document.querySelectorAll('[data-testid="attn-thumb"]').length === 1200;
    }, null, { polling: 250, timeout: 120_000 });
    assert.equal(await thumbs(), model.n_layer * model.n_head);
  });

  test('the thumbnails are one Tab stop; arrows move between heads and layers', async () => {
    await byTestId(page, 'attn-head').focus();
    await page.keyboard.press('Tab');
    assert.deepEqual(await focused(), { id: 'attn-thumb', layer: '0', head: '0' }, 'the chosen head takes the focus');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowDown');
    assert.deepEqual(await focused(), { id: 'attn-thumb', layer: '1', head: '1' });
    await page.keyboard.press('End');
    assert.deepEqual(await focused(), { id: 'attn-thumb', layer: '1', head: '24' });
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="attn-heatmap"][data-layer="1"][data-head="24"]');
    await page.keyboard.press('Tab');
    assert.notEqual((await focused()).id, 'attn-thumb', 'one Tab leaves the 1,200 thumbnails');
    await byTestId(page, 'attn-layer').focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    assert.deepEqual(await focused(), { id: 'attn-thumb', layer: '1', head: '24' }, 'the picked head is the Tab stop');
  });

  test('the head scores show the top 48 first, then all 1,200 on request', async () => {
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="heads-row"]').length === 48);
    await byTestId(page, 'heads-all').click();
    assert.equal(await byTestId(page, 'heads-row').count(), 1200);
    assert.equal(await page.evaluate(() => document.activeElement.className), 'link', 'focus on the first row shown');
    await byTestId(page, 'sort-prev_token').click();
    await page.locator('[data-testid="heads-row"] button.link').first().click();
    assert.equal(await byTestId(page, 'heads-row').count(), 1200, 'a pick keeps all rows shown');
  });

  test('the lens has a row for the embeddings and each of the 48 blocks', async () => {
    await openView('lens');
    await page.waitForSelector('[data-testid="lens-table"]');
    assert.equal(await byTestId(page, 'lens-row').count(), 49);
    assert.match(await byTestId(page, 'lens-row').last().textContent(), /^block 48 \(final\)/);
  });

  for (const [width, height] of WIDTHS) {
    test(`every view fits ${width} px`, async () => {
      await page.setViewportSize({ width, height });
      for (const view of ['pipeline', 'attention', 'lens']) {
        await openView(view);
        await idle(page);
        const wide = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(wide <= width, `${view} at ${width} px is ${wide} px wide`);
        if (view === 'attention') {
          const pattern = await pageTop(byTestId(page, 'attn-heatmap'));
          assert.ok(pattern < 2.5 * height, `at ${width} px the pattern starts ${pattern} px down`);
        }
        await screenshot(page, `deep-${view}-${width}.png`);
      }
    });
  }
});

// The analysis views against the real server (run.sh): tokenizer surgery, the attention
// inspector, the logit lens, shared links and exports. Values are checked against the API.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { launch, screenshot } from './lib/browser.js';
import { byTestId, generatedIds, idle, runPrompt } from './lib/page.js';

const BASE = process.env.NEXTTOKEN_URL;
if (!BASE) throw new Error('NEXTTOKEN_URL is not set: run tests/browser/run.sh');
const PROMPT = 'The capital of France is';

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
let ids;

before(async () => {
  model = await (await fetch(new URL('/api/model', BASE))).json();
  ids = (await post('/api/tokenize', { text: PROMPT })).tokens.map((t) => t.id);
  browser = await launch();
  page = browser.page;
  await page.goto(BASE);
  await idle(page);
  await runPrompt(page, PROMPT);
});

after(async () => {
  await browser?.close();
});

const openView = (name) => byTestId(page, `tab-${name}`).click();
const klNats = () => byTestId(page, 'kl-value').evaluate((p) => Number(p.dataset.nats));
const column = (side) => byTestId(page, `compare-${side}`).locator('[data-testid="compare-row"]')
  .evaluateAll((rows) => rows.map((r) => ({ id: Number(r.dataset.id), prob: Number(r.dataset.prob) })));

// The heatmap's weights and a fingerprint of its pixels, once it shows `layer` and `head`.
async function heatmap(layer, head) {
  const selector = `[data-testid="attn-heatmap"][data-layer="${layer}"][data-head="${head}"]`;
  await page.waitForSelector(selector);
  return page.locator(selector).evaluate((canvas) => ({
    cells: canvas.cells,
    pixels: Array.from(canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data).join(),
  }));
}

async function downloaded(testid) {
  const [file] = await Promise.all([page.waitForEvent('download'), byTestId(page, testid).click()]);
  return { name: file.suggestedFilename(), body: await readFile(await file.path()) };
}

describe('analysis views', () => {
  test('surgery: an edit changes the prediction, KL > 0, as /api/compare says', async () => {
    await openView('surgery');
    await page.waitForFunction(() => document.querySelector('[data-testid="kl-value"]')?.dataset.nats === '0');
    assert.equal(await byTestId(page, 'bpe-card').count(), ids.length, 'one card per pre-token here');
    const beforeCol = await column('before');
    assert.deepEqual(beforeCol, await column('after'));
    await byTestId(page, 'edit-chip').first().click();
    await byTestId(page, 'edit-split-bytes').click();
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="kl-value"]')?.dataset.nats) > 0);
    const chips = await byTestId(page, 'edit-chip').evaluateAll((cs) => cs.map((c) => c.textContent));
    assert.equal(chips.length, ids.length + 2, '"The" became three byte tokens');
    assert.ok(await byTestId(page, 'same-text').isVisible(), 'the text is unchanged');
    const afterCol = await column('after');
    assert.deepEqual(await column('before'), beforeCol);
    assert.notDeepEqual(afterCol, beforeCol);
    const entry = await (await fetch(new URL(`/api/vocab/${ids[0]}`, BASE))).json();
    const edited = [...entry.byte_tokens.map((t) => t.id), ...ids.slice(1)];
    const expected = await post('/api/compare', { before: ids, after: edited, top_n: 10 });
    assert.deepEqual(afterCol.map((c) => c.id), expected.after.map((c) => c.id));
    assert.equal(await klNats(), expected.kl_nats);
    await screenshot(page, 'views-surgery-1280.png');
  });

  test('a surgery link reopens the edited tokens and their comparison', async () => {
    // The split of the test above is still on screen.
    await byTestId(page, 'copy-link').click();
    const link = await byTestId(page, 'share-link').inputValue();
    const edited = new URLSearchParams(new URL(link).hash.slice(1)).get('edit').split(',').map(Number);
    assert.equal(edited.length, ids.length + 2);
    const other = await browser.context.newPage();
    await other.goto(link);
    await other.waitForFunction((n) => document.querySelectorAll('[data-testid="edit-chip"]').length === n, edited.length);
    await other.waitForFunction(() => Number(document.querySelector('[data-testid="kl-value"]')?.dataset.nats) > 0);
    const expected = await post('/api/compare', { before: ids, after: edited, top_n: 10 });
    assert.equal(await byTestId(other, 'kl-value').evaluate((p) => Number(p.dataset.nats)), expected.kl_nats);
    await byTestId(other, 'edit-reset').click();
    await other.waitForFunction(() => location.hash.includes('view=surgery') && !location.hash.includes('edit='));
    await other.close();
  });

  test('attention: the heatmap follows the chosen head and equals /api/attention', async () => {
    await openView('attention');
    const first = await heatmap(0, 0);
    assert.deepEqual(first.cells, (await post('/api/attention', { tokens: ids, layer: 0, head: 0 })).pattern);
    await byTestId(page, 'attn-head').selectOption('2');
    const second = await heatmap(0, 2);
    assert.deepEqual(second.cells, (await post('/api/attention', { tokens: ids, layer: 0, head: 2 })).pattern);
    assert.notEqual(second.pixels, first.pixels);
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="attn-thumb"]').length === n, model.n_layer * model.n_head);
    await page.locator('[data-testid="attn-thumb"][data-layer="1"][data-head="3"]').click();
    await heatmap(1, 3);
    assert.equal(await byTestId(page, 'heads-row').count(), model.n_layer * model.n_head);
    await byTestId(page, 'attn-heatmap').focus();
    await page.keyboard.press('ArrowUp');
    assert.match(await byTestId(page, 'attn-readout').textContent(), /attends to .*attended by/);
    await screenshot(page, 'views-attention-1280.png');
  });

  test('lens: one row per layer plus the final one', async () => {
    await openView('lens');
    await page.waitForSelector('[data-testid="lens-row"]');
    assert.equal(await byTestId(page, 'lens-row').count(), model.n_layer + 1);
    assert.match(await byTestId(page, 'lens-final').last().textContent(), /^rank 1,/);
    await byTestId(page, 'lens-position').nth(1).click();
    await page.waitForFunction(() => document.querySelector('table.lens caption')?.textContent.includes('position 1'));
    await screenshot(page, 'views-lens-1280.png');
  });

  test('a copied link reopens the same prompt, view, layer and head', async () => {
    await openView('attention');
    await byTestId(page, 'attn-layer').selectOption('1');
    await byTestId(page, 'attn-head').selectOption('2');
    await heatmap(1, 2);
    await byTestId(page, 'copy-link').click();
    const link = await byTestId(page, 'share-link').inputValue();
    const other = await browser.context.newPage();
    await other.goto(link);
    await other.waitForSelector('[data-testid="attn-heatmap"][data-layer="1"][data-head="2"]');
    assert.equal(await other.locator('[data-testid="prompt-input"]').inputValue(), PROMPT);
    assert.equal(await other.locator('[data-testid="tab-attention"]').getAttribute('aria-selected'), 'true');
    assert.equal(await other.locator('[data-testid="attn-layer"]').inputValue(), '1');
    assert.equal(await other.locator('[data-testid="attn-head"]').inputValue(), '2');
    await other.close();
  });

  test('a pipeline link replays the steps and the sampling settings', async () => {
    await openView('pipeline');
    await byTestId(page, 'seed-input').fill('7');
    await byTestId(page, 'seed-input').dispatchEvent('change');
    for (let i = 0; i < 3; i += 1) {
      await byTestId(page, 'step-button').click();
      await idle(page);
    }
    const text = await byTestId(page, 'generated-text').textContent();
    const taken = await generatedIds(page);
    await byTestId(page, 'copy-link').click();
    const link = await byTestId(page, 'share-link').inputValue();
    const other = await browser.context.newPage();
    await other.goto(link);
    await other.waitForFunction((t) => document.querySelector('[data-testid="generated-text"]').textContent === t, text);
    assert.equal(await other.locator('[data-testid="seed-input"]').inputValue(), '7');
    assert.deepEqual(await generatedIds(other), taken);
    assert.equal(taken.length, 3);
    await other.close();
  });

  test('every view exports JSON and CSV, the pipeline a PNG', async () => {
    for (const view of ['pipeline', 'surgery', 'attention', 'lens']) {
      await openView(view);
      // The sequence now ends with the tokens the test before took: each view fetches it anew,
      // and a view exports only what it has on screen.
      await page.waitForLoadState('networkidle');
      await idle(page);
      const json = await downloaded('export-json');
      assert.match(json.name, new RegExp(`^nexttoken-${view}-.*\\.json$`));
      assert.equal(JSON.parse(json.body.toString()).prompt, PROMPT);
      const csv = (await downloaded('export-csv')).body.toString();
      assert.match(csv.split('\r\n')[0], /^[a-z_]+(,[a-z_]+)+$/, `${view} CSV header`);
      assert.ok(csv.split('\r\n').length > 2, `${view} CSV rows`);
    }
    await openView('pipeline');
    const png = await downloaded('export-png');
    assert.deepEqual([...png.body.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  });

  test('an export pressed while its view is computing says so, then downloads the answer', async () => {
    await openView('pipeline');
    await runPrompt(page, `${PROMPT} again`);
    // The lens answer is held back, so the button is pressed before the view has it.
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    await page.route('**/api/lens', async (route) => { await held; await route.continue(); });
    await openView('lens');
    const file = page.waitForEvent('download');
    await byTestId(page, 'export-json').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="export-note"]').textContent.includes('still computing'));
    release();
    const json = JSON.parse(await readFile(await (await file).path(), 'utf8'));
    assert.equal(json.prompt, `${PROMPT} again`);
    assert.equal(json.lens.rows.length, model.n_layer + 1);
    assert.equal(await byTestId(page, 'export-note').textContent(), '');
    await page.unroute('**/api/lens');
    await openView('pipeline');
  });

  test('no console errors, and no request to another host', async () => {
    assert.deepEqual(browser.log.pageErrors, []);
    assert.deepEqual(browser.log.consoleErrors, []);
    const { origin } = new URL(BASE);
    const elsewhere = browser.log.requests.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith(`blob:${origin}/`)
      && !url.startsWith('data:'));
    assert.deepEqual(elsewhere, []);
  });
});

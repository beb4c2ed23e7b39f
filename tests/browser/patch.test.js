// The Compare & patch lab against the real server (run.sh): a typed pair, answers picked by
// clicking candidates, a residual sweep whose heatmap (n_layer rows × T columns) fills in and
// equals /api/patch, the keyboard, exports, a shared link, a mismatched pair's explanation,
// axe-core after a sweep, and screenshots at 1280×800 and 390×844.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { axeViolations } from './lib/axe.js';
import { join } from 'node:path';
import { ARTIFACTS, launch, screenshot } from './lib/browser.js';
import { byTestId, idle } from './lib/page.js';

const BASE = process.env.NEXTTOKEN_URL;
if (!BASE) throw new Error('NEXTTOKEN_URL is not set: run tests/browser/run.sh');
// They differ only at the last token, so restoring the last position's residual at any
// block restores the whole answer (100%) and any earlier position restores nothing (0%).
const CLEAN = 'When Mary and John went to the store, John gave a drink to';
const CORRUPTED = 'When Mary and John went to the store, John gave a drink for';

const post = async (path, body) => {
  const response = await fetch(new URL(path, BASE), {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, path);
  return response.json();
};
const ids = async (text) => (await post('/api/tokenize', { text })).tokens.map((t) => t.id);

let browser;
let page;
let model;

before(async () => {
  model = await (await fetch(new URL('/api/model', BASE))).json();
  browser = await launch({ bypassCSP: true, viewport: { width: 1280, height: 800 } });
  page = browser.page;
  await page.goto(BASE);
  await idle(page);
  await byTestId(page, 'tab-patch').click();
});

after(async () => {
  await browser?.close();
});

async function typePair(clean, corrupted) {
  await byTestId(page, 'patch-clean').fill(clean);
  await byTestId(page, 'patch-corrupted').fill(corrupted);
  await byTestId(page, 'patch-compare').click();
}

const metricShown = () => page.waitForSelector('[data-testid="patch-metric"]');
const cells = () => byTestId(page, 'patch-heatmap').evaluate((c) => c.cells);
const sweepDone = (rows, name = 'resid-denoise') => page.waitForFunction(([n, s]) => {
  const map = document.querySelector('[data-testid="patch-heatmap"]');
  return map?.dataset.sweep === s && map.dataset.done === String(n);
}, [rows, name]);

// What a reader sees at this size: the viewport scrolled to the heatmap, and the whole page.
async function shots(name) {
  await screenshot(page, `${name}-full.png`);
  await byTestId(page, 'patch-heatmap').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

async function downloaded(testid) {
  const [file] = await Promise.all([page.waitForEvent('download'), byTestId(page, testid).click()]);
  return { name: file.suggestedFilename(), body: await readFile(await file.path()) };
}

describe('Compare & patch', () => {
  test('the example pair opens with its tokens aligned and the answer pair read out', async () => {
    await metricShown();
    const differ = await byTestId(page, 'patch-align').locator('thead th.differ').allTextContents();
    assert.deepEqual(differ, ['9'], 'John/Mary at position 9');
    assert.equal(await byTestId(page, 'patch-candidate').count(), 20);
    assert.equal(await byTestId(page, 'patch-lens').locator('tbody tr').count(), model.n_layer + 1);
  });

  test('mismatched token counts get the plain explanation', async () => {
    await typePair('The Eiffel Tower is in the city of', 'The Louvre is in the city of');
    const note = await byTestId(page, 'patch-mismatch').textContent();
    assert.match(note, /is 10 tokens and the corrupted one 8\b/);
    assert.match(note, /same number of tokens/);
    assert.match(note, /first differ at position 1: ‘·E’ against ‘·Lou’/);
    assert.equal(await byTestId(page, 'patch-run').isDisabled(), true, 'nothing to sweep');
  });

  test('a typed pair, answers clicked, the residual sweep fills n_layer × T and equals /api/patch', async () => {
    await typePair(CLEAN, CORRUPTED);
    await metricShown();
    const clean = await ids(CLEAN);
    const corrupted = await ids(CORRUPTED);
    // Two of the clean prompt's candidates that are not the pair the lab picked by itself.
    const chips = await byTestId(page, 'patch-cands-clean').locator('[data-testid="patch-candidate"]')
      .evaluateAll((bs) => bs.map((b) => Number(b.dataset.id)));
    const [a, o] = chips.slice(2, 4);
    const pick = (id) => page.locator(`[data-testid="patch-cands-clean"] [data-id="${id}"]`).click();
    await pick(a);
    await page.waitForSelector(`[data-testid="patch-candidate"][data-id="${a}"].is-answer`);
    await pick(o);
    await page.waitForSelector(`[data-testid="patch-candidate"][data-id="${o}"].is-other`);
    await page.waitForFunction(() => !document.querySelector('[data-testid="patch-run"]').disabled);
    await byTestId(page, 'patch-run').click();
    await sweepDone(model.n_layer);
    const grid = await cells();
    const t = clean.length;
    assert.equal(grid.length, model.n_layer);
    for (const row of grid) assert.equal(row.length, t);
    const last = grid[model.n_layer - 1][t - 1].restored;
    assert.ok(Math.abs(last - 1) < 1e-3, `the last block at the last position restores ${last}`);
    const expected = await post('/api/patch', { clean, corrupted, answer: a, other: o, sweep: 'resid' });
    assert.deepEqual(grid.map((row) => row.map((c) => c.metric)), expected.rows.map((r) => r.metric));
    for (const row of grid) row.slice(0, t - 1).forEach((c) => assert.ok(Math.abs(c.restored) < 1e-3));
    await shots('patch-1280');
  });

  test('the heatmap is usable from the keyboard', async () => {
    await byTestId(page, 'patch-heatmap').focus();
    const readout = byTestId(page, 'patch-heatmap-readout');
    assert.match(await readout.textContent(), new RegExp(`^block ${model.n_layer - 1}, position \\d+ .*100% restored`));
    await page.keyboard.press('ArrowLeft');
    assert.match(await readout.textContent(), /0% restored/);
    await page.keyboard.press('ArrowUp');
    assert.match(await readout.textContent(), new RegExp(`^block ${model.n_layer - 2},`));
  });

  test('exports: JSON and CSV hold every cell, PNG is an image', async () => {
    const json = JSON.parse((await downloaded('export-json')).body.toString());
    assert.equal(json.sweep.rows.length, model.n_layer);
    assert.equal(json.sweep.sweep, 'resid');
    const csv = (await downloaded('export-csv')).body.toString().trim().split('\r\n');
    assert.equal(csv[0], 'layer,position,metric,restored');
    assert.equal(csv.length, 1 + model.n_layer * json.sweep.shape[1]);
    const png = await downloaded('export-png');
    assert.match(png.name, /\.png$/);
    assert.deepEqual([...png.body.subarray(1, 4)], [0x50, 0x4e, 0x47]);
  });

  test('a shared link reopens the lab with its pair, answers and sweep', async () => {
    await byTestId(page, 'copy-link').click();
    const link = await byTestId(page, 'share-link').inputValue();
    const other = await browser.context.newPage();
    await other.goto(link);
    await other.waitForFunction((n) => document.querySelector('[data-testid="patch-heatmap"]')?.dataset.done === String(n), model.n_layer);
    assert.equal(await byTestId(other, 'patch-corrupted').inputValue(), CORRUPTED);
    const again = await byTestId(other, 'patch-heatmap').evaluate((c) => c.cells);
    assert.deepEqual(again, await cells());
    await other.close();
  });

  test('the heads sweep is layer × head; noising runs too', async () => {
    await byTestId(page, 'patch-sweep').selectOption('heads');
    await byTestId(page, 'patch-dir-noise').check();
    await byTestId(page, 'patch-run').click();
    await sweepDone(model.n_layer, 'heads-noise');
    assert.equal(await byTestId(page, 'patch-heatmap').getAttribute('data-cols'), String(model.n_head));
  });

  test('any single token can be typed as the answer; a longer text is refused in words', async () => {
    await byTestId(page, 'patch-token').fill(' Paris');
    await byTestId(page, 'patch-set-answer').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="patch-metric"]')?.textContent.includes('·Paris'));
    const paris = (await ids(' Paris'))[0];
    const other = await byTestId(page, 'patch-cands-clean').locator('.is-other').evaluate((b) => Number(b.dataset.id));
    const want = await post('/api/pair', { clean: await ids(CLEAN), corrupted: await ids(CORRUPTED), answer: paris, other });
    await page.waitForFunction((m) => Number(document.querySelector('[data-testid="patch-metric"]').dataset.clean) === m, want.clean.metric);
    await byTestId(page, 'patch-token').fill('Parisians of old');
    await byTestId(page, 'patch-set-other').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="patch-token-note"]').textContent.includes('tokens, not one'));
  });

  test('axe-core finds nothing serious, light and dark, 1280 and 390 px', async () => {
    for (const scheme of ['light', 'dark']) {
      for (const [width, height] of [[1280, 800], [390, 844]]) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.setViewportSize({ width, height });
        const found = (await axeViolations(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
        assert.deepEqual(found, [], `${scheme}, ${width} px: ${JSON.stringify(found, null, 1)}`);
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 390, height: 844 });
    await byTestId(page, 'patch-sweep').selectOption('resid');
    await byTestId(page, 'patch-dir-denoise').check();
    await byTestId(page, 'patch-run').click();
    await sweepDone(model.n_layer);
    await shots('patch-390');
  });
});

describe('surprisal on every token', () => {
  const chips = () => byTestId(page, 'token-chip').evaluateAll((cs) => cs.map((c) => ({
    id: Number(c.querySelector('.chip-id').textContent), surprisal: c.dataset.surprisal, committed: c.dataset.committed,
    title: c.title, colour: c.style.backgroundColor,
  })));

  test('tokens coloured by surprisal and by committed layer carry the API’s values', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await byTestId(page, 'tab-pipeline').click();
    await byTestId(page, 'token-colour').selectOption('surprisal');
    await page.waitForFunction(() => document.querySelector('[data-testid="token-chip"]')?.dataset.surprisal !== undefined);
    const shown = await chips();
    const want = await post('/api/surprisal', { tokens: shown.map((c) => c.id) });
    shown.forEach((c, i) => {
      const s = want.tokens[i];
      assert.equal(c.surprisal, s.surprisal_bits == null ? '' : String(s.surprisal_bits));
      assert.equal(c.committed, s.committed == null ? '' : String(s.committed));
      if (i > 0) assert.match(c.title, /Surprisal \d+\.\d\d bits/);
    });
    assert.equal(shown[0].colour, '', 'nothing predicts the first token');
    assert.notEqual(shown[1].colour, '');
    await byTestId(page, 'token-colour').selectOption('committed');
    await page.waitForFunction(() => document.querySelector('[data-testid="token-legend"]')?.textContent.includes('committed'));
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      const found = (await axeViolations(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
      assert.deepEqual(found, [], `${scheme}: ${JSON.stringify(found, null, 1)}`);
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await byTestId(page, 'token-colour').selectOption('surprisal');
    await page.locator('#stage-tokens').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'surprisal-1280.png') });
  });

  test('clicking a token opens the logit lens at its position', async () => {
    await byTestId(page, 'token-chip').nth(2).click();
    await page.waitForFunction(() => document.querySelector('table.lens caption')?.textContent.includes('position 2'));
    assert.equal(await byTestId(page, 'tab-lens').getAttribute('aria-selected'), 'true');
  });
});


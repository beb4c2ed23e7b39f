// Odds in the exported site (NEXTTOKEN_EXPORT_DIR): at the default settings (temperature 1,
// no top-k, no top-p) the chance of being picked is the model's own probability,
// exp(logit − lse), for every candidate and every recorded step; the page says it is exact and
// that every token can be picked. Away from what the recording settles it says approximate,
// with a range.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launch } from './lib/browser.js';
import { byTestId, candidates, idle, pct, pressTimes } from './lib/page.js';
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

const summary = async (testid) => byTestId(page, testid).textContent();

describe('recorded odds', () => {
  test('at temperature 1 without a cut, picked = exp(logit − lse) at every step', async () => {
    const vocab = curated.model.vocab_size.toLocaleString('en-US');
    const run = curated.prompts[0];
    await byTestId(page, 'example-prompt').first().click();
    await idle(page);
    // Each Step takes the recorded token, and the candidates it was picked from stay on screen.
    for (const [i, step] of run.steps.entries()) {
      await byTestId(page, 'step-button').click();
      await idle(page);
      const shown = await candidates(page);
      step.candidates.forEach(([id, logit], rank) => {
        const exact = Math.exp(logit - step.lse);
        assert.equal(shown[rank].id, id);
        assert.ok(Math.abs(shown[rank].sampleProb - exact) <= 1e-12 + 1e-9 * exact, `step ${i} rank ${rank}: ${shown[rank].sampleProb} vs ${exact}`);
        assert.equal(shown[rank].shown, pct(exact));
      });
      assert.equal(await summary('nucleus'), `${vocab} of ${vocab} tokens`);
      assert.match(await summary('recording-note'), /^exact/);
    }
  });

  test('a temperature away from 1 with no cut is approximate, and says by how much', async () => {
    await pressTimes(byTestId(page, 'temperature-slider'), 'ArrowRight', 6);
    await page.waitForFunction(() => JSON.parse(document.getElementById('candidates').dataset.key).temperature === 1.3
      && document.body.dataset.state === 'idle');
    const note = await summary('recording-note');
    assert.match(note, /^approximate: the [\d,]+ tokens the recording left out hold between [\d.e-]+% and [\d.e-]+% of the chance/);
    // Every token is still kept: the count is exact.
    const vocab = curated.model.vocab_size.toLocaleString('en-US');
    assert.equal(await summary('nucleus'), `${vocab} of ${vocab} tokens`);
  });

  test('top-k inside the recording is exact at any temperature', async () => {
    await pressTimes(byTestId(page, 'top-k-slider'), 'ArrowRight', 5);
    await page.waitForFunction(() => JSON.parse(document.getElementById('candidates').dataset.key).top_k === 5
      && document.body.dataset.state === 'idle');
    assert.match(await summary('recording-note'), /^exact/);
    assert.equal(await summary('nucleus'), `5 of ${curated.model.vocab_size.toLocaleString('en-US')} tokens`);
    const kept = (await candidates(page)).slice(0, 5).reduce((s, c) => s + c.sampleProb, 0);
    assert.ok(Math.abs(kept - 1) < 1e-9);
  });
});

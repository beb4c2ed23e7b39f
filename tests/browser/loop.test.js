// The learner's loop (issue #11) against the real server (run.sh starts it on the tiny fixture
// model, 64 positions, and sets NEXTTOKEN_URL): generated tokens flow through every stage, the
// next-token panel stays in view, keys step and go back, an edited prompt runs afresh, and
// focus never falls to the page's body.
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

const focused = () => page.evaluate(() => document.activeElement?.dataset.testid ?? document.activeElement?.tagName);

// Whether the element's box lies wholly inside the viewport.
const inView = (locator) => locator.evaluate((node) => {
  const r = node.getBoundingClientRect();
  return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth && r.height > 0;
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

describe('the next-token panel', () => {
  for (const [width, height] of [[1280, 800], [390, 844]]) {
    test(`candidates and Step are in view together after Run at ${width}×${height}, and stay there`, async () => {
      await page.setViewportSize({ width, height });
      await runPrompt(page, PROMPT);
      await page.evaluate(() => window.scrollTo(0, 0));
      const first = byTestId(page, 'candidate-row').first();
      for (const where of ['top', 'bottom']) {
        assert.ok(await inView(first), `the top candidate is off screen at the ${where}`);
        assert.ok(await inView(byTestId(page, 'step-button')), `Step is off screen at the ${where}`);
        assert.ok(await inView(byTestId(page, 'output')), `the text is off screen at the ${where}`);
        await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      }
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(wide <= width, `the page is ${wide}px wide at ${width}px`);
      await page.setViewportSize({ width: 1280, height: 900 });
    });
  }

  test('the phone dock opens to every candidate and the sampling settings', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await runPrompt(page, PROMPT);
    assert.equal(await page.locator('#loop-more').isVisible(), false);
    await byTestId(page, 'dock-toggle').click();
    assert.equal(await byTestId(page, 'dock-toggle').getAttribute('aria-expanded'), 'true');
    assert.ok(await byTestId(page, 'temperature-slider').isVisible());
    await byTestId(page, 'dock-toggle').click();
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  test('the newest generated token is marked in the running text', async () => {
    await runPrompt(page, PROMPT);
    await step(2);
    const marks = await page.locator('#generated .gen-token').evaluateAll((spans) => spans.map((s) => s.classList.contains('newest')));
    assert.deepEqual(marks, [false, true]);
  });

  test('the . and , keys step and go back, but type into the prompt box', async () => {
    await runPrompt(page, PROMPT);
    await page.evaluate(() => document.activeElement.blur());
    await page.keyboard.press('.');
    await idle(page);
    await page.keyboard.press('.');
    await idle(page);
    assert.equal((await generatedIds(page)).length, 2);
    await page.keyboard.press(',');
    await idle(page);
    assert.equal((await generatedIds(page)).length, 1);
    assert.equal(await byTestId(page, 'step-button').getAttribute('aria-keyshortcuts'), '.');
    assert.match(await byTestId(page, 'keys').textContent(), /\. step, , back/);
    await byTestId(page, 'prompt-input').focus();
    await page.keyboard.press('End');
    await page.keyboard.press('.');
    await idle(page);
    assert.equal(await byTestId(page, 'prompt-input').inputValue(), `${PROMPT}.`);
    assert.equal((await generatedIds(page)).length, 1, 'typing a dot does not step');
  });
});

describe('an edited prompt', () => {
  test('makes the next Step a fresh run of the new text, and says so', async () => {
    await runPrompt(page, PROMPT);
    await step(2);
    const edited = 'A different beginning';
    await byTestId(page, 'prompt-input').fill(edited);
    assert.ok(await byTestId(page, 'edited-note').isVisible());
    assert.equal(await byTestId(page, 'step-button').textContent(), 'Run ▶');
    await byTestId(page, 'step-button').click();
    await page.waitForFunction((t) => document.getElementById('tokens').dataset.prompt === t, edited);
    await idle(page);
    assert.deepEqual(await generatedIds(page), [], 'the old text was not continued');
    assert.equal(await byTestId(page, 'edited-note').isVisible(), false);
    assert.equal(await byTestId(page, 'step-button').textContent(), 'Step ▶');
    const ids = (await api.tokenize(edited)).tokens.map((t) => t.id);
    const chips = await byTestId(page, 'token-chip').evaluateAll((list) => list.map((c) => Number(c.querySelector('.chip-id').textContent)));
    assert.deepEqual(chips, ids);
  });

  test('a candidate clicked after an edit runs the new text instead of branching the old one', async () => {
    await runPrompt(page, PROMPT);
    const edited = 'Yet another start';
    await byTestId(page, 'prompt-input').fill(edited);
    await byTestId(page, 'candidate-row').nth(1).click();
    await page.waitForFunction((t) => document.getElementById('tokens').dataset.prompt === t, edited);
    await idle(page);
    assert.deepEqual(await generatedIds(page), []);
  });
});

describe('the end of the context', () => {
  test('is said in words, with no "null", and Step says why it is off', async () => {
    const prompt = `a${' a'.repeat(61)}`;
    assert.equal((await api.tokenize(prompt)).count, model.n_positions - 2);
    await runPrompt(page, prompt);
    await step(2);
    assert.ok(await byTestId(page, 'step-button').isDisabled());
    assert.ok(await byTestId(page, 'play-button').isDisabled());
    const why = await byTestId(page, 'gen-status').textContent();
    assert.match(why, new RegExp(`context of ${model.n_positions} positions`));
    assert.match(await byTestId(page, 'timeline-end').textContent(), /no token can follow/);
    assert.ok(!(await byTestId(page, 'timeline').textContent()).includes('null'));
    const describedBy = await byTestId(page, 'step-button').getAttribute('aria-describedby');
    assert.equal(describedBy, 'gen-status');
  });
});

describe('focus', () => {
  test('Back to the first step hands focus to Step, not the page', async () => {
    await runPrompt(page, PROMPT);
    await step(1);
    await byTestId(page, 'back-button').focus();
    await page.keyboard.press('Enter');
    await idle(page);
    assert.ok(await byTestId(page, 'back-button').isDisabled());
    assert.equal(await focused(), 'step-button');
  });

  test('a candidate taken by keyboard keeps focus in the list', async () => {
    await runPrompt(page, PROMPT);
    await byTestId(page, 'candidate-row').nth(2).focus();
    await page.keyboard.press('Enter');
    await idle(page);
    assert.equal((await generatedIds(page)).length, 1);
    assert.equal(await focused(), 'candidate-row');
  });

  test('Run keeps focus on Run', async () => {
    await byTestId(page, 'prompt-input').fill(PROMPT);
    await byTestId(page, 'run-button').focus();
    await page.keyboard.press('Enter');
    await idle(page);
    assert.equal(await focused(), 'run-button');
  });
});

test('no console errors', () => {
  assert.deepEqual(browser.log.pageErrors, []);
  assert.deepEqual(browser.log.consoleErrors, []);
});

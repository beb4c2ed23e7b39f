// A server started without --model while GPT-2 cannot be downloaded (run.sh sets an empty,
// offline Hugging Face cache): the page must name the small bundled model it is showing, say
// what it read and why GPT-2 is not coming (the server's own words behind a disclosure), and
// offer examples that suit it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { apiClient } from './lib/api.js';
import { launch } from './lib/browser.js';
import { byTestId, idle } from './lib/page.js';

const BASE = process.env.NEXTTOKEN_BUNDLED_URL;
if (!BASE) throw new Error('NEXTTOKEN_BUNDLED_URL is not set: run tests/browser/run.sh');

let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

test('the bundled model is named, and the page says why GPT-2 is not downloading', async () => {
  const model = await apiClient(BASE).model();
  assert.equal(model.source, 'bundled');
  assert.equal(model.download?.state, 'offline');
  const { page, log } = browser;
  await page.goto(BASE);
  await idle(page);
  assert.match(await byTestId(page, 'model-name').textContent(), new RegExp(model.name));
  assert.match(await byTestId(page, 'about').textContent(), /built into the nexttoken binary and trained only on State of the Union/);
  const banner = byTestId(page, 'download');
  assert.ok(await banner.isVisible());
  const text = await banner.textContent();
  assert.ok(text.includes(model.name) && text.includes(model.download.message), text);
  assert.match(text, /trained only on State of the Union speeches/);
  assert.match(text, new RegExp(`${model.download.model} is unavailable: this server runs offline`));
  // The server's own words (an environment variable, a command) wait behind a disclosure.
  const raw = banner.locator('details');
  assert.equal(await raw.evaluate((d) => d.open), false);
  assert.ok((await raw.textContent()).includes(model.download.message));
  assert.equal(await byTestId(page, 'switch-model').count(), 0);
  assert.equal(await byTestId(page, 'candidate-row').count(), 30);
  assert.deepEqual(log.consoleErrors, []);
  assert.deepEqual(log.pageErrors, []);
});

test('the tagline does not claim GPT-2, and the examples are the bundled model’s own', async () => {
  const { page } = browser;
  await page.goto(BASE);
  await idle(page);
  const tagline = await byTestId(page, 'tagline').textContent();
  assert.doesNotMatch(tagline, /GPT-2/);
  assert.doesNotMatch(await page.title(), /GPT-2/);
  const own = await (await fetch(new URL('/web/prompts-sotu-tiny.json', BASE))).json();
  const shown = await byTestId(page, 'example-prompt').evaluateAll((buttons) => buttons.map((b) => b.dataset.prompt));
  assert.deepEqual(shown, own.map((p) => p.prompt));
  assert.equal(await byTestId(page, 'prompt-input').inputValue(), own[0].prompt);
});

test('the phone page stays 390 px wide with the offline banner', async () => {
  const { page } = browser;
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(BASE);
  await idle(page);
  await byTestId(page, 'download').locator('summary').click();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the page is ${width}px wide at 390px`);
  await page.setViewportSize({ width: 1280, height: 900 });
});

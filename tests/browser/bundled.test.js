// A server started without --model while GPT-2 cannot be downloaded (run.sh sets an empty,
// offline Hugging Face cache): the page must name the small bundled model it is showing and
// say why GPT-2 is not coming, in the server's own words.
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
  assert.match(await byTestId(page, 'about').textContent(), /built into the nexttoken binary/);
  const banner = byTestId(page, 'download');
  assert.ok(await banner.isVisible());
  const text = await banner.textContent();
  assert.ok(text.includes(model.name) && text.includes(model.download.message), text);
  assert.equal(await byTestId(page, 'switch-model').count(), 0);
  assert.equal(await byTestId(page, 'candidate-row').count(), 30);
  assert.deepEqual(log.consoleErrors, []);
  assert.deepEqual(log.pageErrors, []);
});

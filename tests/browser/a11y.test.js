// axe-core on every tab, light and dark, at 1280 and 390 px (issue #11): no serious or critical
// violation, and every part of the page inside a landmark. Against the fixture server (every
// view), the bundled model (its banner), the static export and the live export (run.sh sets all four).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { axeViolations } from './lib/axe.js';
import { launch } from './lib/browser.js';
import { byTestId, idle } from './lib/page.js';
import { serveStatic } from './lib/static-server.js';

const LIVE = process.env.NEXTTOKEN_URL;
const BUNDLED = process.env.NEXTTOKEN_BUNDLED_URL;
const EXPORT = process.env.NEXTTOKEN_EXPORT_DIR;
const LIVE_EXPORT = process.env.NEXTTOKEN_LIVE_DIR;
if (!LIVE || !BUNDLED || !EXPORT || !LIVE_EXPORT) {
  throw new Error('NEXTTOKEN_URL, NEXTTOKEN_BUNDLED_URL, NEXTTOKEN_EXPORT_DIR or NEXTTOKEN_LIVE_DIR is not set: run tests/browser/run.sh');
}

const SIZES = [[1280, 800], [390, 844]];
const SCHEMES = ['light', 'dark'];
// Moderate, but the issue asked for them: the whole page sits in landmarks, with one main.
const ALSO = new Set(['landmark-one-main', 'region']);

let browser;
let page;
let site;

before(async () => {
  site = await serveStatic(EXPORT);
  browser = await launch({ bypassCSP: true });
  page = browser.page;
});

after(async () => {
  await browser?.close();
  await site?.close();
});

async function open(url, steps) {
  await page.goto(url);
  await idle(page);
  for (let i = 0; i < steps; i += 1) {
    await byTestId(page, 'step-button').click();
    await idle(page);
  }
}

async function assertClean(where) {
  const found = (await axeViolations(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical' || ALSO.has(v.id));
  assert.deepEqual(found, [], `${where}: ${JSON.stringify(found, null, 1)}`);
}

// By keyboard, as a screen-reader user would. A click first waits for the tab to stay still
// over two animation frames, and once (stop 21's CI) headless Chromium gave no frame for 30 s;
// focus and a key press need none.
async function showTab(tab) {
  const button = byTestId(page, `tab-${tab}`);
  await button.focus();
  await page.keyboard.press('Enter');
  assert.equal(await button.getAttribute('aria-selected'), 'true', `Enter on the ${tab} tab shows it`);
}

// Each combination of scheme and size, on each tab given, after `steps` steps.
async function scanAll(url, tabs, steps) {
  await open(url, steps);
  for (const scheme of SCHEMES) {
    for (const [width, height] of SIZES) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.setViewportSize({ width, height });
      for (const tab of tabs) {
        await showTab(tab);
        await idle(page);
        await page.waitForLoadState('networkidle');
        await assertClean(`${tab}, ${scheme}, ${width} px`);
      }
      await showTab('pipeline');
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 900 });
}

describe('accessibility (axe-core)', () => {
  test('live page: every tab, light and dark, 1280 and 390 px', async () => {
    await scanAll(LIVE, ['pipeline', 'surgery', 'attention', 'lens', 'patch'], 2);
  });

  test('live page with a cut distribution, an error and the phone dock open', async () => {
    await open(LIVE, 1);
    await byTestId(page, 'top-k-slider').focus();
    for (let i = 0; i < 3; i += 1) await page.keyboard.press('ArrowRight');
    await page.waitForFunction(() => JSON.parse(document.getElementById('candidates').dataset.key).top_k === 3
      && document.body.dataset.state === 'idle');
    await page.route('**/api/step', (route) => route.abort('connectionrefused'));
    await byTestId(page, 'step-button').click();
    await idle(page);
    await page.setViewportSize({ width: 390, height: 844 });
    await byTestId(page, 'dock-toggle').click();
    for (const scheme of SCHEMES) {
      await page.emulateMedia({ colorScheme: scheme });
      await assertClean(`cut rows, error, open dock, ${scheme}`);
    }
    await page.unroute('**/api/step');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  test('bundled model with its banner', async () => {
    await scanAll(BUNDLED, ['pipeline'], 1);
  });

  test('static export', async () => {
    await scanAll(site.url, ['pipeline', 'attention'], 2);
  });

  test('live export, computed in this browser', async () => {
    const live = await serveStatic(LIVE_EXPORT);
    try {
      await scanAll(live.url, ['pipeline', 'surgery', 'attention', 'lens'], 2);
    } finally {
      await live.close();
    }
  });
});

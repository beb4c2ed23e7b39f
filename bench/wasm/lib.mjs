// What the browser benches share: their site, one bench page in a fresh headless Chromium,
// and medians.
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ARGS, launch } from '../../tests/browser/lib/browser.js';

const root = resolve(import.meta.dirname, '../..');

// A fresh folder (named after `name`) serving the page's engine modules, the bench page, the
// model and each .wasm of `engines` ({ file name: path }), side by side; the caller removes it.
export function benchSite(name, modelDir, engines) {
  const site = mkdtempSync(join(tmpdir(), `nexttoken-wasm-${name}-`));
  symlinkSync(join(root, 'web'), join(site, 'web'));
  symlinkSync(join(root, 'bench/wasm/page'), join(site, 'bench'));
  for (const [file, path] of Object.entries(engines)) symlinkSync(resolve(path), join(site, file));
  symlinkSync(resolve(modelDir), join(site, 'model'));
  return site;
}

// Opens `url` in a fresh browser (started with `flags` besides the usual ones) and returns the
// page's `window.benchResult` (an `error` in it is thrown, named by `what`), merged with what
// `before_close` reads while the browser still runs (e.g. its memory).
export async function benchPage(url, what, before_close = () => ({}), flags = []) {
  const browser = await launch(flags.length ? { args: [...ARGS, ...flags] } : {});
  try {
    await browser.page.goto(url);
    await browser.page.waitForFunction(() => window.benchResult, null, { timeout: 0 });
    const result = await browser.page.evaluate(() => window.benchResult);
    if (result.error) throw new Error(`${what}: ${result.error}`);
    return { ...result, ...before_close() };
  } finally {
    await browser.close();
  }
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

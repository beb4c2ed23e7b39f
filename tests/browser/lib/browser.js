// Debian's chromium driven by playwright-core: never a downloaded browser, a fresh profile per
// launch, and everything the page asks for recorded so tests can check which hosts it reached.
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test-artifacts');

export const ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic',
];

// Returns { context, page, log }; `close()` also removes the profile.
export async function launch(options = {}) {
  const profile = await mkdtemp(join(tmpdir(), 'nexttoken-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 900 },
    ...options,
  });
  const log = { requests: [], consoleErrors: [], pageErrors: [] };
  context.on('request', (request) => log.requests.push(request.url()));
  context.on('console', (message) => {
    if (message.type() === 'error') log.consoleErrors.push(message.text());
  });
  context.on('weberror', (error) => log.pageErrors.push(error.error().message));
  const page = context.pages()[0] ?? (await context.newPage());
  const close = async () => {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  };
  return { context, page, log, close };
}

export async function screenshot(page, name) {
  await mkdir(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, name);
  // From the top, so sticky panels sit where a reader first sees them.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path, fullPage: true });
  return path;
}

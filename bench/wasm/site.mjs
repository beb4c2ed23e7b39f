// The live export as a reader meets it, in headless Chromium on a plain static server: how big
// the site is without GPT-2, how long until the page is ready with its own model and until its
// first prediction on a new prompt, and how much memory the tab's processes hold before and
// after "Load GPT-2" (the copy `--with-weights` placed beside the site), and again when the
// reloaded page loads the copy it kept. Medians over ROUNDS fresh browsers.
//
//   node bench/wasm/site.mjs SITE_DIR [ROUNDS]
// SITE_DIR: `nexttoken export --live --with-weights DIR --out SITE_DIR`. Needs tests/browser's
// npm packages.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { launch } from '../../tests/browser/lib/browser.js';
import { byTestId, idle, runPrompt } from '../../tests/browser/lib/page.js';
import { serveStatic } from '../../tests/browser/lib/static-server.js';

const [dir, rounds = '3'] = process.argv.slice(2);
if (!dir) throw new Error('usage: node bench/wasm/site.mjs SITE_DIR [ROUNDS]');

const bytesUnder = (path) => (statSync(path).isDirectory()
  ? readdirSync(path).reduce((sum, name) => sum + bytesUnder(join(path, name)), 0)
  : statSync(path).size);

// Resident memory of every process of the browser, in MB (the tab's renderer holds the
// worker and its WebAssembly memory).
async function browserRssMb(pid) {
  const { stdout } = await promisify(execFile)('ps', ['-e', '-o', 'pid=,ppid=,rss=,comm=']);
  const tree = stdout.trim().split('\n')
    .map((line) => line.trim().split(/\s+/)).map(([p, pp, rss, comm]) => ({ p: +p, pp: +pp, rss: +rss, comm }));
  const mine = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const proc of tree) if (mine.has(proc.pp) && !mine.has(proc.p)) grew = mine.add(proc.p);
  }
  const renderer = Math.max(...tree.filter((p) => mine.has(p.p)).map((p) => p.rss));
  return { all: tree.filter((p) => mine.has(p.p)).reduce((s, p) => s + p.rss, 0) / 1024, renderer: renderer / 1024 };
}

// The browser's main process: the chromium child of this node process that has no
// chromium parent.
function browserPid() {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,comm=']).toString().trim().split('\n')
    .map((line) => line.trim().split(/\s+/));
  return Number(out.find(([, pp, comm]) => Number(pp) === process.pid && /chrom/.test(comm))[0]);
}

// Clicks "Load GPT-2" and waits for its first prediction: { ms, peak } with the renderer's
// peak RSS in MB meanwhile (sampled every 50 ms, from `from`).
async function loadGpt2(page, pid, from) {
  let peak = from;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, (await browserRssMb(pid)).renderer);
      await new Promise((done) => setTimeout(done, 50));
    }
  })();
  const t0 = performance.now();
  await byTestId(page, 'load-model').click();
  await page.waitForFunction(() => document.getElementById('download').hidden, null, { timeout: 0 });
  await idle(page);
  const ms = performance.now() - t0;
  sampling = false;
  await sampler;
  return { ms, peak };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const server = await serveStatic(dir);
const runs = [];
try {
  for (let round = 0; round < Number(rounds); round += 1) {
    const browser = await launch({ viewport: { width: 1280, height: 800 } });
    try {
      const { page } = browser;
      const t0 = performance.now();
      await page.goto(server.url);
      await idle(page);
      const ready = performance.now() - t0;
      const t1 = performance.now();
      await runPrompt(page, `A prompt of its own, round ${round}`);
      const first = performance.now() - t1;
      const pid = browserPid();
      const before = await browserRssMb(pid);
      const { ms: load, peak } = await loadGpt2(page, pid, before.renderer);
      const after = await browserRssMb(pid);
      await runPrompt(page, `A second prompt for GPT-2, round ${round}`);
      const ran = await browserRssMb(pid);
      // The second visit: the same tab reloaded, GPT-2 read from the copy kept in the browser.
      await page.reload();
      await idle(page);
      const again = await loadGpt2(page, pid, (await browserRssMb(pid)).renderer);
      runs.push({ ready, first, load, before, after, peak, ran, again });
      console.error(`round ${round + 1}: ready ${ready.toFixed(0)} ms, first prediction ${first.toFixed(0)} ms, `
        + `GPT-2 loaded in ${load.toFixed(0)} ms, renderer ${before.renderer.toFixed(0)} → ${after.renderer.toFixed(0)} MB `
        + `(peak ${peak.toFixed(0)}; after a prompt ${ran.renderer.toFixed(0)}); `
        + `kept copy loaded in ${again.ms.toFixed(0)} ms (peak ${again.peak.toFixed(0)} MB)`);
    } finally {
      await browser.close();
    }
  }
} finally {
  await server.close();
}

const gpt2 = join(dir, 'models', 'gpt2');
const mb = (n) => (n / 1e6).toFixed(1);
console.log(`| site without GPT-2 | ${mb(bytesUnder(dir) - bytesUnder(gpt2))} MB (engine ${mb(statSync(join(dir, 'engine/nexttoken.wasm')).size)} MB) |`);
console.log(`| GPT-2 beside it (f16) | ${mb(bytesUnder(gpt2))} MB |`);
console.log(`| page ready, own model | ${median(runs.map((r) => r.ready)).toFixed(0)} ms |`);
console.log(`| first prediction after that | ${median(runs.map((r) => r.first)).toFixed(0)} ms |`);
console.log(`| "Load GPT-2" to its first prediction | ${median(runs.map((r) => r.load)).toFixed(0)} ms |`);
console.log(`| tab renderer memory, own model → GPT-2 | ${median(runs.map((r) => r.before.renderer)).toFixed(0)} → ${median(runs.map((r) => r.after.renderer)).toFixed(0)} MB |`);
console.log(`| tab renderer memory at its peak during the load; after one more prompt | ${median(runs.map((r) => r.peak)).toFixed(0)}; ${median(runs.map((r) => r.ran.renderer)).toFixed(0)} MB |`);
console.log(`| second visit: GPT-2 from the kept copy to its first prediction; renderer peak | ${median(runs.map((r) => r.again.ms)).toFixed(0)} ms; ${median(runs.map((r) => r.again.peak)).toFixed(0)} MB |`);
console.log(`| all browser processes, own model → GPT-2 | ${median(runs.map((r) => r.before.all)).toFixed(0)} → ${median(runs.map((r) => r.after.all)).toFixed(0)} MB |`);

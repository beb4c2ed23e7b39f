// axe-core's accessibility checks, run inside the page. The page's CSP refuses injected
// scripts, so the browser context for these scans must be launched with `bypassCSP: true`.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE = readFile(require.resolve('axe-core/axe.min.js'), 'utf8');

// Every violation on the page as { id, impact, help, targets }. The rule that checks a
// control's name contains its visible text is experimental in axe, so it is asked for.
export async function axeViolations(page) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: await AXE });
  return page.evaluate(async () => {
    const result = await window.axe.run(document, {
      resultTypes: ['violations'],
      rules: { 'label-content-name-mismatch': { enabled: true } },
    });
    return result.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
    }));
  });
}

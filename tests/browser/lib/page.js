// What the tests do to the page, in its own terms (the data-testid hooks).

export const byTestId = (page, id) => page.locator(`[data-testid="${id}"]`);

// The page sets body[data-state] to "busy" while any request of its own is out. Polled on a
// timer, not on animation frames, which headless Chromium can withhold for a while.
export async function idle(page) {
  await page.waitForFunction(() => document.body.dataset.state === 'idle', null, { timeout: 30_000, polling: 50 });
}

export async function runPrompt(page, text) {
  await byTestId(page, 'prompt-input').fill(text);
  await byTestId(page, 'run-button').click();
  await page.waitForFunction((t) => document.getElementById('tokens').dataset.prompt === t, text);
  await idle(page);
}

// Waits until the candidates on screen were computed with `sampling` (the page's key is its
// JSON, fields in the API's order: greedy, temperature, top_k, top_p).
export async function waitForSampling(page, sampling) {
  const { greedy, temperature, top_k, top_p } = sampling;
  const key = JSON.stringify({ greedy, temperature, top_k, top_p });
  await page.waitForFunction((k) => document.getElementById('candidates').dataset.key === k
    && document.body.dataset.state === 'idle', key);
}

export async function candidates(page) {
  return byTestId(page, 'candidate-row').evaluateAll((rows) => rows.map((row) => ({
    id: Number(row.dataset.id),
    prob: Number(row.dataset.prob),
    sampleProb: Number(row.dataset.sampleProb),
    shown: row.querySelector('[data-testid="candidate-prob"]').textContent,
    text: row.textContent,
    cut: row.classList.contains('cut'),
  })));
}

export async function generated(page) {
  return byTestId(page, 'generated-text').textContent();
}

export async function generatedIds(page) {
  return byTestId(page, 'generated-text').locator('[data-id]').evaluateAll((spans) => spans.map((s) => Number(s.dataset.id)));
}

// The page's own percentage format, so a shown value can be checked to the digit.
export function pct(p) {
  if (p === 0) return '0%';
  const percent = p * 100;
  return percent >= 0.01 ? `${percent.toFixed(2)}%` : `${percent.toPrecision(2)}%`;
}

export async function pressTimes(locator, key, times) {
  await locator.focus();
  for (let i = 0; i < times; i += 1) await locator.press(key);
}

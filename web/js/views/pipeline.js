// The pipeline view's exports: the run and its steps as JSON and CSV, and a PNG drawn onto a
// canvas (the residual heatmap and the candidate bars of the step on screen), not a copy of
// the DOM.
import { pct } from '../format.js';
import { viridis } from './colors.js';

const WIDTH = 1200;
const PAD = 24;
const BAR_ROWS = 15;

// `busy()`: a request of the pipeline is out, so its numbers are about to change.
export function pipelineExport(getSession, busy) {
  return {
    busy,
    exportData() {
      const session = getSession();
      if (!session?.run) return null;
      const { run } = session;
      const steps = session.steps.map((s) => ({ chosen: s.chosen, ...s.explanation }));
      const next = session.next?.explanation ?? null;
      const rows = [...steps, ...(next ? [next] : [])].flatMap((s, i) => s.candidates.map((c) => [
        i + 1, c.rank + 1, c.id, c.text, c.prob, c.sample_prob, s.chosen?.id === c.id ? 1 : 0]));
      return {
        json: { prompt: run.prompt, tokens: run.tokens, token_ids: run.tokenIds, resid_norms: run.residNorms, steps, next },
        header: ['step', 'rank', 'id', 'text', 'prob', 'sample_prob', 'chosen'],
        rows,
      };
    },
    png() {
      const session = getSession();
      if (!session?.run) return Promise.resolve(null);
      const canvas = draw(session);
      return new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
    },
  };
}

function draw(session) {
  const { run } = session;
  const rows = run.residNorms;
  const t = run.tokens.length;
  const cell = Math.max(2, Math.min(40, Math.floor((WIDTH - 2 * PAD - 90) / t)));
  const heatHeight = rows.length * 18 + 20; // strips, then the token labels
  const entry = session.entry(session.view);
  const candidates = entry?.explanation.candidates.slice(0, BAR_ROWS) ?? [];
  const canvas = document.createElement('canvas');
  canvas.width = WIDTH;
  canvas.height = PAD * 4 + 40 + heatHeight + candidates.length * 22;
  const g = canvas.getContext('2d');
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.fillStyle = '#1b1f24';
  g.font = 'bold 18px sans-serif';
  g.fillText(`nexttoken: ${run.prompt.slice(0, 90)}`, PAD, PAD + 12);
  g.font = '12px sans-serif';
  g.fillText('Residual stream length (log scale) by block and position', PAD, PAD + 36);
  heatmap(g, rows, cell, PAD + 90, PAD + 46);
  tokenLabels(g, run.tokens, cell, PAD + 90, PAD + 46 + rows.length * 18 + 12);
  const top = PAD * 3 + 46 + heatHeight;
  g.fillStyle = '#1b1f24';
  g.fillText(`Next-token candidates, step ${session.view + 1} (chance of being picked)`, PAD, top);
  bars(g, candidates, entry?.chosen?.id, top + 10);
  return canvas;
}

function heatmap(g, rows, cell, x0, y0) {
  const flat = rows.flat();
  const lo = Math.max(Math.min(...flat), 1e-6);
  const hi = Math.max(...flat);
  const scale = (v) => (hi > lo ? Math.log(Math.max(v, lo) / lo) / Math.log(hi / lo) : 0.5);
  rows.forEach((row, r) => {
    g.fillStyle = '#5b6470';
    g.fillText(r === 0 ? 'embed' : `block ${r}`, PAD, y0 + r * 18 + 12);
    row.forEach((v, pos) => {
      g.fillStyle = viridis(scale(v));
      g.fillRect(x0 + pos * cell, y0 + r * 18, cell - 1, 16);
    });
  });
}

// Each position's token under its column, cut to what the column holds.
function tokenLabels(g, tokens, cell, x0, y) {
  const chars = Math.floor(cell / 7);
  if (chars < 1) return;
  g.fillStyle = '#5b6470';
  tokens.forEach((t, pos) => g.fillText(t.display.slice(0, chars), x0 + pos * cell, y));
}

// The chosen token's bar is green, as on the page.
function bars(g, candidates, chosenId, y0) {
  const max = Math.max(...candidates.map((c) => c.sample_prob), 1e-12);
  candidates.forEach((c, i) => {
    const y = y0 + i * 22;
    g.fillStyle = '#1b1f24';
    g.fillText(c.display, PAD, y + 13);
    g.fillStyle = c.id === chosenId ? '#1d7f4e' : '#2557d6';
    g.fillRect(PAD + 160, y + 2, Math.max(1, (WIDTH - 2 * PAD - 260) * (c.sample_prob / max)), 14);
    g.fillStyle = '#1b1f24';
    g.fillText(pct(c.sample_prob), WIDTH - PAD - 80, y + 13);
  });
}

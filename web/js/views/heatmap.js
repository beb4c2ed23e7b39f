// One head's attention pattern on a canvas (a DOM cell per weight would not scale to 1,024
// tokens), with token labels when the cells are large enough, and a readout that says what a
// hovered token attends to and what attends to it.
import { el } from '../dom.js';
import { pct } from '../format.js';
import { viridis, viridisRamp } from './colors.js';

const MAX_SIDE = 640; // px of cells at most
const LABELS_FROM = 9; // px per cell below which labels would overlap
const MARGIN = 96; // px for the query labels (left) and key labels (top)

// Square root: most weights are small, and a linear scale leaves them all the same dark colour.
export const weightColor = (w) => viridis(Math.sqrt(w));

export function drawPattern({ pattern, tokens, layer, head }) {
  const t = pattern.length;
  const cell = Math.max(1, Math.min(40, Math.floor(MAX_SIDE / t)));
  const margin = cell >= LABELS_FROM ? MARGIN : 0;
  const canvas = el('canvas', { class: 'attn-canvas', testid: 'attn-heatmap', dataset: { layer, head },
    'aria-label': `Attention pattern of layer ${layer}, head ${head}: rows are queries, columns are keys` });
  canvas.width = margin + t * cell;
  canvas.height = margin + t * cell;
  // The weights drawn, for the readout and for tests to compare with /api/attention.
  canvas.cells = pattern;
  const g = canvas.getContext('2d');
  pattern.forEach((row, i) => row.forEach((w, j) => {
    g.fillStyle = weightColor(w);
    g.fillRect(margin + j * cell, margin + i * cell, cell, cell);
  }));
  if (margin) drawLabels(g, tokens, cell, margin);
  const readout = el('p', { class: 'readout', testid: 'attn-readout', 'aria-live': 'polite' },
    'Hover a cell or a token to read the weights.');
  canvas.addEventListener('mousemove', (event) => {
    const rect = canvas.getBoundingClientRect();
    const x = (event.clientX - rect.left) * (canvas.width / rect.width) - margin;
    const y = (event.clientY - rect.top) * (canvas.height / rect.height) - margin;
    const [i, j] = [Math.floor(y / cell), Math.floor(x / cell)];
    if (i < 0 || j < 0 || i >= t || j >= t) return;
    readout.replaceChildren(j > i
      ? `${label(tokens, i)} cannot see ${label(tokens, j)}: a token only attends to itself and earlier ones.`
      : `${label(tokens, i)} gives ${pct(pattern[i][j])} of its attention to ${label(tokens, j)}.`);
  });
  return { canvas, legend: legend(), readout, describe: (pos) => readout.replaceChildren(...describe(pattern, tokens, pos)) };
}

function legend() {
  const ramp = el('span', { class: 'ramp' });
  ramp.style.setProperty('background-image', viridisRamp());
  return el('p', { class: 'legend' }, 'Weight (square-root scale): 0%', ramp, '100%. Rows are queries, columns the keys they read.');
}

function drawLabels(g, tokens, cell, margin) {
  g.fillStyle = getComputedStyle(document.body).color;
  g.font = `${Math.min(12, cell - 1)}px ui-monospace, monospace`;
  g.textBaseline = 'middle';
  tokens.forEach((tok, i) => {
    const text = short(tok.display);
    g.textAlign = 'right';
    g.fillText(text, margin - 4, margin + (i + 0.5) * cell);
    g.save();
    g.translate(margin + (i + 0.5) * cell, margin - 4);
    g.rotate(-Math.PI / 3);
    g.textAlign = 'left';
    g.fillText(text, 0, 0);
    g.restore();
  });
}

const short = (s) => (s.length > 10 ? `${s.slice(0, 9)}…` : s);
const label = (tokens, i) => `‘${tokens[i].display}’ (${i})`;

// The three strongest weights from this token (its row) and onto it (its column).
function describe(pattern, tokens, pos) {
  const top = (pairs) => pairs.sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, w]) => `${label(tokens, k)} ${pct(w)}`).join(', ');
  const to = pattern[pos].map((w, j) => [j, w]);
  const from = pattern.slice(pos).map((row, k) => [pos + k, row[pos]]);
  return [el('strong', {}, label(tokens, pos)), ` attends to ${top(to)}; attended by ${top(from)}.`];
}

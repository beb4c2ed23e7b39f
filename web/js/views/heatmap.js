// One head's attention pattern, legible at any length. When every query and key fits at a
// readable cell size the whole pattern is drawn with token labels; otherwise an overview of the
// whole pattern (the window marked; click or drag to move it) sits beside a zoomed window of
// queries × keys that always has labels. The zoom is one tab stop: arrow keys move a cursor
// cell and the window follows it; the readout says what the cell and its query row hold.
import { el, setStyle } from '../dom.js';
import { pct } from '../format.js';
import { gridImage, viridis, viridisRamp, viridisRgb } from './colors.js';

const CELL = 18; // px per cell in the zoom at least: room for an 11 px label
const BIG_CELL = 40; // px per cell at most, for a short prompt drawn whole
const MAX_CELLS = 40; // queries (and keys) in the zoom at most
const MARGIN = 88; // px for the query labels (left) and key labels (top)
const OVERVIEW_PX = 320;
const GAP = 16; // px between the overview and the zoom

// Square root: most weights are small, and a linear scale leaves them all the same dark colour.
export const weightColor = (w) => viridis(Math.sqrt(w));

// The same scale as [r, g, b], from a table: canvases fill up to a million cells with it.
const LEVELS = 1024;
const TABLE = Array.from({ length: LEVELS + 1 }, (_, i) => viridisRgb(Math.sqrt(i / LEVELS)));
export const weightRgb = (w) => TABLE[Math.round(Math.min(Math.max(w, 0), 1) * LEVELS)] ?? TABLE[0];

// `boundary`: the first generated position (the prompt's length), marked when inside.
export function drawPattern({ pattern, tokens, layer, head, boundary, width }) {
  const t = pattern.length;
  const zoom = el('canvas', { class: 'attn-canvas', testid: 'attn-heatmap', tabindex: 0, dataset: { layer, head },
    role: 'img', 'aria-label': `Attention pattern of layer ${layer}, head ${head}: rows are queries, columns are keys. `
      + 'Arrow keys move the cursor; Page Up and Page Down move a window of queries.' });
  zoom.cells = pattern; // the weights drawn, for tests to compare with /api/attention
  const readout = el('p', { class: 'readout', testid: 'attn-readout', 'aria-live': 'polite' },
    'Hover a cell, or focus the pattern and use the arrow keys.');
  const view = { n: t, cell: CELL, q0: 0, k0: 0, cursor: { q: t - 1, k: t - 1 } };
  const map = overview(pattern);
  const where = el('p', { class: 'win-where', testid: 'attn-window' });
  const box = el('div', { class: 'attn-pattern' }, el('div', { class: 'attn-map' }, map.box, where), zoom);

  const draw = () => {
    drawZoom(zoom, { pattern, tokens, view, boundary });
    map.mark(view, t);
    map.box.parentElement.hidden = view.n >= t;
    where.textContent = `Queries ${view.q0}–${view.q0 + view.n - 1}, keys ${view.k0}–${view.k0 + view.n - 1} of ${t}`;
  };
  const follow = (q, k) => {
    view.cursor = { q: clamp(q, t - 1), k: clamp(k, t - 1) };
    const { n } = view;
    if (view.cursor.q < view.q0 || view.cursor.q >= view.q0 + n) view.q0 = clamp(view.cursor.q - (view.cursor.q < view.q0 ? 0 : n - 1), t - n);
    if (view.cursor.k < view.k0 || view.cursor.k >= view.k0 + n) view.k0 = clamp(view.cursor.k - (view.cursor.k < view.k0 ? 0 : n - 1), t - n);
    draw();
    readout.replaceChildren(...describe(pattern, tokens, view.cursor.q, view.cursor.k));
  };
  // Centres the window on a cell of the overview and puts the cursor there.
  map.onPick((q, k) => {
    view.q0 = clamp(q - Math.floor(view.n / 2), t - view.n);
    view.k0 = clamp(k - Math.floor(view.n / 2), t - view.n);
    follow(q, Math.min(k, q));
  });
  zoom.addEventListener('mousemove', (event) => {
    const rect = zoom.getBoundingClientRect();
    const margin = zoom.margin;
    const x = (event.clientX - rect.left) * (zoom.width / rect.width) - margin;
    const y = (event.clientY - rect.top) * (zoom.height / rect.height) - margin;
    const [i, j] = [Math.floor(y / view.cell), Math.floor(x / view.cell)];
    if (i < 0 || j < 0 || i >= view.n || j >= view.n) return;
    readout.replaceChildren(...describe(pattern, tokens, view.q0 + i, view.k0 + j));
  });
  zoom.addEventListener('focus', () => follow(view.cursor.q, view.cursor.k));
  zoom.addEventListener('keydown', (event) => {
    const { n } = view;
    const step = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1],
      PageUp: [-n, -n], PageDown: [n, n], Home: [-t, -t], End: [t, t] }[event.key];
    if (!step) return;
    event.preventDefault();
    follow(view.cursor.q + step[0], view.cursor.k + step[1]);
  });

  // A short prompt is drawn whole with cells up to 40 px; a long one as a window of 18 px cells.
  const resize = (px) => {
    const whole = Math.floor((px - MARGIN) / CELL) >= t;
    // Beside the overview when both fit, under it on a phone.
    const besides = px - OVERVIEW_PX - GAP >= MARGIN + 16 * CELL;
    const room = Math.floor(((whole || !besides ? px : px - OVERVIEW_PX - GAP) - MARGIN) / CELL);
    view.n = t <= room ? t : Math.max(4, Math.min(t, MAX_CELLS, room));
    view.cell = t <= room ? Math.max(CELL, Math.min(BIG_CELL, Math.floor((Math.min(px, 720) - MARGIN) / t))) : CELL;
    view.q0 = clamp(view.cursor.q - view.n + 1, t - view.n);
    view.k0 = clamp(view.cursor.k - view.n + 1, t - view.n);
    draw();
  };
  resize(width);
  return { box, canvas: zoom, legend: legend(), readout, resize };
}

function drawZoom(canvas, { pattern, tokens, view, boundary }) {
  const { n, q0, k0, cursor, cell } = view;
  const margin = MARGIN;
  canvas.margin = margin;
  canvas.width = margin + n * cell;
  canvas.height = margin + n * cell;
  const g = canvas.getContext('2d');
  const style = getComputedStyle(document.body);
  for (let i = 0; i < n; i += 1) {
    for (let j = 0; j < n; j += 1) {
      const [q, k] = [q0 + i, k0 + j];
      g.fillStyle = k <= q ? weightColor(pattern[q][k]) : style.getPropertyValue('--line');
      g.fillRect(margin + j * cell, margin + i * cell, cell - 1, cell - 1);
    }
  }
  g.fillStyle = style.color;
  g.font = '11px ui-monospace, monospace';
  g.textBaseline = 'middle';
  for (let i = 0; i < n; i += 1) {
    label(g, tokens[q0 + i].display, margin - 4, margin + (i + 0.5) * cell, 0);
    label(g, tokens[k0 + i].display, margin + (i + 0.5) * cell, margin - 4, -Math.PI / 3);
  }
  g.strokeStyle = style.getPropertyValue('--good'); // the prompt / generated boundary, as in the other stages
  g.lineWidth = 2;
  g.setLineDash([4, 3]);
  if (boundary != null && boundary > q0 && boundary < q0 + n) line(g, margin, margin + (boundary - q0) * cell, margin + n * cell, margin + (boundary - q0) * cell);
  if (boundary != null && boundary > k0 && boundary < k0 + n) line(g, margin + (boundary - k0) * cell, margin, margin + (boundary - k0) * cell, margin + n * cell);
  const [ci, cj] = [cursor.q - q0, cursor.k - k0];
  g.setLineDash([]);
  g.strokeStyle = style.color;
  if (ci >= 0 && ci < n && cj >= 0 && cj < n) g.strokeRect(margin + cj * cell - 1, margin + ci * cell - 1, cell + 1, cell + 1);
}

function label(g, text, x, y, angle) {
  g.save();
  g.translate(x, y);
  g.rotate(angle);
  g.textAlign = angle ? 'left' : 'right';
  g.fillText(text.length > 11 ? `${text.slice(0, 10)}…` : text, 0, 0);
  g.restore();
}

function line(g, x0, y0, x1, y1) {
  g.beginPath();
  g.moveTo(x0, y0);
  g.lineTo(x1, y1);
  g.stroke();
}

// Every weight, one pixel each, shrunk to the overview's size; `mark` draws the window on it.
function overview(pattern) {
  const canvas = el('canvas', { class: 'attn-overview', 'aria-hidden': 'true' });
  const image = gridImage(pattern, weightRgb);
  canvas.width = image.width;
  canvas.height = image.height;
  canvas.getContext('2d').putImageData(image, 0, 0);
  setStyle(canvas, { width: `${OVERVIEW_PX}px`, height: `${OVERVIEW_PX}px` });
  const frame = el('span', { class: 'attn-mark', 'aria-hidden': 'true' });
  const box = el('div', { class: 'attn-overview-box', title: 'The whole pattern: click or drag to move the zoom' }, canvas, frame);
  let pick = () => {};
  const at = (event) => {
    const rect = canvas.getBoundingClientRect();
    const t = pattern.length;
    pick(clamp(Math.floor(((event.clientY - rect.top) / rect.height) * t), t - 1), clamp(Math.floor(((event.clientX - rect.left) / rect.width) * t), t - 1));
  };
  box.addEventListener('pointerdown', (event) => { box.setPointerCapture(event.pointerId); at(event); });
  box.addEventListener('pointermove', (event) => { if (box.hasPointerCapture(event.pointerId)) at(event); });
  return {
    box,
    onPick: (fn) => { pick = fn; },
    mark({ n, q0, k0 }, t) {
      setStyle(frame, { left: `${(100 * k0) / t}%`, top: `${(100 * q0) / t}%`, width: `${(100 * n) / t}%`, height: `${(100 * n) / t}%` });
    },
  };
}

function legend() {
  const ramp = el('span', { class: 'ramp' });
  ramp.style.setProperty('background-image', viridisRamp());
  return el('div', {}, el('p', { class: 'legend' }, 'Weight (square-root scale): 0%', ramp, '100%'),
    el('p', { class: 'hint' }, 'Rows are queries, columns the keys they read; grey cells are masked (a token cannot see later ones).'));
}

const tokenLabel = (tokens, i) => `‘${tokens[i].display}’ (${i})`;

// The cell under the cursor, then the three strongest weights from its query (its row) and
// onto that token (its column).
function describe(pattern, tokens, q, k) {
  const top = (pairs) => pairs.sort((a, b) => b[1] - a[1]).slice(0, 3).map(([i, w]) => `${tokenLabel(tokens, i)} ${pct(w)}`).join(', ');
  const cellText = k > q ? `${tokenLabel(tokens, q)} cannot see ${tokenLabel(tokens, k)}: a token only attends to itself and earlier ones. `
    : `${tokenLabel(tokens, q)} gives ${pct(pattern[q][k])} of its attention to ${tokenLabel(tokens, k)}. `;
  const from = pattern.slice(q).map((row, i) => [q + i, row[q]]);
  return [cellText, el('strong', {}, tokenLabel(tokens, q)), ` attends to ${top(pattern[q].map((w, j) => [j, w]))}; attended by ${top(from)}.`];
}

const clamp = (value, max) => Math.min(Math.max(value, 0), Math.max(max, 0));

// Stage 4: the residual stream's length at every block and position, as a heatmap with one
// strip per row of `resid_norms`. Colours use a log scale: in GPT-2 the first position's vector
// grows far longer than the others', and a linear scale would leave every other cell dark.
// A long sequence shows a window of positions under an overview of all of them (windowed.js).
import { el, setStyle } from './dom.js';
import { norm, tokenNodes } from './format.js';
import { gridImage, viridis, viridisRamp, viridisRgb } from './views/colors.js';
import { onWidth, windowedChart } from './windowed.js';

const COLUMN_PX = 42; // a cell and its gap: room for a short token under it
const LABEL_PX = 88; // the row labels' column and its gap

export function renderResidual(box, run) {
  const rows = run.residNorms;
  const total = run.tokens.length;
  const boundary = run.promptTokens ?? total;
  const flat = rows.flat();
  const lo = Math.max(Math.min(...flat), 1e-6); // a log scale needs a positive floor
  const hi = Math.max(...flat);
  const scale = (v) => (hi > lo ? Math.log(Math.max(v, lo) / lo) / Math.log(hi / lo) : 0.5);
  const grid = el('div', { class: 'heatmap', role: 'group', 'aria-label': 'Residual stream norms by block and position' });
  const strips = rows.map((_, r) => el('div', { class: 'hm-cells' }));
  const axis = el('div', { class: 'hm-cells' });
  grid.append(...strips.map((cells, r) => el('div', { class: 'hm-row', testid: 'layer-strip' },
    el('span', { class: 'hm-label' }, r === 0 ? 'embed' : `block ${r}`), cells)),
  el('div', { class: 'hm-row hm-axis', 'aria-hidden': 'true' }, el('span', { class: 'hm-label' }, 'token'), axis));
  const render = (start, size) => {
    const positions = Array.from({ length: size }, (_, i) => start + i);
    const cells = rows.map((row, r) => positions.map((pos) => cell(row[pos], r, pos, rows.length, scale, boundary)));
    cells.forEach((list, r) => strips[r].replaceChildren(...list));
    axis.replaceChildren(...positions.map((pos) => tick(run.tokens[pos], pos, boundary)));
    setStyle(grid, { '--cols': String(size) });
    return cells;
  };
  const describe = (r, pos) => `${rowTitle(r, rows.length)}, position ${pos} (${run.tokens[pos].display}`
    + `${pos >= boundary ? ', generated' : ''}): length ${norm(rows[r][pos])}.`;
  const chart = windowedChart({
    chart: grid, rows: rows.length, total, label: 'the residual stream', boundary, render, describe,
    overview: overview(rows, scale), fit: (width) => Math.floor((width - LABEL_PX) / COLUMN_PX),
  });
  box.replaceChildren(legend(lo, hi), chart.controls, grid, chart.readout);
  chart.resize(box.clientWidth || 1100);
  onWidth(box, (width) => chart.resize(width));
}

function cell(v, r, pos, nRows, scale, boundary) {
  const span = el('span', { class: pos === boundary ? 'hm-cell first-gen' : 'hm-cell', dataset: { row: r, col: pos },
    title: `${rowTitle(r, nRows)}, position ${pos}: ${norm(v)}` });
  setStyle(span, { 'background-color': viridis(scale(v)) });
  return span;
}

function tick(token, pos, boundary) {
  return el('span', { class: pos >= boundary ? 'hm-tick gen' : 'hm-tick', title: `position ${pos}: ${token.display}` }, tokenNodes(token));
}

// Every cell of the sequence, one pixel each, stretched over the overview's width.
function overview(rows, scale) {
  const canvas = el('canvas', { class: 'win-canvas', 'aria-hidden': 'true' });
  const image = gridImage(rows, (v) => viridisRgb(scale(v)));
  canvas.width = image.width;
  canvas.height = image.height;
  canvas.getContext('2d').putImageData(image, 0, 0);
  return canvas;
}

// Row 0 is what enters block 1; row r is the stream after block r has added its output.
function rowTitle(r, nRows) {
  if (r === 0) return 'Entering block 1 (the embeddings)';
  if (r === nRows - 1) return `After block ${r}, the last (before the final layer norm)`;
  return `After block ${r}`;
}

function legend(lo, hi) {
  const ramp = el('span', { class: 'ramp' });
  setStyle(ramp, { 'background-image': viridisRamp() });
  return el('p', { class: 'legend hm-legend' }, 'Length (log scale): ', el('span', { class: 'legend-value' }, norm(lo)), ramp,
    el('span', { class: 'legend-value' }, norm(hi)));
}

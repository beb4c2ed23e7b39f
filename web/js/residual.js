// Stage 4: the residual stream's length at every block and position, as a heatmap with one
// strip per row of `resid_norms`. Colours use a log scale: in GPT-2 the first position's vector
// grows far longer than the others', and a linear scale would leave every other cell dark.
import { el, setStyle } from './dom.js';
import { norm, tokenNodes } from './format.js';
import { attachReadout } from './readout.js';
import { viridis, viridisRamp } from './views/colors.js';

export function renderResidual(box, run) {
  const rows = run.residNorms;
  const flat = rows.flat();
  const lo = Math.max(Math.min(...flat), 1e-6); // a log scale needs a positive floor
  const hi = Math.max(...flat);
  const scale = (v) => (hi > lo ? Math.log(v / lo) / Math.log(hi / lo) : 0.5);
  const cells = rows.map(() => []);
  const strips = rows.map((row, r) => strip(row, r, rows.length, scale, cells));
  const grid = el('div', { class: 'heatmap', role: 'group', 'aria-label': 'Residual stream norms by block and position' },
    strips, axis(run.tokens));
  setStyle(grid, { '--cols': String(run.tokens.length) });
  const describe = (r, pos) => `${rowTitle(r, rows.length)}, position ${pos} (${run.tokens[pos].display}): length ${norm(rows[r][pos])}.`;
  box.replaceChildren(legend(lo, hi), el('div', { class: 'scroll' }, grid), attachReadout(grid, cells, describe));
}

function strip(row, r, nRows, scale, cells) {
  const rowCells = row.map((v, pos) => {
    const cell = el('span', { class: 'hm-cell', dataset: { row: r, col: pos }, title: `${rowTitle(r, nRows)}, position ${pos}: ${norm(v)}` });
    setStyle(cell, { 'background-color': viridis(scale(v)) });
    return cell;
  });
  cells[r].push(...rowCells);
  return el('div', { class: 'hm-row', testid: 'layer-strip' },
    el('span', { class: 'hm-label' }, r === 0 ? 'embed' : `block ${r}`),
    el('div', { class: 'hm-cells' }, rowCells));
}

// Row 0 is what enters block 1; row r is the stream after block r has added its output.
function rowTitle(r, nRows) {
  if (r === 0) return 'Entering block 1 (the embeddings)';
  if (r === nRows - 1) return `After block ${r}, the last (before the final layer norm)`;
  return `After block ${r}`;
}

function axis(tokens) {
  return el('div', { class: 'hm-row hm-axis', 'aria-hidden': 'true' },
    el('span', { class: 'hm-label' }, 'token'),
    el('div', { class: 'hm-cells' }, tokens.map((t) => el('span', { class: 'hm-tick', title: t.display }, tokenNodes(t)))));
}

function legend(lo, hi) {
  const ramp = el('span', { class: 'ramp' });
  setStyle(ramp, { 'background-image': viridisRamp() });
  return el('p', { class: 'legend hm-legend' }, 'Length (log scale): ', el('span', { class: 'legend-value' }, norm(lo)), ramp,
    el('span', { class: 'legend-value' }, norm(hi)));
}

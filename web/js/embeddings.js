// Stage 3: each token's row of the embedding table, its position's row, and their sum, which
// is what enters the first block (the first row of the residual stream). A long sequence shows
// a window of positions under an overview of all of them (windowed.js).
import { el, setStyle } from './dom.js';
import { norm, tokenNodes } from './format.js';
import { gridImage, viridisRgb } from './views/colors.js';
import { onWidth, windowedChart } from './windowed.js';

const PARTS = [
  { key: 'tok', label: 'token row', long: 'length of the token’s row' },
  { key: 'pos', label: 'position row', long: 'length of the position’s row' },
  { key: 'sum', label: 'sum', long: 'length of their sum, which enters block 1' },
];
const COLUMN_PX = 47; // a column of three bars and its gap

// A family with rotary positions (Llama) has no position rows: the token's row alone enters
// block 1, so it is the only bar.
export function renderEmbeddings(box, run, model) {
  const parts = run.embedding.pos_norms.length > 0 ? PARTS : PARTS.filter((part) => part.key === 'tok');
  const values = parts.map((part) => ({ tok: run.embedding.tok_norms, pos: run.embedding.pos_norms, sum: run.residNorms[0] })[part.key]);
  const max = Math.max(...values.flat());
  const total = run.tokens.length;
  const boundary = run.promptTokens ?? total;
  const chart = el('div', { class: 'emb-chart', role: 'group', 'aria-label': 'Embedding norms by position' });
  const render = (start, size) => {
    const cells = parts.map(() => []);
    chart.replaceChildren(...Array.from({ length: size }, (_, i) => column(parts, run.tokens[start + i], start + i, values, max, cells, boundary)));
    return cells;
  };
  const describe = (row, pos) => `Position ${pos} (${run.tokens[pos].display}${pos >= boundary ? ', generated' : ''}): `
    + `${parts[row].long} is ${norm(values[row][pos])}.`;
  const windowed = windowedChart({
    chart, rows: parts.length, total, label: 'the embeddings', boundary, render, describe,
    overview: overview(values, max), fit: (width) => Math.floor(width / COLUMN_PX),
  });
  box.replaceChildren(
    el('p', { class: 'hint' }, `Each row holds ${model.n_embd} numbers; a bar is the row’s length, √(sum of squares).`),
    legend(parts),
    windowed.controls,
    chart,
    windowed.readout,
  );
  windowed.resize(box.clientWidth || 1100);
  onWidth(box, (width) => windowed.resize(width));
}

function column(parts, token, pos, values, max, cells, boundary) {
  const bars = parts.map((part, row) => {
    const bar = el('span', { class: `emb-bar ${part.key}`, dataset: { row, col: pos }, title: `${part.label}: ${norm(values[row][pos])}` });
    setStyle(bar, { height: `${(100 * values[row][pos]) / max}%` });
    cells[row].push(bar);
    return bar;
  });
  const generated = pos === boundary ? 'emb-col gen first-gen' : 'emb-col gen';
  return el('div', { class: pos >= boundary ? generated : 'emb-col' },
    el('div', { class: 'emb-bars' }, bars),
    el('span', { class: 'emb-label', title: `position ${pos}: ${token.display}` }, tokenNodes(token)));
}

// The three lengths of every position, one pixel each (brighter is longer).
function overview(values, max) {
  const canvas = el('canvas', { class: 'win-canvas', 'aria-hidden': 'true' });
  const image = gridImage(values, (v) => viridisRgb(v / max));
  canvas.width = image.width;
  canvas.height = image.height;
  canvas.getContext('2d').putImageData(image, 0, 0);
  return canvas;
}

function legend(parts) {
  return el('ul', { class: 'legend' }, parts.map((part) =>
    el('li', {}, el('span', { class: `swatch ${part.key}` }), part.long)));
}

// Stage 3: each token's row of the embedding table, its position's row, and their sum, which
// is what enters the first block (the first row of the residual stream), for the prompt and
// then the generated tokens.
import { el, setStyle } from './dom.js';
import { norm, tokenNodes } from './format.js';
import { attachReadout } from './readout.js';

const PARTS = [
  { key: 'tok', label: 'token row', long: 'length of the token’s row' },
  { key: 'pos', label: 'position row', long: 'length of the position’s row' },
  { key: 'sum', label: 'sum', long: 'length of their sum, which enters block 1' },
];

export function renderEmbeddings(box, run, model) {
  const values = [run.embedding.tok_norms, run.embedding.pos_norms, run.residNorms[0]];
  const max = Math.max(...values.flat());
  const cells = PARTS.map(() => []);
  const columns = run.tokens.map((token, pos) => column(token, pos, values, max, cells, pos >= run.promptTokens));
  if (run.tokens.length > run.promptTokens) columns.splice(run.promptTokens, 0, el('div', { class: 'emb-boundary', 'aria-hidden': 'true' }));
  const chart = el('div', { class: 'emb-chart', role: 'group', 'aria-label': 'Embedding norms by position' }, columns);
  const describe = (row, pos) => `Position ${pos} (${run.tokens[pos].display}${pos >= run.promptTokens ? ', generated' : ''}): `
    + `${PARTS[row].long} is ${norm(values[row][pos])}.`;
  box.replaceChildren(
    el('p', { class: 'hint' }, `Each row holds ${model.n_embd} numbers; a bar is the row’s length, √(sum of squares).`),
    legend(),
    el('div', { class: 'scroll' }, chart),
    attachReadout(chart, cells, describe),
  );
}

function column(token, pos, values, max, cells, generated) {
  const bars = PARTS.map((part, row) => {
    const bar = el('span', { class: `emb-bar ${part.key}`, dataset: { row, col: pos }, title: `${part.label}: ${norm(values[row][pos])}` });
    setStyle(bar, { height: `${(100 * values[row][pos]) / max}%` });
    cells[row].push(bar);
    return bar;
  });
  return el('div', { class: generated ? 'emb-col gen' : 'emb-col' },
    el('div', { class: 'emb-bars' }, bars),
    el('span', { class: 'emb-label' }, tokenNodes(token)));
}

function legend() {
  return el('ul', { class: 'legend' }, PARTS.map((part) =>
    el('li', {}, el('span', { class: `swatch ${part.key}` }), part.long)));
}

// The logit lens: at one position, what the residual stream decodes to after each layer (the
// final layer norm and the unembedding applied early), so a learner sees the prediction form.
import { el, setStyle } from '../dom.js';
import { pct, tokenNodes } from '../format.js';
import { probWash } from './colors.js';
import { frame, positionPicker } from './frame.js';
import { viewsApi } from './http.js';

export function lensView(box, ctx) {
  const shell = frame(box, {
    id: 'lens',
    title: 'Logit lens',
    explain: 'Pick a position. Each row decodes the residual stream there as if the model stopped at that layer: '
      + 'the final layer norm and the unembedding applied early. The last column follows the token the full model '
      + 'predicts: its rank (1 = top) and probability at every layer.',
    isStatic: ctx.source.mode === 'static',
  });
  let shown = null; // { key, run, lens }
  return {
    box,
    async update(run) {
      if (ctx.source.mode === 'static') return;
      const last = run.tokenIds.length - 1;
      const pos = Math.min(ctx.state.pos ?? last, last);
      const key = JSON.stringify([run.tokenIds, pos]);
      if (shown?.key === key) return;
      const lens = await viewsApi.lens(run.tokenIds, pos);
      shown = { key, run, lens };
      shell.showPrompt(run);
      const pick = (p) => {
        ctx.state.pos = p;
        ctx.changed();
        this.update(run).catch((err) => ctx.onError(err.message));
      };
      shell.body.replaceChildren(positionPicker(run.tokens, pos, 'lens-position', pick), table(lens, run));
    },
    exportData() {
      if (!shown) return null;
      const { run, lens } = shown;
      const rows = lens.rows.flatMap((row, layer) => row.top.map((t, rank) => [layer, row.hook, rank + 1, t.id, t.text, t.prob,
        row.final_rank + 1, row.final_prob]));
      return {
        json: { prompt: run.prompt, token_ids: run.tokenIds, lens },
        header: ['layer', 'hook', 'rank', 'id', 'text', 'prob', 'final_rank', 'final_prob'],
        rows,
      };
    },
  };
}

function table(lens, run) {
  const n = lens.rows.length;
  // Colours are relative to the largest probability shown: a random model's are all tiny.
  const max = Math.max(...lens.rows.flatMap((row) => row.top.map((t) => t.prob)), 1e-12);
  const head = el('tr', {}, el('th', { scope: 'col' }, 'layer'),
    lens.rows[0].top.map((_, i) => el('th', { scope: 'col' }, `#${i + 1}`)),
    el('th', { scope: 'col' }, 'final prediction ', finalToken(lens)));
  const body = lens.rows.map((row, r) => el('tr', { testid: 'lens-row', dataset: { hook: row.hook } },
    el('th', { scope: 'row', title: row.hook }, rowName(r, n)),
    row.top.map((t) => cell(t, t.id === lens.final_id, max)),
    el('td', { class: 'lens-final', testid: 'lens-final' }, `rank ${row.final_rank + 1}, ${pct(row.final_prob)}`)));
  const token = run.tokens[lens.position];
  return el('div', { class: 'scroll' }, el('table', { class: 'lens', testid: 'lens-table' },
    el('caption', {}, 'After ', el('span', { class: 'token-inline' }, tokenNodes(token)), ` (position ${lens.position})`),
    el('thead', {}, head), el('tbody', {}, body)));
}

// The full model's top token is the last row's first entry.
function finalToken(lens) {
  const token = lens.rows.at(-1).top.find((t) => t.id === lens.final_id);
  return token ? el('span', { class: 'token-inline' }, tokenNodes(token)) : `id ${lens.final_id}`;
}

// Row 0 is the embeddings entering block 1; the last is after the last block.
function rowName(r, n) {
  if (r === 0) return 'embeddings';
  return r === n - 1 ? `block ${r} (final)` : `after block ${r}`;
}

function cell(t, isFinal, max) {
  const td = el('td', { class: isFinal ? 'lens-cell is-final' : 'lens-cell', title: `id ${t.id}: ${pct(t.prob)}` },
    el('span', { class: 'cand-token' }, tokenNodes(t)), el('span', { class: 'lens-p' }, pct(t.prob)));
  setStyle(td, { 'background-color': probWash(t.prob / max) });
  return td;
}

// The logit lens: at one position, what the residual stream decodes to after each layer (the
// final layer norm and the unembedding applied early), so a learner sees the prediction form.
// A position is picked with a slider or a number (keyboard) or by clicking a token in the text,
// at any length; the answer arrives beside the text (below it on a phone) with progress.
import { debounce, el, setStyle } from '../dom.js';
import { pct, tokenNodes } from '../format.js';
import { probWash } from './colors.js';
import { frame } from './frame.js';
import { viewsApi } from './http.js';
import { positionPicker } from './picker.js';

export function lensView(box, ctx) {
  const shell = frame(box, {
    id: 'lens',
    title: 'Logit lens',
    explain: 'Pick a position. Each row decodes the residual stream there as if the model stopped at that '
      + 'layer: the final layer norm and the unembedding applied early. The last column follows the token the full '
      + 'model predicts: its rank (1 = top) and probability at every layer.',
    isStatic: ctx.source.mode === 'static',
  });
  const result = el('div', { class: 'lens-result', 'aria-live': 'polite' });
  let shown = null; // { key, run, lens }
  let picker = null;
  let run = null;

  const load = async (pos) => {
    const key = JSON.stringify([run.tokenIds, pos]);
    if (shown?.key === key) return;
    const current = run;
    result.firstChild?.classList.add('stale');
    const lens = await shell.tasks.run('lens', `Decoding position ${pos} at every layer`,
      (signal) => viewsApi.lens(current.tokenIds, pos, signal));
    if (!lens || run !== current) return;
    shown = { key, run: current, lens };
    result.replaceChildren(table(lens, current));
    bringIntoView(result);
  };
  const loadSoon = debounce((pos) => load(pos), 200);
  const pick = (pos, { now = false } = {}) => {
    ctx.state.pos = pos;
    ctx.changed();
    (now ? load : loadSoon)(pos);
  };

  return {
    box,
    async update(next) {
      if (ctx.source.mode === 'static') return;
      const last = next.tokenIds.length - 1;
      const pos = Math.min(ctx.state.pos ?? last, last);
      if (run?.tokenIds.join() !== next.tokenIds.join()) {
        run = next;
        shown = null;
        shell.tasks.reset();
        shell.showPrompt(run);
        picker = positionPicker({ run, selected: pos, testid: 'lens-position', onPick: pick });
        result.replaceChildren();
        shell.body.replaceChildren(el('div', { class: 'lens-layout' }, picker.box, result));
      }
      run = next;
      picker.select(pos);
      await load(pos);
    },
    busy: () => shell.tasks.busy(),
    exportData() {
      if (!shown) return null;
      const { run: r, lens } = shown;
      const rows = lens.rows.flatMap((row, layer) => row.top.map((t, rank) => [layer, row.hook, rank + 1, t.id, t.text, t.prob,
        row.final_rank + 1, row.final_prob]));
      return {
        json: { prompt: r.prompt, token_ids: r.tokenIds, lens },
        header: ['layer', 'hook', 'rank', 'id', 'text', 'prob', 'final_rank', 'final_prob'],
        rows,
      };
    },
  };
}

// The answer in view without taking focus from the control that asked for it.
function bringIntoView(node) {
  const rect = node.getBoundingClientRect();
  if (rect.top < 0 || rect.top > window.innerHeight - 80) node.scrollIntoView({ block: 'nearest' });
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
  // A focusable region: on a phone the table scrolls sideways, and keyboards must reach that.
  return el('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': `Logit lens at position ${lens.position}` },
    el('table', { class: 'lens', testid: 'lens-table' },
      el('caption', {}, 'After ', el('span', { class: 'token-inline' }, tokenNodes(token)),
        ` (position ${lens.position}): what each layer would predict next`),
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

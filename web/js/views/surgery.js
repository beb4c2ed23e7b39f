// Tokenizer surgery: how BPE cut the prompt, the vocabulary both ways, and an editable token
// sequence whose next-token prediction is compared with the original's.
import { el } from '../dom.js';
import { hexBytes, tokenNodes } from '../format.js';
import { renderComparison } from './compare.js';
import { editor } from './edits.js';
import { frame } from './frame.js';
import { viewsApi } from './http.js';
import { renderMerges } from './merges.js';

export function surgeryView(box, ctx) {
  const shell = frame(box, {
    id: 'surgery',
    title: 'Tokenizer surgery',
    explain: 'BPE starts from single bytes and repeatedly merges the adjacent pair with the lowest rank (learned '
      + 'first) until no pair is in its merge list. Below: every merge of your prompt, a vocabulary lookup, and the '
      + 'token sequence to edit. Any edit reruns the model on the new sequence, even one the tokenizer would never produce.',
    isStatic: ctx.source.mode === 'static',
  });
  const parts = { merges: el('div'), lookup: lookupBox(ctx.onError), result: el('div', { 'aria-live': 'polite' }) };
  let shown = null; // { run, bpe, comparison, after }
  let version = 0;
  const compare = async (tokens) => {
    if (!shown) return;
    const mine = ++version;
    parts.result.classList.add('stale');
    const after = tokens.map((t) => t.id);
    if (!after.length) return;
    // The link carries the edited sequence, and nothing while it is the prompt's own.
    ctx.state.edit = after.join() === shown.run.tokenIds.join() ? null : after;
    ctx.changed();
    const comparison = await viewsApi.compare(shown.run.tokenIds, after);
    if (mine !== version) return; // a later edit's answer is on its way
    Object.assign(shown, { comparison, after });
    parts.result.classList.remove('stale');
    const same = sameBytes(shown.bpe.pre_tokens.flatMap((p) => p.tokens), tokens) && after.join() !== shown.run.tokenIds.join();
    parts.result.replaceChildren(...renderComparison(comparison, same));
  };
  const edit = editor({ onEdit: (tokens) => compare(tokens).catch((err) => ctx.onError(err.message)), onError: ctx.onError });
  shell.body.append(el('h3', {}, 'How BPE built each token'), parts.merges, el('h3', {}, 'Look up the vocabulary'), parts.lookup,
    el('h3', {}, 'Edit the tokens'), el('p', { class: 'hint' }, 'Pick a token, then change it.',
      el('button', { type: 'button', testid: 'edit-reset', class: 'inline-button', onclick: () => reset() }, 'Reset')),
    edit.box, parts.result);
  const show = (tokens) => {
    edit.set(tokens);
    compare(tokens).catch((err) => ctx.onError(err.message));
  };
  const reset = () => show(shown.bpe.pre_tokens.flatMap((p) => p.tokens));
  return {
    box,
    async update(run) {
      if (ctx.source.mode === 'static' || shown?.run === run) return;
      const bpe = await viewsApi.bpe(run.prompt);
      // A link's edits apply to the run it was made for: its first one here.
      const linked = shown ? null : ctx.state.edit;
      shown = { run, bpe, comparison: null, after: run.tokenIds };
      shell.showPrompt(run);
      parts.merges.replaceChildren(renderMerges(bpe));
      if (!linked) return reset();
      try {
        show(await Promise.all(linked.map((id) => viewsApi.vocab(id))));
      } catch (err) {
        ctx.onError(`The link's edited tokens could not be shown: ${err.message}`);
        reset();
      }
    },
    exportData() {
      if (!shown?.comparison) return null;
      const { run, bpe, comparison, after } = shown;
      const row = (side) => (c) => [side, c.rank + 1, c.id, c.text, c.prob, comparison.kl_nats, comparison.kl_bits];
      return {
        json: { prompt: run.prompt, before: run.tokenIds, after, bpe, comparison },
        header: ['side', 'rank', 'id', 'text', 'prob', 'kl_nats', 'kl_bits'],
        rows: [...comparison.before.map(row('before')), ...comparison.after.map(row('after'))],
      };
    },
  };
}

const sameBytes = (a, b) => a.flatMap((t) => t.bytes).join() === b.flatMap((t) => t.bytes).join();

function lookupBox(onError) {
  const result = el('p', { class: 'readout', testid: 'lookup-result', 'aria-live': 'polite' });
  const idInput = el('input', { type: 'number', min: 0, step: 1, testid: 'lookup-id-input', 'aria-label': 'Token id', class: 'short' });
  const textInput = el('input', { type: 'text', testid: 'lookup-text-input', 'aria-label': 'Token text', class: 'short' });
  const show = (token) => [el('span', { class: 'token-inline' }, tokenNodes(token)), ` is id ${token.id}, bytes ${hexBytes(token.bytes)}.`];
  const byId = async () => result.replaceChildren(...show(await viewsApi.vocab(idInput.value.trim())));
  const byText = async () => {
    const found = await viewsApi.lookupText(textInput.value);
    const encoded = found.encoded ?? [];
    result.replaceChildren(...(found.token ? show(found.token)
      : [`Not one token: the tokenizer cuts it into ${encoded.length}: `, ...encoded.flatMap((t) => [el('span', { class: 'token-inline' }, tokenNodes(t)), ` ${t.id} `])]));
  };
  const go = (fn) => () => fn().catch((err) => { result.textContent = err.message; onError(null); });
  return el('div', {}, el('div', { class: 'row' },
    el('label', { class: 'inline' }, 'Id → token ', idInput), el('button', { type: 'button', testid: 'lookup-id-button', onclick: go(byId) }, 'Find'),
    el('label', { class: 'inline' }, 'Text → id ', textInput), el('button', { type: 'button', testid: 'lookup-text-button', onclick: go(byText) }, 'Find')),
  result);
}

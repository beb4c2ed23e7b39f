// Tokenizer surgery: how BPE cut the prompt (a page of tokens at a time), the vocabulary both
// ways, and an editable token sequence whose next-token prediction is compared with the
// original's. Works at any length: merges are paged, the editor shows a window of tokens.
import { el } from '../dom.js';
import { hexBytes, tokenNodes } from '../format.js';
import { renderComparison } from './compare.js';
import { editor } from './edits.js';
import { frame } from './frame.js';
import { viewsApi } from './http.js';
import { pager, pageText, pages, renderMerges } from './merges.js';

export function surgeryView(box, ctx) {
  const shell = frame(box, {
    id: 'surgery',
    title: 'Tokenizer surgery',
    explain: 'BPE starts from single bytes and repeatedly merges the adjacent pair with the lowest rank (learned '
      + 'first) until no pair is in its merge list. Below: every merge of your prompt, a vocabulary lookup, and the '
      + 'token sequence to edit. Any edit reruns the model on the new sequence, even one the tokenizer would never produce.',
    isStatic: ctx.source.mode === 'static',
  });
  const parts = { pager: el('div'), merges: el('div'), lookup: lookupBox(), result: el('div', { 'aria-live': 'polite' }) };
  let shown = null; // { run, comparison, after }
  const compare = async (tokens) => {
    if (!shown || !tokens.length) return;
    const { run } = shown;
    const after = tokens.map((t) => t.id);
    // The link carries the edited sequence, and nothing while it is the prompt's own.
    ctx.state.edit = after.join() === run.tokenIds.join() ? null : after;
    ctx.changed();
    parts.result.classList.add('stale');
    const comparison = await shell.tasks.run('compare', 'Running the model on the edited tokens',
      (signal) => viewsApi.compare(run.tokenIds, after, signal));
    if (!comparison || shown?.run !== run) return;
    Object.assign(shown, { comparison, after });
    parts.result.classList.remove('stale');
    const same = sameBytes(run.tokens, tokens) && after.join() !== run.tokenIds.join();
    parts.result.replaceChildren(...renderComparison(comparison, same));
  };
  const edit = editor({ onEdit: compare });
  shell.body.append(el('h3', {}, 'How BPE built each token'), parts.pager, parts.merges, el('h3', {}, 'Look up the vocabulary'),
    parts.lookup, el('h3', {}, 'Edit the tokens'), el('p', { class: 'hint' }, 'Pick a token, then change it.',
      el('button', { type: 'button', testid: 'edit-reset', class: 'inline-button', onclick: () => reset() }, 'Reset')),
    edit.box, parts.result);
  const show = (tokens) => {
    edit.set(tokens);
    compare(tokens);
  };
  const reset = () => show(shown.run.tokens);
  const showMerges = (run) => {
    const prompt = run.tokens.slice(0, run.promptTokens ?? run.tokens.length);
    const list = pages(prompt);
    const nav = pager(list, prompt.length, async (index) => {
      const page = list[index];
      parts.merges.firstChild?.classList.add('stale');
      const bpe = await shell.tasks.run('bpe', 'Explaining the merges', (signal) => viewsApi.bpe(pageText(prompt, page), signal));
      if (!bpe || shown?.run !== run) return;
      parts.merges.replaceChildren(renderMerges(bpe, page));
    });
    parts.pager.replaceChildren(nav.box);
    nav.go(0);
  };
  return {
    box,
    async update(run) {
      if (ctx.source.mode === 'static' || shown?.run.tokenIds.join() === run.tokenIds.join()) return;
      // A link's edits apply to the run it was made for: its first one here.
      const linked = shown ? null : ctx.state.edit;
      shown = { run, comparison: null, after: run.tokenIds };
      shell.tasks.reset();
      shell.showPrompt(run);
      showMerges(run);
      if (!linked) return reset();
      const tokens = await shell.tasks.run('link', 'Opening the link’s edited tokens', () => Promise.all(linked.map((id) => viewsApi.vocab(id))));
      return tokens ? show(tokens) : reset();
    },
    busy: () => shell.tasks.busy(),
    exportData() {
      if (!shown?.comparison) return null;
      const { run, comparison, after } = shown;
      const row = (side) => (c) => [side, c.rank + 1, c.id, c.text, c.prob, comparison.kl_nats, comparison.kl_bits];
      return {
        json: { prompt: run.prompt, before: run.tokenIds, after, comparison },
        header: ['side', 'rank', 'id', 'text', 'prob', 'kl_nats', 'kl_bits'],
        rows: [...comparison.before.map(row('before')), ...comparison.after.map(row('after'))],
      };
    },
  };
}

const sameBytes = (a, b) => a.flatMap((t) => t.bytes).join() === b.flatMap((t) => t.bytes).join();

function lookupBox() {
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
  const go = (fn) => () => fn().catch((err) => { result.textContent = err.message; });
  return el('div', {}, el('div', { class: 'row' },
    el('label', { class: 'inline' }, 'Id → token ', idInput), el('button', { type: 'button', testid: 'lookup-id-button', onclick: go(byId) }, 'Find'),
    el('label', { class: 'inline' }, 'Text → id ', textInput), el('button', { type: 'button', testid: 'lookup-text-button', onclick: go(byText) }, 'Find')),
  result);
}

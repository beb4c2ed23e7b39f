// Editing the token sequence: pick a chip, then split it (into two vocabulary tokens or into
// its bytes), merge it with the next one when their joined bytes are a token, replace it by
// id, insert before it (an id or a text's tokens) or delete it. Each edit gives a new list;
// `onEdit(tokens)` runs the comparison. A long sequence shows a window of chips around the
// selected one, moved with a slider; a failed lookup says so here.
import { el, keepFocus } from '../dom.js';
import { count, hexBytes, tokenNodes } from '../format.js';
import { viewsApi } from './http.js';

const WINDOW = 40; // chips shown at once

export function editor({ onEdit }) {
  const chips = el('ol', { class: 'chips', 'aria-label': 'Edited tokens' });
  const actions = el('div', { class: 'edit-actions' });
  const problem = el('p', { class: 'hint over', role: 'alert', testid: 'edit-error' });
  const slider = el('input', { type: 'range', min: 0, step: 1, value: 0, testid: 'edit-slider', 'aria-label': 'Selected token',
    oninput: () => { selected = Number(slider.value); render(); } });
  const where = el('span', { class: 'win-where' });
  const bar = el('div', { class: 'win-bar' }, slider, where);
  const box = el('div', { class: 'editor' }, bar, chips, actions, problem);
  let tokens = [];
  let selected = 0;
  let version = 0; // the actions of the latest selection win over slower lookups
  // The clicked action is replaced by the new list's: focus goes to the edited token.
  const apply = (next, at) => {
    tokens = next;
    selected = Math.min(Math.max(at, 0), Math.max(tokens.length - 1, 0));
    render();
    chips.querySelector('[aria-pressed="true"]')?.focus();
    onEdit(tokens);
  };
  const guard = (fn) => () => {
    problem.textContent = '';
    fn().catch((err) => { problem.textContent = err.message; });
  };
  const render = () => {
    const from = Math.min(Math.max(selected - WINDOW / 2, 0), Math.max(tokens.length - WINDOW, 0));
    const shown = tokens.slice(from, from + WINDOW);
    bar.hidden = tokens.length <= WINDOW;
    slider.max = String(Math.max(tokens.length - 1, 0));
    slider.value = String(selected);
    where.textContent = `token ${count(selected)} of 0–${count(tokens.length - 1)}`;
    keepFocus(chips, 'data-pos', () => chips.replaceChildren(...shown.map((t, k) => {
      const i = from + k;
      return el('li', {}, el('button', { type: 'button', class: 'chip', testid: 'edit-chip', 'aria-pressed': String(i === selected),
        dataset: { pos: i }, title: `position ${i}, id ${t.id}, bytes ${hexBytes(t.bytes)}`, onclick: () => { selected = i; render(); } },
      el('span', { class: 'chip-text' }, tokenNodes(t)), el('span', { class: 'chip-id' }, String(t.id))));
    })));
    const mine = ++version;
    if (tokens.length) {
      fillActions(actions, { tokens, selected, apply, guard, isCurrent: () => mine === version })
        .catch((err) => { problem.textContent = err.message; });
    }
  };
  return {
    box,
    set(list) {
      tokens = list;
      selected = 0;
      problem.textContent = '';
      render();
    },
  };
}

async function fillActions(box, { tokens, selected: i, apply, guard, isCurrent }) {
  const token = tokens[i];
  const splice = (count, ...added) => [...tokens.slice(0, i), ...added, ...tokens.slice(i + count)];
  const idInput = el('input', { type: 'number', min: 0, step: 1, testid: 'edit-id-input', 'aria-label': 'Token id', class: 'short' });
  const textInput = el('input', { type: 'text', testid: 'edit-text-input', 'aria-label': 'Text to insert', class: 'short' });
  const byId = async () => viewsApi.vocab(idInput.value.trim());
  const button = (testid, label, fn, disabled = false) => el('button', { type: 'button', testid, disabled, onclick: guard(fn) }, label);
  box.replaceChildren(
    el('span', { class: 'hint' }, 'Selected: ', el('span', { class: 'token-inline' }, tokenNodes(token)), ` (id ${token.id})`),
    button('edit-delete', 'Delete', async () => apply(splice(1), i), tokens.length < 2),
    idInput, button('edit-replace', 'Replace by id', async () => apply(splice(1, await byId()), i)),
    button('edit-insert-id', 'Insert id before', async () => apply(splice(0, await byId()), i + 1)),
    textInput, button('edit-insert-text', 'Insert text before', async () => {
      const { encoded } = await viewsApi.lookupText(textInput.value);
      apply(splice(0, ...encoded), i + encoded.length);
    }),
  );
  // Splits and merges depend on the vocabulary: ask, then offer only what exists.
  const next = tokens[i + 1];
  const [entry, merged] = await Promise.all([viewsApi.vocab(token.id),
    next ? viewsApi.lookupBytes([...token.bytes, ...next.bytes]) : null]);
  if (!isCurrent()) return;
  box.append(
    ...entry.splits.map((s) => button('edit-split', ['Split: ', ...tokenNodes(s.left), ' | ', ...tokenNodes(s.right)],
      async () => apply(splice(1, s.left, s.right), i))),
    button('edit-split-bytes', entry.byte_tokens.length < 2 ? 'Split into bytes (it is one byte)' : `Split into ${entry.byte_tokens.length} bytes`,
      async () => apply(splice(1, ...entry.byte_tokens), i), entry.byte_tokens.length < 2),
    button('edit-merge', merged?.token ? ['Merge with next → ', ...tokenNodes(merged.token)] : 'Merge with next (not a token)',
      async () => apply([...tokens.slice(0, i), merged.token, ...tokens.slice(i + 2)], i), !merged?.token),
  );
}

// The shell every analysis view shares: a heading, a short explanation, the prompt it is about,
// and a note in place of the content when the page is a static recording.
import { el } from '../dom.js';
import { tokenNodes } from '../format.js';

export function frame(box, { id, title, explain, isStatic }) {
  const body = el('div', { class: 'view-body' });
  const about = el('p', { class: 'hint view-prompt', testid: `${id}-prompt` });
  box.replaceChildren(el('div', { class: 'stage' },
    el('h2', {}, title), el('p', { class: 'explain' }, explain), about,
    isStatic ? el('p', { class: 'banner' }, 'This view runs the model on your prompt, so it needs the server (nexttoken serve).') : body));
  return {
    body,
    showPrompt(run) {
      about.replaceChildren('Prompt: ', el('span', { class: 'token-inline' }, run.prompt), ` (${run.tokens.length} tokens)`);
    },
  };
}

// Token buttons for picking a position; `onPick(pos)`.
export function positionPicker(tokens, selected, testid, onPick) {
  return el('div', { class: 'chips picker', role: 'group', 'aria-label': 'Position' }, tokens.map((t, pos) => el('button', {
    type: 'button', class: 'chip', testid, 'aria-pressed': String(pos === selected), dataset: { pos },
    title: `position ${pos}, id ${t.id}`, onclick: () => onPick(pos),
  }, el('span', { class: 'chip-text' }, tokenNodes(t)))));
}

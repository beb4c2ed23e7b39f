// Stage 2: the prompt as the model sees it, one chip per token.
import { el } from './dom.js';
import { hexBytes, plural, tokenNodes } from './format.js';

export function renderTokens(list, countLabel, run) {
  list.replaceChildren(...run.tokens.map((token, pos) => chip(token, pos)));
  list.dataset.prompt = run.prompt;
  countLabel.textContent = plural(run.tokens.length, 'token');
}

function chip(token, pos) {
  const bytes = token.bytes ? `, bytes ${hexBytes(token.bytes)}` : '';
  return el('li', { class: 'chip', testid: 'token-chip', title: `position ${pos}, id ${token.id}${bytes}` },
    el('span', { class: 'chip-text' }, tokenNodes(token)),
    el('span', { class: 'chip-id' }, String(token.id)));
}

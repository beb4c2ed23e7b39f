// Stage 2: the sequence as the model sees it, one chip per token: the prompt's, then the
// generated ones (shaded, after a marked boundary), since each is read back in as input.
import { el } from './dom.js';
import { count, hexBytes, plural, tokenNodes } from './format.js';

export function renderTokens(list, countLabel, run) {
  const chips = run.tokens.map((token, pos) => chip(token, pos, pos >= run.promptTokens));
  if (run.tokens.length > run.promptTokens) chips.splice(run.promptTokens, 0, boundary());
  list.replaceChildren(...chips);
  list.dataset.prompt = run.prompt;
  const generated = run.tokens.length - run.promptTokens;
  // The newest tokens in view when the list scrolls in its box.
  const box = list.parentElement;
  box.scrollTop = generated ? box.scrollHeight : 0;
  countLabel.textContent = generated ? `${plural(run.promptTokens, 'prompt token')} + ${count(generated)} generated` : plural(run.tokens.length, 'token');
}

function chip(token, pos, generated) {
  const bytes = token.bytes?.length ? `, bytes ${hexBytes(token.bytes)}` : '';
  const what = generated ? 'generated, ' : '';
  return el('li', { class: generated ? 'chip gen' : 'chip', testid: 'token-chip', dataset: { pos }, title: `${what}position ${pos}, id ${token.id}${bytes}` },
    el('span', { class: 'chip-text' }, tokenNodes(token)),
    el('span', { class: 'chip-id' }, String(token.id)));
}

// Where the prompt ends: the chips after it were chosen by the model, one per step.
export function boundary() {
  return el('li', { class: 'boundary', testid: 'boundary' }, 'generated →');
}

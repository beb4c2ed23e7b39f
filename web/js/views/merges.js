// How BPE built each pre-token: its bytes (hex), the single-byte start, every merge in order
// with its rank, and the final tokens.
import { el } from '../dom.js';
import { hexBytes, plural, tokenNodes } from '../format.js';

// Past this many pre-tokens the cards start closed, so a long prompt stays scannable.
const OPEN_UP_TO = 12;

export function renderMerges(bpe) {
  const open = bpe.pre_tokens.length <= OPEN_UP_TO;
  return el('div', { class: 'merges', testid: 'bpe-merges' }, bpe.pre_tokens.map((pre) => card(pre, open)));
}

function card(pre, open) {
  const shown = { text: pre.text, display: pre.tokens.map((t) => t.display).join('') };
  const summary = el('summary', {}, el('span', { class: 'token-inline' }, tokenNodes(shown)),
    ` → ${plural(pre.tokens.length, 'token')}, ${plural(pre.steps.length, 'merge')}`);
  const rows = [
    el('li', {}, el('span', { class: 'merge-what' }, pre.special ? 'special token, no BPE' : `${plural(pre.bytes.length, 'byte')}: ${hexBytes(pre.bytes)}`),
      pre.special ? null : parts(pre.initial)),
    ...pre.steps.map((step) => el('li', { testid: 'bpe-step' },
      el('span', { class: 'merge-what' }, `rank ${step.rank.toLocaleString('en-US')}: `, piece(step.left), ' + ', piece(step.right)),
      step.parts.length ? parts(step.parts) : null)),
    el('li', { class: 'merge-final' }, el('span', { class: 'merge-what' }, 'tokens'), el('span', { class: 'parts' },
      pre.tokens.map((t) => el('span', { class: 'chip', title: `bytes ${hexBytes(t.bytes)}` },
        el('span', { class: 'chip-text' }, tokenNodes(t)), el('span', { class: 'chip-id' }, String(t.id)))))),
  ];
  return el('details', { class: 'merge-card', open, testid: 'bpe-card' }, summary, el('ol', { class: 'merge-steps' }, rows));
}

const piece = (display) => el('span', { class: 'token-inline' }, tokenNodes({ display, text: display }));

function parts(list) {
  return el('span', { class: 'parts' }, list.map((display) => el('span', { class: 'part' }, tokenNodes({ display, text: display }))));
}

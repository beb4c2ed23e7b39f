// How BPE built each pre-token: its bytes (hex), the single-byte start, every merge in order
// with its rank, and the final tokens. A long prompt is explained a page of tokens at a time,
// each page cut where a word starts (a token " word" always begins a pre-token), so every
// page's merges are exactly the ones the whole text went through.
import { el } from '../dom.js';
import { count, hexBytes, plural, tokenNodes } from '../format.js';

// Past this many pre-tokens the cards start closed, so a long prompt stays scannable.
const OPEN_UP_TO = 12;
const PAGE_TOKENS = 80; // tokens per page, about
const PAGE_BYTES = 2000; // the most one page sends: /api/bpe explains at most 2,048 bytes

// Token ranges [from, to) of about PAGE_TOKENS, cut before a token that starts a word; `cut`
// when no such token came before PAGE_BYTES and the page had to end inside a word.
export function pages(tokens) {
  const list = [];
  let from = 0;
  while (from < tokens.length) {
    let to = from;
    let bytes = 0;
    let lastWord = -1;
    while (to < tokens.length && bytes + tokens[to].bytes.length <= PAGE_BYTES) {
      if (to > from && startsWord(tokens[to])) {
        lastWord = to;
        if (to - from >= PAGE_TOKENS) break;
      }
      bytes += tokens[to].bytes.length;
      to += 1;
    }
    const clean = to < tokens.length && to > from && startsWord(tokens[to]);
    const end = to >= tokens.length ? tokens.length : clean ? to : lastWord > from ? lastWord : Math.max(to, from + 1);
    list.push({ from, to: end, cut: end < tokens.length && !startsWord(tokens[end]) });
    from = end;
  }
  return list;
}

const SPACE = 0x20;
const isSpace = (b) => b === SPACE || (b >= 9 && b <= 13);
const startsWord = (t) => t.bytes.length > 1 && t.bytes[0] === SPACE && !isSpace(t.bytes[1]);

// The text of tokens [from, to): whole characters, since the page starts and ends at a space
// (or at the text's ends).
export function pageText(tokens, { from, to }) {
  return new TextDecoder().decode(Uint8Array.from(tokens.slice(from, to).flatMap((t) => t.bytes)));
}

export function renderMerges(bpe, page) {
  const open = bpe.pre_tokens.length <= OPEN_UP_TO;
  return el('div', {},
    page.cut ? el('p', { class: 'hint' }, 'This page ends inside a long word: its last word is explained as far as the page goes.') : null,
    el('div', { class: 'merges', testid: 'bpe-merges' }, bpe.pre_tokens.map((pre) => card(pre, open))));
}

// "Tokens 0–79 of 1,000 (page 1 of 13)" with Previous and Next; `onPage(index)`.
export function pager(list, total, onPage) {
  const where = el('span', { class: 'win-where', 'aria-live': 'polite' });
  const previous = el('button', { type: 'button', class: 'win-step', testid: 'bpe-previous', onclick: () => go(current - 1) }, '◀ Previous');
  const next = el('button', { type: 'button', class: 'win-step', testid: 'bpe-next', onclick: () => go(current + 1) }, 'Next ▶');
  const box = el('div', { class: 'win-bar', role: 'group', 'aria-label': 'Pages of the merges' }, previous, next, where);
  let current = 0;
  function go(index) {
    current = Math.min(Math.max(index, 0), list.length - 1);
    const { from, to } = list[current];
    previous.disabled = current === 0;
    next.disabled = current === list.length - 1;
    where.textContent = `Tokens ${count(from)}–${count(to - 1)} of ${count(total)} (page ${current + 1} of ${list.length})`;
    onPage(current);
  }
  box.hidden = list.length < 2;
  return { box, go };
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

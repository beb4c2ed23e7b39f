// Picking one position of a sequence of any length: a slider and a number for the keyboard,
// the tokens around the pick, and the whole text, where a click on a token picks it. One tab
// stop per control, however long the text (not a button per token).
import { el } from '../dom.js';
import { count, tokenNodes } from '../format.js';

const CONTEXT = 6; // tokens shown on each side of the pick
const LINE = 10; // tokens an up or down arrow moves in the text, about a line

// `onPick(pos, { now })`: `now` for a deliberate pick (a click, Enter), not a slider drag.
export function positionPicker({ run, selected, testid, onPick }) {
  const last = run.tokens.length - 1;
  const boundary = run.promptTokens ?? run.tokens.length;
  const slider = el('input', { type: 'range', min: 0, max: last, step: 1, value: selected, testid: `${testid}-slider`,
    'aria-label': 'Position', oninput: () => choose(Number(slider.value)) });
  const number = el('input', { type: 'number', min: 0, max: last, step: 1, value: selected, class: 'short',
    testid: `${testid}-input`, 'aria-label': 'Position number',
    onchange: () => choose(Number(number.value), true) }); // Enter commits a number too
  const context = el('p', { class: 'picker-context', testid: `${testid}-context`, 'aria-live': 'polite' });
  const spans = run.tokens.map((t, pos) => el('span', {
    class: pos >= boundary ? 'pick-token gen' : 'pick-token', testid, dataset: { pos }, title: `position ${pos}, id ${t.id}`,
  }, t.text));
  // One tab stop that scrolls (so keyboards reach all of it): arrow keys move the pick a token
  // at a time, Page Up/Down by a line's worth, Home/End to the ends, Enter asks at once.
  const text = el('div', { class: 'picker-text', tabindex: 0, role: 'group', testid: `${testid}-text`,
    'aria-label': 'The text: click a token, or use the arrow keys here, to pick its position' }, spans);
  text.addEventListener('click', (event) => {
    const span = event.target.closest('[data-pos]');
    if (span) choose(Number(span.dataset.pos), true);
  });
  text.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') return choose(current, true);
    const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -LINE, ArrowDown: LINE, PageUp: -10 * LINE, PageDown: 10 * LINE,
      Home: -Infinity, End: Infinity }[event.key];
    if (step == null) return undefined;
    event.preventDefault();
    return choose(Math.min(Math.max(current + step, 0), last));
  });
  const box = el('div', { class: 'picker' },
    el('div', { class: 'picker-controls' }, el('span', { class: 'picker-label' }, 'Position'), slider, number,
      el('span', { class: 'hint' }, `of 0–${count(last)}`)),
    context,
    el('p', { class: 'hint picker-hint' }, 'Or click a token in the text:'),
    text);
  let current = -1;

  const select = (pos) => {
    if (pos === current) return;
    spans[current]?.removeAttribute('aria-current');
    current = pos;
    spans[pos].setAttribute('aria-current', 'true');
    slider.value = String(pos);
    if (document.activeElement !== number) number.value = String(pos);
    context.replaceChildren(...around(run.tokens, pos, boundary));
    requestAnimationFrame(() => scrollWithin(text, spans[pos])); // once laid out
  };
  function choose(pos, now = false) {
    if (!Number.isFinite(pos)) return;
    const clamped = Math.min(Math.max(Math.round(pos), 0), last);
    if (now) number.value = String(clamped);
    select(clamped);
    onPick(clamped, { now });
  }
  select(selected);
  return { box, select };
}

function around(tokens, pos, boundary) {
  const from = Math.max(0, pos - CONTEXT);
  const to = Math.min(tokens.length, pos + CONTEXT + 1);
  const piece = (i) => el('span', { class: i === pos ? 'token-inline picked' : null }, tokenNodes(tokens[i]));
  return [`Position ${count(pos)}${pos >= boundary ? ' (generated)' : ''}: `, from > 0 ? '…' : '',
    ...Array.from({ length: to - from }, (_, i) => piece(from + i)), to < tokens.length ? '…' : ''];
}

// Scrolls the text box, not the page, so the picked token is visible.
function scrollWithin(box, node) {
  const top = node.offsetTop; // the box is the tokens' offset parent
  if (top < box.scrollTop || top > box.scrollTop + box.clientHeight - node.offsetHeight) {
    box.scrollTop = Math.max(0, top - box.clientHeight / 2);
  }
}

// Before and after an edit: the two top-10 lists side by side, and KL(before || after) over
// the whole vocabulary, computed by the server.
import { el } from '../dom.js';
import { pct, tokenNodes } from '../format.js';

export function renderComparison(cmp, sameText) {
  const afterIds = new Set(cmp.after.map((c) => c.id));
  const beforeIds = new Set(cmp.before.map((c) => c.id));
  const column = (title, side, list, other) => el('div', { class: 'cmp-col' }, el('h4', {}, title),
    el('ol', { class: 'cmp-list', testid: `compare-${side}` }, list.map((c) => el('li', {
      testid: 'compare-row', dataset: { id: c.id, prob: c.prob }, class: other.has(c.id) ? null : 'cmp-new',
      title: other.has(c.id) ? null : `not in the other top ${list.length}`,
    }, el('span', { class: 'cand-token' }, tokenNodes(c)), el('span', { class: 'p' }, pct(c.prob))))));
  const kl = el('p', { class: 'kl', testid: 'kl-value', dataset: { nats: cmp.kl_nats, bits: cmp.kl_bits } },
    el('strong', {}, `KL(before ‖ after) = ${cmp.kl_nats.toPrecision(4)} nats = ${cmp.kl_bits.toPrecision(4)} bits`),
    cmp.kl_nats === 0 ? ': the same distribution.'
      : ': how much the edit moved the whole next-token distribution. Highlighted: not in the other side’s top 10.');
  return [kl, sameText ? el('p', { class: 'hint', testid: 'same-text' },
    'Same text, different tokens: the model sees a sequence its tokenizer would never produce.') : null,
  el('div', { class: 'cmp' }, column('Before (the tokenizer’s own cut)', 'before', cmp.before, afterIds),
    column('After your edits', 'after', cmp.after, beforeIds))].filter(Boolean);
}

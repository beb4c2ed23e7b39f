// The lab's pair before any patching: the two prompts' tokens aligned position by position
// (where they differ marked, and a plain explanation when their lengths differ), both
// next-token lists whose tokens pick the answer pair, and the readouts of /api/pair.
import { el } from '../../dom.js';
import { pct, tokenNodes } from '../../format.js';

const chip = (t, extra = {}) => el('span', { class: 'token-inline', ...extra }, tokenNodes(t));
const quoted = (t) => `‘${t.display}’`;

// Tokens of both prompts in columns; `differ` marks the positions whose tokens are not equal.
export function alignment(clean, corrupted) {
  const n = Math.max(clean.length, corrupted.length);
  const differs = (i) => clean[i]?.id !== corrupted[i]?.id;
  const cellOf = (t, i) => el('td', { class: differs(i) ? 'differ' : null }, t ? chip(t) : '—');
  const row = (name, tokens, testid) => el('tr', { testid },
    el('th', { scope: 'row' }, name), Array.from({ length: n }, (_, i) => cellOf(tokens[i], i)));
  const table = el('table', { class: 'align', testid: 'patch-align' },
    el('caption', { class: 'sr-only' }, 'The two prompts’ tokens, position by position; differing positions are marked.'),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'position'),
      Array.from({ length: n }, (_, i) => el('th', { scope: 'col', class: differs(i) ? 'differ' : null }, String(i))))),
    el('tbody', {}, row('clean', clean, 'align-clean'), row('corrupted', corrupted, 'align-corrupted')));
  return el('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': 'Tokens of both prompts' }, table);
}

// Why a pair of different lengths cannot be patched, and where the two first part ways.
export function mismatch(clean, corrupted) {
  const first = clean.findIndex((t, i) => t.id !== corrupted[i]?.id);
  const where = first < 0 ? clean.length : first;
  const side = (tokens) => (tokens[where] ? quoted(tokens[where]) : 'nothing');
  return el('p', { class: 'error-note', role: 'alert', testid: 'patch-mismatch' },
    `The clean prompt is ${clean.length} tokens and the corrupted one ${corrupted.length}. Patching copies an `
    + 'activation from one run into the other position by position, so both prompts need the same number of tokens. '
    + `They first differ at position ${where}: ${side(clean)} against ${side(corrupted)}. Change a word for one that `
    + 'is cut into as many tokens (the marked columns show where the cuts differ).');
}

// Both top-10 lists; every token is a button that sets the answer or the other token,
// whichever `mode()` says. `pair` is { answer, other } (ids).
export function candidates(cmp, pair, onPick) {
  const column = (title, list, testid) => el('div', { class: 'cmp-col' }, el('h4', {}, title),
    el('ol', { class: 'cmp-list patch-cands', testid }, list.map((c) => {
      const role = c.id === pair.answer ? 'answer' : c.id === pair.other ? 'other' : null;
      return el('li', {}, el('button', {
        type: 'button', class: `cand-pick${role ? ` is-${role}` : ''}`, testid: 'patch-candidate',
        dataset: { id: c.id }, 'aria-pressed': String(role != null), onclick: () => onPick(c),
      }, el('span', { class: 'cand-token' }, tokenNodes(c)), el('span', { class: 'p' }, pct(c.prob)),
      role ? el('span', { class: `badge badge-${role}` }, role) : null));
    })));
  return el('div', { class: 'cmp' }, column('Clean: next token', cmp.before, 'patch-cands-clean'),
    column('Corrupted: next token', cmp.after, 'patch-cands-corrupted'));
}

// The metric on both prompts, KL, the answer pair's probabilities and the lens per layer.
export function readouts(report) {
  const { answer, other } = report;
  const metric = el('p', { class: 'patch-metric', testid: 'patch-metric',
    dataset: { clean: report.clean.metric, corrupted: report.corrupted.metric } },
  'Metric: logit(', chip(answer), ') − logit(', chip(other), ') at the last position. ',
  el('strong', {}, `Clean ${report.clean.metric.toFixed(3)}, corrupted ${report.corrupted.metric.toFixed(3)}.`));
  const kl = el('p', { testid: 'patch-kl', dataset: { nats: report.kl_nats } },
    `KL(clean ‖ corrupted) = ${report.kl_nats.toPrecision(4)} nats = ${report.kl_bits.toPrecision(4)} bits over the whole vocabulary. `,
    `P(${answer.display}): clean ${pct(report.clean.answer_prob)}, corrupted ${pct(report.corrupted.answer_prob)}; `,
    `P(${other.display}): clean ${pct(report.clean.other_prob)}, corrupted ${pct(report.corrupted.other_prob)}.`);
  return [metric, kl, lensTable(report)];
}

// The metric read by the logit lens after each layer, both prompts side by side, with bars.
function lensTable(report) {
  const { lens: a } = report.clean;
  const { lens: b } = report.corrupted;
  const max = Math.max(...a.map(Math.abs), ...b.map(Math.abs), 1e-9);
  const bar = (v) => el('span', { class: `pl-bar ${v < 0 ? 'neg' : 'pos'}`, style: { width: `${(100 * Math.abs(v)) / max}%` } });
  const cell = (v) => el('td', { class: 'pl-num' }, el('span', { class: 'pl-track' }, bar(v)), v.toFixed(3));
  const name = (i) => (i === 0 ? 'embeddings' : i === a.length - 1 ? `after block ${i} (final)` : `after block ${i}`);
  return el('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': 'The metric by layer' },
    el('table', { class: 'patch-lens', testid: 'patch-lens' },
      el('caption', {}, 'The metric read by the logit lens from the last position after each layer'),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'layer'), el('th', { scope: 'col' }, 'clean'),
        el('th', { scope: 'col' }, 'corrupted'))),
      el('tbody', {}, a.map((v, i) => el('tr', {}, el('th', { scope: 'row' }, name(i)), cell(v), cell(b[i]))))));
}

// Any single token as the answer or the other one, typed: the candidates are only the top 10.
// `onSet(role, token)`; `lookup(text)` is /api/vocab/lookup.
export function tokenEntry(lookup, onSet) {
  const input = el('input', { type: 'text', id: 'patch-token', testid: 'patch-token', class: 'short', spellcheck: 'false' });
  const note = el('span', { class: 'hint', testid: 'patch-token-note', 'aria-live': 'polite' });
  const set = (role) => async () => {
    try {
      const found = await lookup(input.value);
      if (!found.token) {
        const n = found.encoded?.length ?? 0;
        note.textContent = `‘${input.value}’ is ${n} tokens, not one: the metric compares two single tokens `
          + '(mind the leading space: “ Paris”, not “Paris”).';
        return;
      }
      note.textContent = '';
      onSet(role, found.token);
    } catch (err) {
      note.textContent = err.message;
    }
  };
  return el('div', { class: 'row' }, el('label', { for: 'patch-token' }, 'Or type a token'), input,
    el('button', { type: 'button', testid: 'patch-set-answer', onclick: set('answer') }, 'Set as answer'),
    el('button', { type: 'button', testid: 'patch-set-other', onclick: set('other') }, 'Set as other'), note);
}

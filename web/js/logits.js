// Stage 5 and the next-token panel: the top candidates of one step (in the panel), their
// probabilities, and where the rest of the probability went (in stage 5). Each row is a
// button: clicking it takes that token at this step.
import { el, keepFocus, setStyle } from './dom.js';
import { bits, count, pct, tokenNodes } from './format.js';

// `entry` is a step's { explanation, key, chosen? }; `onPick(id)` takes a candidate.
export function renderCandidates(list, summary, { entry, vocabSize, onPick }) {
  const { explanation } = entry;
  const widest = Math.max(...explanation.candidates.flatMap((c) => [c.prob, c.sample_prob]));
  keepFocus(list, 'data-rank', () => {
    list.replaceChildren(...explanation.candidates.map((c) => row(c, widest, entry.chosen?.id, onPick)));
  });
  list.dataset.key = entry.key;
  list.classList.remove('stale');
  summary.replaceChildren(...summaryItems(explanation, vocabSize));
}

// The row's name is its visible text (so speech input can say what it sees), joined into a
// sentence by words only screen readers get.
function row(c, widest, chosenId, onPick) {
  const chosen = c.id === chosenId;
  const cls = ['cand', c.kept ? 'kept' : 'cut', chosen ? 'chosen' : ''].join(' ');
  const said = (text) => el('span', { class: 'sr-only' }, text);
  return el('li', {},
    el('button', {
      type: 'button', class: cls, testid: 'candidate-row', title: `Take this token (id ${c.id}) here`,
      dataset: { rank: c.rank, id: c.id, prob: c.prob, sampleProb: c.sample_prob },
      'aria-current': chosen ? 'true' : null, onclick: () => onPick(c.id),
    },
    el('span', { class: 'rank' }, `${c.rank + 1}`),
    el('span', { class: 'cand-token' }, tokenNodes(c)),
    bars(c, widest),
    el('span', { class: 'p' }, said(': '), el('span', { testid: 'candidate-prob' }, pct(c.sample_prob)), said(' chance with these settings')),
    el('span', { class: 'p1' }, said(', at temperature 1 '), pct(c.prob)),
    el('span', { class: 'logit' }, said(', logit '), c.logit.toFixed(2)),
    el('span', { class: 'tags' }, c.kept ? null : el('span', { class: 'tag cut' }, said(', '), 'cut'),
      chosen ? el('span', { class: 'tag picked' }, said(', '), 'picked') : null)));
}

// Two bars per row, scaled to the widest shown: the hollow one is the model's own probability,
// the solid one the chance of being picked with the current settings.
function bars(c, widest) {
  const model = el('span', { class: 'bar model' });
  const sample = el('span', { class: 'bar sample' });
  setStyle(model, { width: `${(100 * c.prob) / widest}%` });
  setStyle(sample, { width: `${(100 * c.sample_prob) / widest}%` });
  return el('span', { class: 'bars', 'aria-hidden': 'true' }, model, sample);
}

// `x.recording` is present only in a recording: which of its numbers the recorded logits settle.
function summaryItems(x, vocabSize) {
  const rec = x.recording;
  const item = (term, ...detail) => el('div', {}, el('dt', {}, term), el('dd', {}, ...detail));
  return [
    item('Uncertainty (entropy)', `${rec?.entropy_bound ? '≥ ' : ''}${bits(x.entropy_bits)} at temperature 1; `,
      `${rec?.sample_entropy_approx ? '≈ ' : ''}${bits(x.sample_entropy_bits)} with these settings`),
    item('Not shown', el('span', { testid: 'mass-outside' }, pct(x.mass_outside_shown)),
      ` of the probability is on the other ${count(vocabSize - x.candidates.length)} tokens; `,
      `${rec?.unrecorded_share ? '≈ ' : ''}${pct(x.sample_mass_outside_shown)} with these settings`),
    item('Can be picked', el('span', { testid: 'nucleus' }, canBePicked(x, rec, vocabSize))),
    rec ? item('Recording', el('span', { testid: 'recording-note' }, recordingNote(x, rec, vocabSize))) : null,
  ].filter(Boolean);
}

function canBePicked(x, rec, vocabSize) {
  const range = rec?.nucleus_range;
  if (!range) return `${count(x.nucleus_size)} of ${count(vocabSize)} tokens`;
  const [lo, hi] = range;
  return hi == null ? `at least ${count(lo)} of ${count(vocabSize)} tokens (the recording ends at ${rec.recorded})`
    : `between ${count(lo)} and ${count(hi)} of ${count(vocabSize)} tokens`;
}

function recordingNote(x, rec, vocabSize) {
  if (!x.approximate) return `exact: the ${rec.recorded} recorded logits and the log-sum-exp of all ${count(vocabSize)} settle every chance shown.`;
  const [lo, hi] = rec.unrecorded_share;
  return `approximate: the ${count(vocabSize - rec.recorded)} tokens the recording left out hold between ${pct(lo)} and `
    + `${pct(hi)} of the chance with these settings; the chances shown assume ${pct(x.sample_mass_outside_shown)}.`;
}

// Stage 7 and the next-token panel: the growing text, the step controls (with the reason when
// one cannot act) and the timeline of steps taken.
import { byId, el, keepFocus } from './dom.js';
import { tokenNodes } from './format.js';

// The generated part keeps each token's own text (bytes of a split character stay visible as
// <0x..>), alternately shaded so token boundaries show; the newest is underlined and kept in
// view, the step on screen outlined.
export function renderOutput(session) {
  byId('output-prompt').textContent = session.run?.prompt ?? '';
  const last = session.steps.length - 1;
  byId('generated').replaceChildren(...session.steps.map((s, pos) => {
    const cls = ['gen-token', pos === session.view ? 'current' : '', pos === last ? 'newest' : ''].join(' ').trim();
    return el('span', { class: cls, dataset: { id: s.chosen.id }, title: `step ${pos + 1}${pos === last ? ' (newest)' : ''}, id ${s.chosen.id}` },
      tokenNodes({ text: s.chosen.text }));
  }));
  const box = byId('output');
  box.hidden = !session.run;
  box.scrollTop = box.scrollHeight;
}

// One button per step taken, then "next" for the choice not made yet (when it can be made);
// when it cannot, a sentence says why.
export function renderTimeline(session, { canStep, onSelect, ended }) {
  const list = byId('timeline');
  const item = (pos, ...content) => el('li', {}, el('button', {
    type: 'button', class: 'tl-step', testid: 'timeline-step', dataset: { pos },
    'aria-current': pos === session.view ? 'step' : null, onclick: () => onSelect(pos),
  }, ...content));
  const taken = session.steps.map((s, pos) => item(pos, el('span', { class: 'tl-num' }, String(pos + 1)), el('span', { class: 'tl-token' }, tokenNodes(s.chosen))));
  const next = canStep || session.next ? [item(session.steps.length, el('span', { class: 'tl-num' }, 'next'))] : [];
  keepFocus(list, 'data-pos', () => list.replaceChildren(...taken, ...next));
  byId('timeline-end').textContent = ended ?? '';
}

// `disabled` only when the action is impossible, and then `gen-status` says why; while a
// request runs the buttons are merely marked busy, since disabling the focused button would
// throw a keyboard user's focus away. `rerun`: the prompt was edited, so Step runs it afresh.
export function renderControls({ hasRun, busy, playing, canStep, canBack, rerun, why }) {
  const step = byId('step');
  setEnabled(step, rerun || (hasRun && canStep), busy || playing);
  step.textContent = rerun ? 'Run ▶' : 'Step ▶';
  setEnabled(byId('back'), hasRun && canBack && !rerun, busy || playing);
  const play = byId('play');
  setEnabled(play, playing || rerun || (hasRun && canStep), busy && !playing);
  play.textContent = playing ? 'Pause' : 'Play';
  play.setAttribute('aria-pressed', String(playing));
  byId('gen-status').textContent = why ?? '';
}

function setEnabled(button, possible, waiting) {
  button.disabled = !possible;
  button.setAttribute('aria-disabled', String(possible && waiting));
}

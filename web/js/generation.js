// Stage 7: the growing text, the step controls and the timeline of steps taken.
import { byId, el, keepFocus } from './dom.js';
import { tokenNodes } from './format.js';

// The generated part keeps each token's own text (bytes of a split character stay visible as
// <0x..>), alternately shaded so token boundaries show.
export function renderOutput(session) {
  byId('output-prompt').textContent = session.run?.prompt ?? '';
  byId('generated').replaceChildren(...session.steps.map((s, pos) =>
    el('span', { class: `gen-token${pos === session.view ? ' current' : ''}`, dataset: { id: s.chosen.id }, title: `step ${pos + 1}, id ${s.chosen.id}` },
      tokenNodes({ text: s.chosen.text }))));
}

// One button per step taken, then "next" for the choice not made yet (when it can be made).
export function renderTimeline(session, { canStep, onSelect }) {
  const list = byId('timeline');
  const item = (pos, ...content) => el('li', {}, el('button', {
    type: 'button', class: 'tl-step', testid: 'timeline-step', dataset: { pos },
    'aria-current': pos === session.view ? 'step' : null, onclick: () => onSelect(pos),
  }, ...content));
  keepFocus(list, 'data-pos', () => {
    list.replaceChildren(
      ...session.steps.map((s, pos) => item(pos, el('span', { class: 'tl-num' }, String(pos + 1)), el('span', { class: 'tl-token' }, tokenNodes(s.chosen)))),
      canStep || session.next ? item(session.steps.length, el('span', { class: 'tl-num' }, 'next')) : null,
    );
  });
}

// `disabled` only when the action is impossible; while a request runs the buttons are merely
// marked busy, since disabling the focused button would throw a keyboard user's focus away.
export function renderControls({ hasRun, busy, playing, canStep, canBack }) {
  setEnabled(byId('step'), hasRun && canStep, busy || playing);
  setEnabled(byId('back'), hasRun && canBack, busy || playing);
  const play = byId('play');
  setEnabled(play, hasRun && (playing || canStep), busy && !playing);
  play.textContent = playing ? 'Pause' : 'Play';
  play.setAttribute('aria-pressed', String(playing));
}

function setEnabled(button, possible, waiting) {
  button.disabled = !possible;
  button.setAttribute('aria-disabled', String(possible && waiting));
}

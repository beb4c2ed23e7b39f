// Draws the session: the stages that show every position (when the sequence changed), the
// next-token panel (text, controls, candidates of the step on screen) and the timeline. Says in
// words why an action cannot be taken, and keeps keyboard focus on a control when the one it
// was on is disabled.
import { byId, el } from './dom.js';
import { renderEmbeddings } from './embeddings.js';
import { count, tokenNodes } from './format.js';
import { renderControls, renderOutput, renderTimeline } from './generation.js';
import { renderCandidates } from './logits.js';
import { renderResidual } from './residual.js';
import { readSettings } from './sampling.js';
import { endsText, settingsKey } from './session.js';
import { paintTokens } from './surprisal.js';
import { renderTokens } from './tokens.js';

let drawnRun;
let lastFocused = null;
document.addEventListener('focusin', (event) => { lastFocused = event.target; });

// `edited`: the prompt box holds another text than the stages show.
export function renderScreen({ source, session, views, ui, canStep, edited, onPick, onSelect }) {
  renderSequence(source, session, views);
  const ended = session.run ? answerEnded(source, session, canStep) ?? (canStep ? null : endReason(source, session)) : null;
  byId('edited-note').hidden = !(edited && session.run);
  byId('loop-step').textContent = session.run ? `· step ${session.view + 1}` : '';
  renderOutput(session);
  renderTimeline(session, { canStep, onSelect, ended });
  renderControls({
    hasRun: Boolean(session.run), busy: ui.busy, playing: ui.playing, canStep, canBack: session.steps.length > 0,
    rerun: edited, why: edited ? null : ended ?? (session.run ? null : 'Run a prompt first: Step and Play continue it.'),
  });
  renderView(source, session, onPick);
  keepFocus();
}

// Drawn again only when the sequence itself changed: the prompt's tokens, then each generated
// one, in every stage and the view on screen. No run (a prompt that failed) shows nothing.
function renderSequence(source, session, views) {
  const { run } = session;
  const state = run ?? (session.failed ? 'failed' : 'pending');
  if (state === drawnRun) return;
  drawnRun = state;
  byId('main').dataset.run = run ? 'shown' : session.failed ? 'none' : 'pending';
  byId('stages-empty').hidden = !session.failed;
  byId('stages-empty').textContent = 'Nothing to show: the prompt did not run. The message in the next-token panel says why and what to do.';
  if (!run) return;
  renderTokens(byId('tokens'), byId('token-count'), run);
  paintTokens(run);
  renderEmbeddings(byId('embeddings'), run, source.model);
  renderResidual(byId('residual'), run);
  views.update();
}

// The last token taken ends the model's text: Play stops there, and this says why. Step may
// still go on, to show what a model does past its own end (while the context has room).
function answerEnded(source, session, canStep) {
  const last = session.steps.at(-1);
  if (!last || !endsText(source.model, last.chosen)) return null;
  return `The model ended its answer: it chose ${last.chosen.text}, its end-of-text token, where Play stops.${canStep ? ' Step goes on past it.' : ''}`;
}

// Why no token can follow, in words (never a blank or a "null").
function endReason(source, session) {
  if (source.mode === 'static' && session.steps.length >= source.recordedSteps()) {
    return `The recording ends here, after ${count(source.recordedSteps())} tokens: generating more needs the server (nexttoken serve).`;
  }
  const n = source.model.n_positions;
  return `The text fills the model’s context of ${count(n)} positions, so no token can follow. Back, or a shorter prompt, makes room.`;
}

function renderView(source, session, onPick) {
  const entry = session.entry(session.view);
  const list = byId('candidates');
  byId('view-label').replaceChildren(...viewLabel(source, session, entry));
  if (!entry) {
    list.replaceChildren();
    byId('dist-summary').replaceChildren();
    return;
  }
  renderCandidates(list, byId('dist-summary'), { entry, vocabSize: source.model.vocab_size, onPick });
  if (entry.key !== settingsKey(readSettings())) list.classList.add('stale');
}

function viewLabel(source, session, entry) {
  if (!entry) return [session.run ? 'No token can follow here.' : 'Run a prompt to see which tokens could come next.'];
  const n = session.view + 1;
  if (session.view < session.steps.length) {
    const listed = entry.explanation.candidates.some((c) => c.id === entry.chosen.id);
    return [`Step ${n}: the model picked `, el('span', { class: 'token-inline' }, tokenNodes(entry.chosen)),
      listed ? '.' : ', ranked below the 30 shown (sampling can reach any kept token).',
      source.mode === 'static' ? ' Taking another needs the server.' : ' Click another to take it instead.'];
  }
  return [`Step ${n}: not picked yet. ${source.mode === 'static' ? 'Step replays the recorded token.' : 'Step samples one; a click takes it.'}`];
}

// A control that became disabled under the keyboard (Back at the first step, Step at the end)
// hands focus to the nearest one that still acts, never to the page's body.
function keepFocus() {
  const active = document.activeElement;
  if (!lastFocused || (active && active !== document.body && !active.disabled)) return;
  if (lastFocused.isConnected && !lastFocused.disabled) return;
  const next = ['step', 'play', 'back'].map(byId).find((b) => !b.disabled) ?? byId('loop');
  next.focus();
}

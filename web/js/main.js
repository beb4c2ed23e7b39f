// State and wiring: connects to a data source, runs prompts, steps, and keeps every stage on
// screen in line with the session. Each stage's drawing lives in its own module.
import { connect } from './api.js';
import { byId, debounce, el, sleep } from './dom.js';
import { watchDownload } from './download.js';
import { renderEmbeddings } from './embeddings.js';
import { tokenNodes } from './format.js';
import { renderControls, renderOutput, renderTimeline } from './generation.js';
import { renderModel, renderTiming } from './labels.js';
import { renderCandidates } from './logits.js';
import { initPrompt, showPrompt } from './prompt.js';
import { renderResidual } from './residual.js';
import { initSampling, readSettings } from './sampling.js';
import { Session, settingsKey } from './session.js';
import { renderTokens } from './tokens.js';
import { initViews } from './views/index.js';
import { applySettingsLink, readLink, settingsLink, writeLink } from './views/link.js';
import { pipelineExport } from './views/pipeline.js';

// Long enough to read each new token while playing, short enough to feel live.
const PLAY_PAUSE_MS = 350;
const END_OF_TEXT = '<|endoftext|>';

let source;
let session;
let views;
const ui = { busy: false, playing: false, refreshing: false };
let playLoop = 0;

boot();

async function boot() {
  byId('boot-note').hidden = true;
  byId('error-close').addEventListener('click', () => showError(null));
  try {
    source = await connect();
  } catch (err) {
    showError(`The page could not load its data: ${err.message}`);
    return;
  }
  session = new Session(source);
  renderModel(source);
  // A shared link (docs in views/link.js) sets the controls before anything reads them.
  const link = readLink();
  applySettingsLink(link);
  views = initViews({ source, getRun: () => session.run, pipeline: pipelineExport(() => session), onChange: saveLink, onError: showError });
  Object.assign(views.state, { layer: link.layer ?? 0, head: link.head ?? 0, pos: link.pos, edit: link.edit });
  initSampling({ onChange: settingsChanged, onSeedChange: render, approximate: source.mode === 'static' });
  // A new prompt starts from its own tokens: a link's surgery edits belonged to its prompt.
  initPrompt({ source, onRun: (prompt) => { views.state.edit = null; return runPrompt(prompt); } });
  watchDownload(source, switchModel);
  byId('step').addEventListener('click', () => !ui.playing && act(stepOnce));
  byId('back').addEventListener('click', () => !ui.playing && act(async () => session.back()));
  byId('play').addEventListener('click', togglePlay);
  const prompt = link.prompt ?? source.prompts[0].prompt;
  showPrompt(prompt);
  if (await runPrompt(prompt)) await replay(link);
  views.show(link.view);
}

// Takes the link's generated tokens again (forced, so they match whatever sampled them) and
// shows its step.
async function replay(link) {
  for (const id of link.gen) {
    if (!canStep() || !(await act(() => session.take(session.steps.length, id, readSettings())))) break;
  }
  if (link.step != null) select(Math.min(Math.max(link.step, 0), session.steps.length));
}

function saveLink() {
  if (!session?.run || !views) return;
  const { view, layer, head, pos, edit } = views.state;
  const analysis = view === 'attention' ? { layer, head } : view === 'lens' ? { pos } : view === 'surgery' ? { edit } : {};
  writeLink({
    prompt: session.run.prompt,
    view,
    ...analysis,
    ...settingsLink(readSettings()),
    gen: session.steps.map((s) => s.chosen.id),
    step: session.steps.length ? session.view : null,
  });
}

// Runs one user action at a time; its error is shown in words, never thrown away.
async function act(action) {
  if (ui.busy) return false;
  setFlag('busy', true);
  showError(null);
  let ok = true;
  try {
    await action();
  } catch (err) {
    showError(err.message);
    ok = false;
  }
  ui.busy = false;
  refresh(); // renders at once
  return ok;
}

async function runPrompt(prompt) {
  ui.playing = false;
  while (ui.busy) await sleep(50); // let a step in flight land first, so the run is not dropped
  return act(async () => {
    const run = await session.start(prompt, readSettings());
    renderTiming({ ...run, what: 'Prompt' });
  });
}

// The stages that show every position follow the sequence: the prompt's tokens, then each
// generated one. Drawn again only when the sequence itself changed.
let drawnRun = null;
function renderSequence() {
  const { run } = session;
  if (run === drawnRun) return;
  drawnRun = run;
  if (!run) return;
  renderTokens(byId('tokens'), byId('token-count'), run);
  renderEmbeddings(byId('embeddings'), run, source.model);
  renderResidual(byId('residual'), run);
  views.update();
}

// Everything on screen came from the old model, so the prompt runs again on the new one.
async function switchModel() {
  const ok = await act(async () => {
    await source.switchModel();
    renderModel(source);
    watchDownload(source, switchModel);
  });
  if (ok && session.run) await runPrompt(session.run.prompt);
}

async function stepOnce() {
  const result = await session.step(readSettings());
  renderTiming({ ...result, what: `Step ${session.steps.length}` });
}

function pick(id) {
  if (ui.playing || session.entry(session.view)?.chosen?.id === id) return;
  act(async () => {
    const result = await session.take(session.view, id, readSettings());
    renderTiming({ ...result, what: `Step ${session.steps.length} (your pick)` });
  });
}

function select(pos) {
  session.select(pos);
  refresh();
}

async function togglePlay() {
  if (ui.playing) {
    setFlag('playing', false);
    return;
  }
  if (ui.busy) return;
  // Pause then Play during the wait between steps starts a new loop: the old one must stop.
  const loop = ++playLoop;
  const current = () => ui.playing && loop === playLoop;
  setFlag('playing', true);
  while (current() && canStep()) {
    if (!(await act(stepOnce))) break;
    if (session.steps.at(-1).chosen.text === END_OF_TEXT) break;
    await sleep(PLAY_PAUSE_MS);
  }
  if (loop === playLoop) setFlag('playing', false);
}

function canStep() {
  if (!session?.run) return false;
  // The chosen token needs a position of its own.
  const room = session.prefix(session.steps.length).length < source.model.n_positions;
  const recorded = source.mode !== 'static' || session.steps.length < source.recordedSteps();
  return room && recorded;
}

function settingsChanged() {
  byId('candidates').classList.add('stale');
  refreshSoon();
}

const refreshSoon = debounce(() => refresh(), 150);

// Brings the step on screen in line with the sliders, one request at a time; the loop picks
// up settings that changed while a request was out.
async function refresh() {
  render();
  const current = () => session.entry(session.view)?.key === settingsKey(readSettings());
  if (ui.refreshing || !session?.run || current()) return;
  setFlag('refreshing', true);
  try {
    while (!current()) {
      await session.explainView(readSettings());
      render();
    }
  } catch (err) {
    showError(err.message);
  }
  setFlag('refreshing', false);
}

function render() {
  document.body.dataset.state = ui.busy || ui.playing || ui.refreshing ? 'busy' : 'idle';
  if (!session?.run) return;
  renderSequence();
  const step = canStep();
  renderOutput(session);
  renderTimeline(session, { canStep: step, onSelect: select });
  renderControls({ hasRun: true, busy: ui.busy, playing: ui.playing, canStep: step, canBack: session.steps.length > 0 });
  renderView();
  saveLink();
}

function renderView() {
  const entry = session.entry(session.view);
  const list = byId('candidates');
  byId('view-label').replaceChildren(...viewLabel(entry));
  if (!entry) {
    list.replaceChildren();
    return;
  }
  renderCandidates(list, byId('dist-summary'), { entry, vocabSize: source.model.vocab_size, onPick: pick });
  if (entry.key !== settingsKey(readSettings())) list.classList.add('stale');
}

function viewLabel(entry) {
  const n = session.view + 1;
  if (session.view < session.steps.length) {
    const listed = entry.explanation.candidates.some((c) => c.id === entry.chosen.id);
    return [`Step ${n}: the model picked `, el('span', { class: 'token-inline' }, tokenNodes(entry.chosen)),
      listed ? ' from these.' : ', a token ranked below the 30 shown: sampling can reach any kept token.',
      source.mode === 'static' ? ' Taking another needs the server.' : ' Click another to take it instead.'];
  }
  return [`Step ${n}: the next token, not picked yet. Step ${source.mode === 'static' ? 'replays the recorded one' : 'samples one; clicking takes it'}.`];
}

function setFlag(flag, value) {
  ui[flag] = value;
  render();
}

function showError(message) {
  byId('error').hidden = !message;
  byId('error-text').textContent = message ?? '';
}

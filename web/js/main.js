// State and wiring: connects to a data source, runs prompts, steps, and keeps every stage and
// the next-token panel in line with the session. Drawing lives in one module per stage and in
// screen.js.
import { connect } from './api.js';
import { byId, debounce, sleep } from './dom.js';
import { watchDownload } from './download.js';
import { initErrors, showError } from './errors.js';
import { renderArchitecture } from './architecture.js';
import { renderModel, renderTiming, showStarting } from './labels.js';
import { initLoop } from './loop.js';
import { chatOn, initPrompt, setChat, showChatOption, showExamples, showPrompt } from './prompt.js';
import { initSampling, readSettings } from './sampling.js';
import { keepScrollablesFocusable } from './scrollable.js';
import { renderScreen } from './screen.js';
import { endsText, Session, settingsKey } from './session.js';
import { initSurprisal } from './surprisal.js';
import { initViews } from './views/index.js';
import { applySettingsLink, readLink, settingsLink, writeLink } from './views/link.js';
import { pipelineExport } from './views/pipeline.js';
import { clearTrack, track } from './progress.js';

// Long enough to read each new token while playing, short enough to feel live.
const PLAY_PAUSE_MS = 350;

let source;
let session;
let views;
// `running`: the prompt being run now, so its wait is not read as an edit.
const ui = { busy: false, playing: false, refreshing: false, running: null };
let playLoop = 0;

boot();

async function boot() {
  byId('boot-note').hidden = true;
  initErrors();
  try {
    source = await connect({ onStarting: showStarting });
  } catch (err) {
    showError(err, () => location.reload());
    document.body.dataset.state = 'failed';
    return;
  }
  session = new Session(source);
  renderModel(source);
  renderArchitecture(source.model);
  // A shared link (docs in views/link.js) sets the controls before anything reads them.
  const link = readLink();
  applySettingsLink(link);
  const onViewError = (err) => showError(err, err?.retryable ? () => views.update() : null);
  views = initViews({ source, getRun: () => session.run, pipeline: pipelineExport(() => session, () => ui.busy), onChange: saveLink, onError: onViewError });
  Object.assign(views.state, { layer: link.layer ?? 0, head: link.head ?? 0, pos: link.pos, edit: link.edit });
  if (link.lab) Object.assign(views.state.lab, link.lab);
  initSampling({ onChange: settingsChanged, onSeedChange: render, approximate: source.mode === 'static' });
  initPrompt({ source, onRun: runFromPrompt, onEdit: render });
  setChat(link.chat);
  keepScrollablesFocusable();
  initSurprisal({ source, onOpenLens: (pos) => { views.state.pos = pos; views.show('lens'); } });
  initLoop({ keys: { '.': () => press(byId('step')), ',': () => press(byId('back')) } });
  watchDownload(source, switchModel);
  byId('step').addEventListener('click', onStep);
  byId('back').addEventListener('click', () => !ui.playing && act(async () => session.back()));
  byId('play').addEventListener('click', togglePlay);
  const prompt = link.prompt ?? source.prompts[0].prompt;
  showPrompt(prompt);
  if (await runPrompt(prompt)) await replay(link);
  views.show(link.view);
}

// A new prompt starts from its own tokens: a link's surgery edits belonged to its prompt.
function runFromPrompt(prompt) {
  views.state.edit = null;
  return runPrompt(prompt);
}

// A key acts as a click would, and only when the button could be clicked.
function press(button) {
  if (!button.disabled && button.getAttribute('aria-disabled') !== 'true') button.click();
}

// Takes the link's generated tokens again (forced, so they match whatever sampled them) and
// shows its step.
async function replay(link) {
  for (const id of link.gen) {
    if (!canStep() || !(await act((signal) => session.take(session.steps.length, id, readSettings(), signal)))) break;
  }
  if (link.step != null) select(Math.min(Math.max(link.step, 0), session.steps.length));
}

function saveLink() {
  if (!session?.run || !views) return;
  const { view, layer, head, pos, edit } = views.state;
  const analysis = { attention: { layer, head }, lens: { pos }, surgery: { edit }, patch: { lab: views.state.lab } }[view] ?? {};
  writeLink({
    prompt: session.run.typed,
    chat: session.run.chat,
    view,
    ...analysis,
    ...settingsLink(readSettings()),
    gen: session.steps.map((s) => s.chosen.id),
    step: session.steps.length ? session.view : null,
  });
}

// Runs one user action at a time, `action(signal)`, with progress and Cancel (progress.js); its
// error is shown in words with a Retry that runs `retry` (the same action, by default), never
// thrown away. A cancelled action is no error: the panel stays as it was.
async function act(action, retry = () => act(action, undefined, what), what = 'Running the model for the next token', options = {}) {
  if (ui.busy) return false;
  setFlag('busy', true);
  showError(null);
  clearTrack();
  let ok = true;
  try {
    await track(what, action, options);
  } catch (err) {
    if (err.name !== 'AbortError') showError(err, err.retryable ? retry : null);
    ok = false;
  }
  ui.busy = false;
  refresh(); // renders at once
  return ok;
}

// A prompt that fails to run leaves nothing on screen from the one before: stages that kept the
// old numbers under the new text would be read as the new prompt's.
async function runPrompt(prompt) {
  ui.playing = false;
  while (ui.busy) await sleep(50); // let a step in flight land first, so the run is not dropped
  ui.running = prompt;
  try {
    return await act(async (signal) => {
      try {
        const run = await session.start(prompt, readSettings(), signal, chatOn());
        renderTiming({ ...run, what: 'Prompt' });
      } catch (err) {
        if (err.name !== 'AbortError') session.clear(); // cancelled: the last run stays, the prompt box says it is edited
        throw err;
      }
    }, () => runPrompt(prompt), 'Running the model on your prompt');
  } finally {
    ui.running = null;
    render();
  }
}

// Everything on screen came from the old model, so the prompt runs again on the new one.
async function switchModel() {
  const ok = await act(async () => {
    await source.switchModel();
    renderModel(source);
    renderArchitecture(source.model);
    showChatOption(source);
    showExamples(source, runFromPrompt);
    watchDownload(source, switchModel);
  }, undefined, 'Loading the new model', { cancellable: false });
  if (ok && session.run) await runPrompt(session.run.typed);
}

// The text in the prompt box (or the chat option) is not what the stages show: the next action
// runs it afresh.
function edited() {
  return source.mode === 'live' && (byId('prompt').value !== session.run?.typed || chatOn() !== Boolean(session.run?.chat));
}

function onStep() {
  if (ui.playing) return;
  if (edited()) runFromPrompt(byId('prompt').value);
  else act(stepOnce);
}

async function stepOnce(signal) {
  const result = await session.step(readSettings(), signal);
  renderTiming({ ...result, what: `Step ${session.steps.length}` });
}

function pick(id) {
  if (ui.playing) return;
  if (edited()) {
    runFromPrompt(byId('prompt').value);
    return;
  }
  if (session.entry(session.view)?.chosen?.id === id) return;
  act(async (signal) => {
    const result = await session.take(session.view, id, readSettings(), signal);
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
  if (edited() && !(await runFromPrompt(byId('prompt').value))) return;
  // Pause then Play during the wait between steps starts a new loop: the old one must stop.
  const loop = ++playLoop;
  const current = () => ui.playing && loop === playLoop;
  setFlag('playing', true);
  while (current() && canStep()) {
    if (!(await act(stepOnce))) break;
    if (endsText(source.model, session.steps.at(-1).chosen)) break; // screen.js says why
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
    showError(err, err.retryable ? () => refresh() : null);
  }
  setFlag('refreshing', false);
}

function render() {
  document.body.dataset.state = ui.busy || ui.playing || ui.refreshing ? 'busy' : 'idle';
  // While a new prompt runs, what is on screen still belongs to the last one: dimmed, not 'edited'.
  const waiting = ui.running != null && ui.running !== session?.run?.typed;
  document.body.classList.toggle('running-prompt', waiting);
  if (!session) return;
  renderScreen({ source, session, views, ui, canStep: canStep(), edited: edited() && !waiting, onPick: pick, onSelect: select });
  saveLink();
}

function setFlag(flag, value) {
  ui[flag] = value;
  render();
}

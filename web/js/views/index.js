// The view switcher: tabs over the pipeline and the three analysis views, the share link and
// the export buttons of whichever view is on screen. A view fetches only when it is shown.
import { byId } from '../dom.js';
import { attentionView } from './attention.js';
import { csvBlob, download, jsonBlob, slug } from './export.js';
import { lensView } from './lens.js';
import { EXAMPLES, patchView } from './patch/lab.js';
import { surgeryView } from './surgery.js';

export const VIEWS = ['pipeline', 'surgery', 'attention', 'lens', 'patch'];

// `pipeline` gives the pipeline's exports; `onChange` runs after any view state changes (the
// link follows). A view reports its own requests' progress and errors inside itself (so an
// error never sits on another tab); `onError` is left for what a view could not catch.
export function initViews({ source, getRun, pipeline, onChange, onError }) {
  // `edit`: surgery's edited token ids, null while they are the prompt's own.
  // `lab`: the Compare & patch lab's pair, answer pair and sweep settings.
  const lab = { ...EXAMPLES[0], answer: null, other: null, sweep: 'resid', layer: 0, dir: 'denoise', ran: false };
  delete lab.name;
  const state = { view: 'pipeline', layer: 0, head: 0, pos: null, edit: null, lab };
  const ctx = { source, state, changed: () => onChange() };
  const views = {
    surgery: surgeryView(byId('view-surgery'), ctx),
    attention: attentionView(byId('view-attention'), ctx),
    lens: lensView(byId('view-lens'), ctx),
    patch: patchView(byId('view-patch'), ctx),
  };
  const update = () => {
    const view = views[state.view];
    const run = getRun();
    if (view && run) view.update(run).catch((err) => onError(err.message));
  };
  const show = (name) => {
    state.view = VIEWS.includes(name) ? name : 'pipeline';
    for (const tab of byId('view-tabs').children) {
      const selected = tab.dataset.view === state.view;
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
    }
    byId('pipeline').hidden = state.view !== 'pipeline';
    byId('stage-prompt').hidden = state.view !== 'pipeline';
    for (const [name, view] of Object.entries(views)) view.box.hidden = name !== state.view;
    byId('export-png').hidden = !(state.view === 'pipeline' || views[state.view]?.png);
    update();
    onChange();
  };
  initTabs(show);
  initToolbar({ state, views, pipeline, getRun, isStatic: source.mode === 'static' });
  show(state.view);
  return { state, show, update };
}

// Arrow keys move between tabs, as the ARIA tabs pattern expects.
function initTabs(show) {
  const tabs = [...byId('view-tabs').children];
  tabs.forEach((tab, i) => {
    tab.addEventListener('click', () => show(tab.dataset.view));
    tab.addEventListener('keydown', (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      const next = tabs[(i + step + tabs.length) % tabs.length];
      next.focus();
      show(next.dataset.view);
    });
  });
}

function initToolbar({ state, views, pipeline, getRun, isStatic }) {
  const current = () => (state.view === 'pipeline' ? pipeline : views[state.view]);
  const name = (ext) => `nexttoken-${state.view}-${slug(getRun()?.prompt)}.${ext}`;
  const note = byId('export-note');
  // A download asked for while the view is still computing waits for its answer (and says so);
  // one with nothing to download says why, rather than doing nothing.
  const whenReady = async (make, save) => {
    const view = state.view;
    let data = await make();
    if (!data && current().busy()) {
      note.textContent = 'This view is still computing: the download starts when its answer is on screen.';
      while (!data && current().busy() && state.view === view) {
        await new Promise((resolve) => { setTimeout(resolve, 100); });
        data = await make();
      }
      if (state.view !== view) return;
    }
    note.textContent = data ? '' : whyNothing(view);
    if (data) save(data);
  };
  const whyNothing = (view) => {
    if (!getRun()) return 'Nothing to download yet: run a prompt first.';
    if (view !== 'pipeline' && isStatic) return 'Nothing to download here: this view needs the server (nexttoken serve).';
    return 'Nothing to download yet: this view has no answer on screen.';
  };
  byId('copy-link').addEventListener('click', async () => {
    const box = byId('share-link');
    box.value = location.href;
    box.hidden = false;
    box.select();
    // The clipboard needs a secure context and permission; the link is in view either way.
    await navigator.clipboard?.writeText(location.href).catch(() => {});
  });
  byId('export-json').addEventListener('click', () => whenReady(() => current().exportData(),
    (data) => download(name('json'), jsonBlob(data.json))));
  byId('export-csv').addEventListener('click', () => whenReady(() => current().exportData(),
    (data) => download(name('csv'), csvBlob(data.header, data.rows))));
  byId('export-png').addEventListener('click', () => whenReady(() => current().png(), (blob) => download(name('png'), blob)));
}

// Compare & patch: a clean and a minimally different corrupted prompt, an answer pair picked
// from their candidates, the readouts before patching, and activation-patching sweeps as
// heatmaps that fill in row by row (one /api/patch request a row, cancellable).
import { debounce, el } from '../../dom.js';
import { frame } from '../frame.js';
import { viewsApi } from '../http.js';
import { alignment, candidates, mismatch, readouts, tokenEntry } from './pair.js';
import { pctText, sweepMap } from './sweepmap.js';

export const EXAMPLES = [
  { name: 'Who gets the drink', clean: 'When Mary and John went to the store, John gave a drink to',
    corrupted: 'When Mary and John went to the store, Mary gave a drink to' },
  { name: 'Which city', clean: 'The Eiffel Tower is in the city of', corrupted: 'The Colosseum is in the city of' },
];

// A sweep request that answers faster than this asks for twice the rows next time.
const FILL_MS = 250;
// Rows per request at most: 4 rows of a 64-token sweep stay far inside the server's work bound.
const MAX_BATCH = 4;

const SWEEPS = {
  resid: 'Residual stream entering each block (layer × position)',
  attn: 'Attention output (layer × position)',
  mlp: 'MLP output (layer × position)',
  heads: 'Each head’s output at every position (layer × head)',
  head_pos: 'One layer’s heads at each position (head × position)',
};

export function patchView(box, ctx) {
  const shell = frame(box, {
    id: 'patch',
    title: 'Compare & patch',
    explain: 'Activation patching asks what a computation is for. Run a clean prompt and a minimally different corrupted '
      + 'one, copy one activation from one run into the other, and measure how much of the answer comes back. The metric '
      + 'is logit(answer) − logit(other) at the last position; a cell shows (patched − corrupted) / (clean − corrupted): '
      + '100% means that one activation brings the clean answer back.',
    isStatic: ctx.source.mode === 'static',
  });
  const lab = ctx.state.lab;
  const ui = inputs(lab, () => compare());
  const parts = { align: el('div'), cands: el('div', { 'aria-live': 'polite' }), read: el('div'), sweep: el('div') };
  const controls = sweepControls(lab, ctx, () => sweep());
  shell.body.append(ui.box, parts.align, el('h3', {}, 'Pick the answer pair'),
    el('p', { class: 'hint' }, 'Click a candidate to make it the answer, then one to make it the other token.'),
    parts.cands, tokenEntry(viewsApi.lookupText, (role, token) => setToken(role, token.id)), parts.read, el('h3', {}, 'Sweep'), controls.box, parts.sweep);
  let current = null; // { key, clean, corrupted, cmp, report, map, sweep }
  let picking = 'answer';
  // Cells follow the width: a phone turned sideways gets wider ones.
  window.addEventListener('resize', debounce(() => current?.sweep?.map.resize(parts.sweep.clientWidth), 150));

  const changed = () => ctx.changed();
  async function compare() {
    Object.assign(lab, ui.read());
    changed();
    const key = JSON.stringify([lab.clean, lab.corrupted]);
    const toks = await shell.tasks.run('tokens', 'Cutting both prompts into tokens', (signal) => Promise.all(
      [lab.clean, lab.corrupted].map((text) => viewsApi.tokenize(text, signal))));
    if (!toks) return;
    const [clean, corrupted] = toks.map((t) => t.tokens);
    current = { key, clean, corrupted };
    parts.align.replaceChildren(alignment(clean, corrupted));
    parts.cands.replaceChildren();
    parts.read.replaceChildren();
    parts.sweep.replaceChildren();
    controls.enable(false);
    if (!clean.length || !corrupted.length) {
      parts.align.append(el('p', { class: 'error-note', role: 'alert' }, 'Type both prompts: each needs at least one token.'));
      return;
    }
    if (clean.length !== corrupted.length) {
      parts.align.append(mismatch(clean, corrupted));
      return;
    }
    const ids = (tokens) => tokens.map((t) => t.id);
    const cmp = await shell.tasks.run('compare', 'Running both prompts', (signal) => viewsApi.compare(ids(clean), ids(corrupted), signal));
    if (!cmp || current?.key !== key) return;
    current.cmp = cmp;
    if (lab.answer == null || lab.other == null || lab.answer === lab.other) defaultPair(cmp);
    await readPair();
    if (lab.ran) await sweep();
  }

  // The clean prompt's favourite against the corrupted one's (or its runner-up when they agree).
  function defaultPair(cmp) {
    lab.answer = cmp.before[0].id;
    lab.other = (cmp.after.find((c) => c.id !== lab.answer) ?? cmp.before[1]).id;
  }

  function pick(c) {
    if (picking === 'answer') {
      if (c.id === lab.other) lab.other = lab.answer;
      lab.answer = c.id;
      picking = 'other';
    } else {
      if (c.id === lab.answer) lab.answer = lab.other;
      lab.other = c.id;
      picking = 'answer';
    }
    readPair();
  }

  // A typed token takes `role`; if it was the other role's, the two swap.
  function setToken(role, id) {
    if (!current?.cmp) return;
    const otherRole = role === 'answer' ? 'other' : 'answer';
    if (lab[otherRole] === id) lab[otherRole] = lab[role];
    lab[role] = id;
    readPair();
  }

  async function readPair() {
    const { key, clean, corrupted, cmp } = current;
    parts.cands.replaceChildren(candidates(cmp, lab, pick));
    changed();
    parts.read.classList.add('stale');
    const body = { clean: clean.map((t) => t.id), corrupted: corrupted.map((t) => t.id), answer: lab.answer, other: lab.other };
    const report = await shell.tasks.run('pair', 'Reading out the pair', (signal) => viewsApi.pair(body, signal));
    if (!report || current?.key !== key) return;
    Object.assign(current, { body, report });
    parts.read.classList.remove('stale');
    parts.read.replaceChildren(...readouts(report));
    controls.enable(true);
    if (current.sweep) parts.sweep.replaceChildren(el('p', { class: 'hint' }, 'The answer pair changed: run the sweep again.'));
    current.sweep = null;
  }

  async function sweep() {
    if (!current?.report) return;
    const { key, body, report } = current;
    Object.assign(lab, controls.read(), { ran: true });
    changed();
    const req = { ...body, sweep: lab.sweep, direction: lab.dir, ...(lab.sweep === 'head_pos' ? { layer: lab.layer } : {}) };
    const first = await shell.tasks.run('sweep', 'Patching row 1', (signal) => viewsApi.patch({ ...req, rows: [0, 1] }, signal));
    if (!first || current?.key !== key) return;
    const [rows, cols] = first.shape;
    const map = sweepMap({ name: `${first.sweep}-${first.direction}`, rows, cols, caption: caption(first, report), rowName: axisName(first.axes[0]),
      colName: axisName(first.axes[1], current.clean), describe: describer(first, current) });
    const progress = el('p', { class: 'hint', testid: 'patch-progress', 'aria-live': 'polite' });
    current.sweep = { first, map, rows: [first.rows[0]], req };
    parts.sweep.replaceChildren(map.box, map.readout, progress);
    map.resize(parts.sweep.clientWidth || 320);
    map.setRow(0, first.rows[0].metric, first.rows[0].restored);
    // Each request runs both prompts again before its rows: while rows come back quickly,
    // ask for more at a time, so that fixed cost stays small but the map still fills visibly.
    let batch = 1;
    for (let r = 1; r < rows;) {
      const end = Math.min(rows, r + batch);
      progress.textContent = `${r} of ${rows} rows patched…`;
      const started = performance.now();
      const next = await shell.tasks.run('sweep', `Patching rows ${r + 1}–${end} of ${rows}`,
        (signal) => viewsApi.patch({ ...req, rows: [r, end] }, signal));
      if (!next || current?.sweep?.map !== map) return;
      for (const row of next.rows) {
        current.sweep.rows.push(row);
        map.setRow(row.row, row.metric, row.restored);
      }
      if (performance.now() - started < FILL_MS) batch = Math.min(batch * 2, MAX_BATCH);
      r = end;
    }
    progress.textContent = `All ${rows} rows patched (${rows * cols} patched runs).`;
  }

  return {
    box,
    async update() {
      if (ctx.source.mode === 'static' || current) return;
      // A shared link's pair arrived after this view was built.
      ui.set(lab);
      controls.set(lab);
      await compare();
    },
    busy: () => shell.tasks.busy(),
    exportData: () => exportData(current),
    png: () => current?.sweep?.map.png() ?? null,
  };
}

function inputs(lab, onCompare) {
  const area = (id, label, value) => [el('label', { for: id, class: 'label' }, label),
    el('textarea', { id, testid: id, rows: 2, spellcheck: 'false' }, value)];
  const [cleanLabel, clean] = area('patch-clean', 'Clean prompt', lab.clean);
  const [corruptedLabel, corrupted] = area('patch-corrupted', 'Corrupted prompt', lab.corrupted);
  const examples = el('div', { class: 'examples', role: 'group', 'aria-label': 'Example pairs' }, EXAMPLES.map((ex) => el('button', {
    type: 'button', class: 'example', testid: 'patch-example',
    onclick: () => { clean.value = ex.clean; corrupted.value = ex.corrupted; lab.answer = null; lab.other = null; onCompare(); },
  }, ex.name)));
  const run = el('button', { type: 'button', class: 'primary', testid: 'patch-compare', onclick: () => {
    lab.answer = null;
    lab.other = null;
    onCompare();
  } }, 'Compare');
  return {
    box: el('div', { class: 'patch-inputs' }, examples, el('div', { class: 'patch-pair' },
      el('div', {}, cleanLabel, clean), el('div', {}, corruptedLabel, corrupted)), el('div', { class: 'row' }, run)),
    read: () => ({ clean: clean.value, corrupted: corrupted.value }),
    set: (pair) => { clean.value = pair.clean; corrupted.value = pair.corrupted; },
  };
}

function sweepControls(lab, ctx, onRun) {
  const kind = el('select', { id: 'patch-sweep', testid: 'patch-sweep' },
    Object.entries(SWEEPS).map(([value, text]) => el('option', { value, selected: value === lab.sweep }, text)));
  const layer = el('input', { id: 'patch-layer', testid: 'patch-layer', type: 'number', min: 0, step: 1, class: 'short',
    max: (ctx.source.model?.n_layer ?? 12) - 1, value: lab.layer });
  const layerBox = el('span', { hidden: lab.sweep !== 'head_pos' }, el('label', { for: 'patch-layer' }, 'Layer '), layer);
  kind.addEventListener('change', () => { layerBox.hidden = kind.value !== 'head_pos'; });
  const radio = (value, text) => el('label', { class: 'radio' }, el('input', { type: 'radio', name: 'patch-dir', value,
    testid: `patch-dir-${value}`, checked: lab.dir === value }), text);
  const button = el('button', { type: 'button', class: 'primary', testid: 'patch-run', disabled: true, onclick: onRun }, 'Run sweep');
  const box = el('div', { class: 'patch-controls' }, el('label', { for: 'patch-sweep' }, 'Patch '), kind, layerBox,
    el('fieldset', { class: 'patch-dir' }, el('legend', {}, 'Direction'),
      radio('denoise', 'Denoise: restore clean activations into the corrupted run'),
      radio('noise', 'Noise: put corrupted activations into the clean run')), button);
  return {
    box,
    enable: (on) => { button.disabled = !on; },
    set: (s) => {
      kind.value = s.sweep;
      layer.value = s.layer;
      layerBox.hidden = s.sweep !== 'head_pos';
      box.querySelector(`input[value="${s.dir}"]`).checked = true;
    },
    read: () => ({ sweep: kind.value, layer: Number(layer.value) || 0,
      dir: box.querySelector('input[name="patch-dir"]:checked')?.value ?? 'denoise' }),
  };
}

const SWEEP_WORDS = { resid: 'residual stream', attn: 'attention output', mlp: 'MLP output', heads: 'head outputs', head_pos: 'head outputs' };

function caption(first, report) {
  const where = first.sweep === 'head_pos' ? ` of layer ${first.layer}` : '';
  const how = first.direction === 'denoise' ? 'clean into corrupted' : 'corrupted into clean';
  return `Patching the ${SWEEP_WORDS[first.sweep]}${where}, ${how}: ${report.answer.display} vs ${report.other.display}`;
}

// Short axis labels: `L3`, `H5`, or the token at a position.
function axisName(axis, tokens) {
  if (axis === 'layer') return (i) => `block ${i}`;
  if (axis === 'head') return (i) => `head ${i}`;
  return (i) => `${i} ${tokens[i].display}`;
}

function describer(first, current) {
  const [rowAxis, colAxis] = first.axes;
  const label = (axis, i) => (axis === 'position' ? `position ${i} ‘${current.clean[i].display}’` : `${axis === 'layer' ? 'block' : 'head'} ${i}`);
  return (i, j, cell) => {
    const at = `${label(rowAxis, i)}, ${label(colAxis, j)}`;
    if (!cell) return `${at}: not patched yet.`;
    return `${at}: the patched run's metric is ${cell.metric.toFixed(3)} (clean ${first.clean_metric.toFixed(3)}, `
      + `corrupted ${first.corrupted_metric.toFixed(3)}): ${pctText(cell.restored)} restored.`;
  };
}

function exportData(current) {
  const s = current?.sweep;
  if (!s) return null;
  const [rowAxis, colAxis] = s.first.axes;
  return {
    json: { request: s.req, pair: current.report, sweep: { ...s.first, rows: s.rows } },
    header: [rowAxis, colAxis, 'metric', 'restored'],
    rows: s.rows.flatMap((row) => row.metric.map((m, j) => [row.row, j, m, row.restored[j]])),
  };
}

// The attention inspector: every head of every layer as a thumbnail (fetched a layer at a
// time as the rows scroll into view; the server computes all layers in one pass), the chosen
// head's pattern (zoomable at any length, heatmap.js), and the head scores that point out
// previous-token and induction heads. Requests show progress and can be cancelled.
import { groupSize, groupsText, kvHeadOf } from '../architecture.js';
import { el } from '../dom.js';
import { onWidth } from '../windowed.js';
import { gridImage } from './colors.js';
import { frame } from './frame.js';
import { drawPattern, weightRgb } from './heatmap.js';
import { viewsApi } from './http.js';
import { scoresTable } from './scores.js';

const THUMB_PX = 64;

export function attentionView(box, ctx) {
  const shell = frame(box, {
    id: 'attention',
    title: 'Attention inspector',
    explain: 'In each block, every head decides how much each position (a query, one row) looks at each earlier '
      + 'position (a key, one column). Pick a head from the thumbnails or the menus. On a long text the pattern shows a '
      + 'window: click the overview or use the arrow keys on the pattern to move it. The table scores every head, so you '
      + 'can sort for previous-token and induction heads.',
    isStatic: ctx.source.mode === 'static',
  });
  const { model } = ctx.source;
  const { n_layer: nLayer, n_head: nHead } = model;
  const onPick = (l, h) => select(l, h);
  const menus = controls(model, onPick);
  const parts = {
    thumbs: el('div', { class: 'thumbs', testid: 'attn-overview' }), legend: el('div'), pattern: el('div'), readout: el('div'),
    scores: el('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': 'Head scores' }),
  };
  thumbKeys(parts.thumbs);
  // Query heads that share a key/value head (Llama's grouped-query attention) are said so.
  const groups = groupSize(model) > 1 ? el('p', { class: 'hint', testid: 'attn-groups' }, groupsText(model)) : null;
  shell.body.append(menus.box, groups, el('h3', {}, 'All heads'), parts.thumbs, el('h3', {}, 'The chosen head'), parts.legend,
    parts.pattern, parts.readout, el('h3', {}, 'Head scores'), parts.scores);
  const shown = { run: null, pattern: null, scores: null, key: null, drawn: null };
  const scoreView = {}; // the table's sort and "Show all", kept while heads are picked
  const same = (run) => shown.run?.tokenIds.join() === run.tokenIds.join();

  async function select(layer, head) {
    Object.assign(ctx.state, { layer, head });
    ctx.changed();
    await showHead();
  }
  async function showHead() {
    const { run } = shown;
    const { layer, head } = ctx.state;
    shown.key = JSON.stringify([run.tokenIds, layer, head]);
    menus.set(layer, head);
    markThumbs(parts.thumbs, layer, head);
    tabStop(parts.thumbs, parts.thumbs.querySelector('.thumb[aria-pressed="true"]'));
    parts.pattern.firstChild?.classList.add('stale');
    const data = await shell.tasks.run('pattern', `Computing the pattern of layer ${layer}, head ${head}`,
      (signal) => viewsApi.attention(run.tokenIds, layer, head, signal));
    if (!data || shown.run !== run || ctx.state.layer !== layer || ctx.state.head !== head) return; // a later pick won
    shown.pattern = data;
    const hadFocus = parts.pattern.contains(document.activeElement);
    const drawn = drawPattern({ pattern: data.pattern, tokens: run.tokens, layer, head, boundary: run.promptTokens,
      width: parts.pattern.clientWidth || 1100 });
    shown.drawn = drawn;
    parts.legend.replaceChildren(drawn.legend);
    parts.pattern.replaceChildren(drawn.box);
    parts.readout.replaceChildren(drawn.readout);
    if (hadFocus) drawn.canvas.focus();
    showScores();
  }
  const showScores = () => {
    if (shown.scores) parts.scores.replaceChildren(scoresTable(shown.scores, { selected: ctx.state, onPick, view: scoreView }));
  };
  onWidth(parts.pattern, (width) => shown.drawn?.resize(width));

  return {
    box,
    async update(run) {
      if (ctx.source.mode === 'static') return;
      ctx.state.layer = Math.min(Math.max(ctx.state.layer ?? 0, 0), nLayer - 1);
      ctx.state.head = Math.min(Math.max(ctx.state.head ?? 0, 0), nHead - 1);
      if (shown.key === JSON.stringify([run.tokenIds, ctx.state.layer, ctx.state.head])) return;
      const fresh = !same(run);
      shown.run = run;
      if (fresh) {
        shell.tasks.reset();
        shell.showPrompt(run);
        Object.assign(shown, { scores: null, pattern: null, drawn: null });
        parts.pattern.replaceChildren();
        parts.readout.replaceChildren();
        parts.scores.replaceChildren(el('p', { class: 'hint' }, 'Scoring every head…'));
        shown.observer?.disconnect();
        shown.observer = lazyThumbs(run, model, parts.thumbs, { shell, current: () => same(run), selected: () => ctx.state, onPick });
        scoreHeads(run);
      }
      await showHead();
    },
    busy: () => shell.tasks.busy(),
    exportData() {
      if (!shown.pattern) return null;
      const { run, pattern, scores } = shown;
      const rows = pattern.pattern.flatMap((row, q) => row.map((w, k) => [pattern.layer, pattern.head, q, run.tokens[q].text, k, run.tokens[k].text, w]));
      return {
        json: { prompt: run.prompt, token_ids: run.tokenIds, layer: pattern.layer, head: pattern.head, pattern: pattern.pattern, head_scores: scores },
        header: ['layer', 'head', 'query', 'query_text', 'key', 'key_text', 'weight'],
        rows,
      };
    },
  };

  async function scoreHeads(run) {
    const data = await shell.tasks.run('heads', 'Scoring every head', (signal) => viewsApi.heads(run.tokenIds, signal));
    if (!data || !same(run)) return;
    shown.scores = data.heads;
    showScores();
  }
}

// Two menus that stay in place while they are used, so arrow keys keep focus on them. With
// grouped key/value heads, each head's option names the key/value head it reads.
function controls(model, onPick) {
  const menu = (label, testid, n, pick, name = String) => {
    const select = el('select', { testid, onchange: () => pick(Number(select.value)) },
      Array.from({ length: n }, (_, i) => el('option', { value: i }, name(i))));
    return { select, label: el('label', { class: 'inline' }, `${label} `, select) };
  };
  const headName = (h) => (groupSize(model) > 1 ? `${h} (key/value head ${kvHeadOf(model, h)})` : String(h));
  const layer = menu('Layer', 'attn-layer', model.n_layer, (l) => onPick(l, Number(head.select.value)));
  const head = menu('Head', 'attn-head', model.n_head, (h) => onPick(Number(layer.select.value), h), headName);
  return {
    box: el('div', { class: 'row' }, layer.label, head.label),
    set(l, h) {
      layer.select.value = String(l);
      head.select.value = String(h);
    },
  };
}

// A row per layer, fetched when it scrolls into view, one layer after another: the first
// request makes the server compute every layer, and the rest are answered from that. A row
// whose request failed or was cancelled says so and offers to load it again (the progress line
// is shared by every layer, so the next layer's request would otherwise hide the failure).
function lazyThumbs(run, model, box, { shell, current, selected, onPick }) {
  let queue = Promise.resolve();
  // `retry`: the row's button that asked again; it stays (and keeps focus) until the answer.
  const fill = (row, layer, retry = null) => {
    queue = queue.then(async () => {
      if (!current()) return;
      if (retry) retry.textContent = `Loading layer ${layer}…`;
      const data = await shell.tasks.run('thumbs', 'Computing every head’s pattern for the thumbnails',
        (signal) => viewsApi.overview(run.tokenIds, layer, signal));
      if (!current()) return;
      if (!data) {
        const button = retry ?? el('button', { type: 'button', class: 'inline-button', testid: 'attn-thumbs-retry',
          onclick: () => fill(row, layer, button) });
        button.textContent = `Load layer ${layer} again`;
        if (!retry) row.replaceChildren(row.firstChild, el('span', { class: 'hint' }, 'Not loaded.'), button);
        return;
      }
      const hadFocus = row.contains(document.activeElement);
      row.replaceChildren(row.firstChild, grouped(model, data.heads.map((grid, head) => thumb(grid, layer, head, model, onPick))));
      markThumbs(row, selected().layer, selected().head);
      if (hadFocus) tabStop(box, row.querySelector('.thumb'))?.focus();
      else if (!box.contains(document.activeElement)) {
        tabStop(box, box.querySelector('.thumb[aria-pressed="true"]') ?? box.querySelector('.thumb[tabindex="0"]')
          ?? box.querySelector('.thumb'));
      }
    });
  };
  // The box scrolls (48 layers of 25 heads are metres of thumbnails): rows load as they come
  // near its visible part, so the arrow keys find the next layer already there.
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries.filter((e) => e.isIntersecting)) {
      observer.unobserve(entry.target);
      fill(entry.target, Number(entry.target.dataset.layer));
    }
  }, { root: box, rootMargin: '50% 0px' });
  box.replaceChildren();
  for (let layer = 0; layer < model.n_layer; layer += 1) {
    const row = el('div', { class: 'thumb-row', dataset: { layer } }, el('span', { class: 'hm-label' }, `layer ${layer}`),
      el('span', { class: 'hint' }, 'loading…'));
    box.append(row);
    observer.observe(row);
  }
  return observer;
}

// A layer's thumbnails beside its label, wrapping under each other. With grouped key/value
// heads, the heads that share one sit in one box, so a row wraps between groups, never inside one.
function grouped(model, thumbs) {
  const size = groupSize(model);
  const groups = size === 1 ? thumbs : Array.from({ length: thumbs.length / size }, (_, g) => el('span', {
    class: 'kv-group', role: 'group', 'aria-label': `heads ${g * size}–${(g + 1) * size - 1}: key/value head ${g}`,
  }, thumbs.slice(g * size, (g + 1) * size)));
  return el('span', { class: 'thumb-heads' }, groups);
}

// Every label names the head's key/value head when heads share them.
function thumb(grid, layer, head, model, onPick) {
  const kv = groupSize(model) > 1 ? kvHeadOf(model, head) : null;
  const canvas = el('canvas', { width: grid.length, height: grid.length, 'aria-hidden': 'true' });
  canvas.getContext('2d').putImageData(gridImage(grid, weightRgb), 0, 0);
  canvas.style.setProperty('width', `${THUMB_PX}px`);
  canvas.style.setProperty('height', `${THUMB_PX}px`);
  return el('button', { type: 'button', class: 'thumb', testid: 'attn-thumb', dataset: { layer, head, kv }, tabindex: -1,
    'aria-label': `head ${head} of layer ${layer}${kv == null ? '' : `, key/value head ${kv}`}`, onclick: () => onPick(layer, head) },
  canvas, el('span', {}, `head ${head}`), kv == null ? null : el('span', { class: 'kv' }, `kv ${kv}`));
}

function markThumbs(box, layer, head) {
  for (const button of box.querySelectorAll('.thumb')) {
    const on = Number(button.dataset.layer) === layer && Number(button.dataset.head) === head;
    button.setAttribute('aria-pressed', String(on));
  }
}

// The thumbnails are one Tab stop, however many (1,200 at gpt2-xl's size): the arrow keys move
// between heads (left, right) and layers (up, down), Home and End to a layer's first and last.
function thumbKeys(box) {
  const at = (layer, head) => box.querySelector(`.thumb[data-layer="${layer}"][data-head="${head}"]`);
  const moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
  box.addEventListener('keydown', (event) => {
    const from = event.target.closest('.thumb');
    if (!from) return;
    const [layer, head] = [Number(from.dataset.layer), Number(from.dataset.head)];
    const row = [...from.closest('.thumb-row').querySelectorAll('.thumb')];
    const [dl, dh] = moves[event.key] ?? [];
    const to = { Home: row[0], End: row.at(-1) }[event.key] ?? (dl == null ? null : at(layer + dl, head + dh));
    if (!to) return;
    event.preventDefault();
    tabStop(box, to).focus();
  });
}

// Makes `thumb` the box's one Tab stop.
function tabStop(box, thumb) {
  if (!thumb) return null;
  for (const other of box.querySelectorAll('.thumb[tabindex="0"]')) other.tabIndex = -1;
  thumb.tabIndex = 0;
  return thumb;
}

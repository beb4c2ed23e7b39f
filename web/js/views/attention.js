// The attention inspector: every head of every layer as a thumbnail (fetched one layer at a
// time, downsampled by the server for long prompts), the chosen head's full pattern, and the
// head scores that point out previous-token and induction heads.
import { el } from '../dom.js';
import { tokenNodes } from '../format.js';
import { frame } from './frame.js';
import { drawPattern, weightColor } from './heatmap.js';
import { viewsApi } from './http.js';
import { scoresTable } from './scores.js';

const THUMB_PX = 64;

export function attentionView(box, ctx) {
  const shell = frame(box, {
    id: 'attention',
    title: 'Attention inspector',
    explain: 'In each block, every head decides how much each position (a query, one row) looks at each earlier '
      + 'position (a key, one column). Pick a head from the thumbnails or the menus; hover the pattern or a token '
      + 'to read it. The table scores every head, so you can sort for previous-token and induction heads.',
    isStatic: ctx.source.mode === 'static',
  });
  const parts = {
    controls: el('div', { class: 'row' }), thumbs: el('div', { class: 'thumbs', testid: 'attn-overview' }),
    strip: el('div'), pattern: el('div', { class: 'scroll' }), readout: el('div'), scores: el('div', { class: 'scroll' }),
  };
  shell.body.append(parts.controls, el('h3', {}, 'All heads'), parts.thumbs, el('h3', {}, 'The chosen head'), parts.strip,
    parts.pattern, parts.readout, el('h3', {}, 'Head scores'), parts.scores);
  const shown = { run: null, pattern: null, scores: null, key: null };

  const select = async (layer, head) => {
    Object.assign(ctx.state, { layer, head });
    ctx.changed();
    await showHead();
  };
  const showHead = async () => {
    const { run } = shown;
    const { layer, head } = ctx.state;
    shown.key = JSON.stringify([run.tokenIds, layer, head]);
    markThumbs(parts.thumbs, layer, head);
    parts.controls.replaceChildren(...controls(ctx.source.model, ctx.state, (l, h) => select(l, h).catch((e) => ctx.onError(e.message))));
    const data = await viewsApi.attention(run.tokenIds, layer, head);
    if (shown.run !== run || ctx.state.layer !== layer || ctx.state.head !== head) return; // a later pick won
    shown.pattern = data;
    const drawn = drawPattern({ pattern: data.pattern, tokens: run.tokens, layer, head });
    parts.pattern.replaceChildren(drawn.legend, drawn.canvas);
    parts.readout.replaceChildren(drawn.readout);
    parts.strip.replaceChildren(tokenStrip(run.tokens, drawn.describe));
    showScores();
  };
  const showScores = () => {
    if (!shown.scores) return;
    const onPick = (l, h) => select(l, h).catch((e) => ctx.onError(e.message));
    parts.scores.replaceChildren(scoresTable(shown.scores, { selected: ctx.state, onPick }));
  };

  return {
    box,
    async update(run) {
      if (ctx.source.mode === 'static') return;
      const { n_layer: nLayer, n_head: nHead } = ctx.source.model;
      ctx.state.layer = Math.min(Math.max(ctx.state.layer ?? 0, 0), nLayer - 1);
      ctx.state.head = Math.min(Math.max(ctx.state.head ?? 0, 0), nHead - 1);
      const key = JSON.stringify([run.tokenIds, ctx.state.layer, ctx.state.head]);
      if (shown.key === key) return;
      const fresh = shown.run?.tokenIds.join() !== run.tokenIds.join();
      shown.run = run;
      shell.showPrompt(run);
      if (fresh) {
        shown.scores = null;
        parts.thumbs.replaceChildren();
        parts.scores.replaceChildren(el('p', { class: 'hint' }, 'Scoring every head…'));
      }
      await showHead();
      if (!fresh) return;
      const ids = run.tokenIds.join();
      shown.observer?.disconnect();
      shown.observer = lazyThumbs(run, nLayer, parts.thumbs, {
        current: () => shown.run.tokenIds.join() === ids,
        selected: () => ctx.state,
        onPick: (l, h) => select(l, h).catch((e) => ctx.onError(e.message)),
        onError: ctx.onError,
      });
      const { heads } = await viewsApi.heads(run.tokenIds);
      if (shown.run.tokenIds.join() !== ids) return; // another prompt's scores are on their way
      shown.scores = heads;
      showScores();
    },
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
}

function controls(model, state, onPick) {
  const select = (label, testid, n, value, pick) => el('label', { class: 'inline' }, `${label} `, el('select', {
    testid, onchange: (event) => pick(Number(event.target.value)),
  }, Array.from({ length: n }, (_, i) => el('option', { value: i, selected: i === value }, String(i)))));
  return [
    select('Layer', 'attn-layer', model.n_layer, state.layer, (l) => onPick(l, state.head)),
    select('Head', 'attn-head', model.n_head, state.head, (h) => onPick(state.layer, h)),
  ];
}

// A row per layer, fetched when it scrolls into view: a long prompt on a deep model asks for
// the layers a reader looks at, one request each, never every pattern at once.
function lazyThumbs(run, nLayer, box, { current, selected, onPick, onError }) {
  const fill = async (row, layer) => {
    const data = await viewsApi.overview(run.tokenIds, layer);
    if (!current()) return;
    row.replaceChildren(row.firstChild, ...data.heads.map((grid, head) => thumb(grid, layer, head, onPick)));
    markThumbs(row, selected().layer, selected().head);
  };
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries.filter((e) => e.isIntersecting)) {
      observer.unobserve(entry.target);
      fill(entry.target, Number(entry.target.dataset.layer)).catch((err) => onError(err.message));
    }
  });
  for (let layer = 0; layer < nLayer; layer += 1) {
    const row = el('div', { class: 'thumb-row', dataset: { layer } }, el('span', { class: 'hm-label' }, `layer ${layer}`),
      el('span', { class: 'hint' }, 'loading…'));
    box.append(row);
    observer.observe(row);
  }
  return observer;
}

function thumb(grid, layer, head, onPick) {
  const canvas = el('canvas', { width: grid.length, height: grid.length, 'aria-hidden': 'true' });
  const g = canvas.getContext('2d');
  grid.forEach((row, i) => row.forEach((w, j) => {
    g.fillStyle = weightColor(w);
    g.fillRect(j, i, 1, 1);
  }));
  canvas.style.setProperty('width', `${THUMB_PX}px`);
  canvas.style.setProperty('height', `${THUMB_PX}px`);
  return el('button', { type: 'button', class: 'thumb', testid: 'attn-thumb', dataset: { layer, head },
    title: `layer ${layer}, head ${head}`, onclick: () => onPick(layer, head) }, canvas, el('span', {}, `h${head}`));
}

function markThumbs(box, layer, head) {
  for (const button of box.querySelectorAll('.thumb')) {
    const on = Number(button.dataset.layer) === layer && Number(button.dataset.head) === head;
    button.setAttribute('aria-pressed', String(on));
  }
}

function tokenStrip(tokens, describe) {
  return el('div', { class: 'chips picker', role: 'group', 'aria-label': 'Tokens: hover or focus one to read its attention' },
    tokens.map((t, pos) => el('button', {
      type: 'button', class: 'chip', testid: 'attn-token', dataset: { pos },
      onmouseenter: () => describe(pos), onfocus: () => describe(pos), onclick: () => describe(pos),
    }, el('span', { class: 'chip-text' }, tokenNodes(t)))));
}

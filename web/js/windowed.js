// A per-position chart that stays legible at any length. When every position fits at a
// readable width the chart shows them all; otherwise it shows a window of them, with an
// overview of the whole sequence above it (the window marked on it; click or drag to move),
// buttons and a slider to move by a window or to any position, and arrow keys that carry the
// window along with the cursor. Row labels sit outside the columns, so they never scroll away.
import { el, setStyle } from './dom.js';
import { count } from './format.js';

// `render(start, size)` fills the chart with those positions and returns their cells,
// `cells[row][i]` for position start + i; `describe(row, pos)` says what one holds; `overview`
// is a canvas of every position (its width is the sequence) or null; `fit(width)` is how many
// positions fit in that many pixels.
export function windowedChart({ chart, rows, total, label, overview, fit, render, describe, boundary }) {
  const win = { start: 0, size: total };
  const cursor = { row: rows - 1, pos: total - 1 };
  let cells = [];
  const readout = el('p', { class: 'readout', 'aria-live': 'polite' }, 'Point at a cell, or focus the chart and use the arrow keys.');
  const where = el('span', { class: 'win-where' });
  const slider = el('input', { type: 'range', min: 0, step: 1, value: 0, 'aria-label': `First position shown in ${label}`,
    oninput: () => move(Number(slider.value)) });
  const earlier = el('button', { type: 'button', class: 'win-step', onclick: () => move(win.start - win.size) }, '◀ Earlier');
  const later = el('button', { type: 'button', class: 'win-step', onclick: () => move(win.start + win.size) }, 'Later ▶');
  const mark = el('span', { class: 'win-mark', 'aria-hidden': 'true' });
  const map = overview ? el('div', { class: 'win-map', title: 'The whole sequence: click or drag to move the window' }, overview, mark,
    boundaryMark(boundary, total)) : null;
  const bar = el('div', { class: 'win-bar' }, earlier, slider, later, where);
  const controls = el('div', { class: 'win', role: 'group', 'aria-label': `Positions of ${label}` }, map, bar);

  const draw = () => {
    cells = render(win.start, win.size);
    const shown = cells[cursor.row]?.[cursor.pos - win.start];
    shown?.classList.add('cursor');
    const windowed = win.size < total;
    controls.hidden = !windowed;
    slider.max = String(total - win.size);
    slider.value = String(win.start);
    earlier.disabled = win.start === 0;
    later.disabled = win.start + win.size >= total;
    where.textContent = `positions ${count(win.start)}–${count(win.start + win.size - 1)} of ${count(total)}`;
    setStyle(mark, { left: `${(100 * win.start) / total}%`, width: `${(100 * win.size) / total}%` });
  };
  function move(start) {
    const next = Math.min(Math.max(Math.round(start), 0), total - win.size);
    if (next === win.start && cells.length) return;
    win.start = next;
    draw();
  }
  const show = (row, pos) => {
    cells[cursor.row]?.[cursor.pos - win.start]?.classList.remove('cursor');
    Object.assign(cursor, { row, pos });
    if (pos < win.start || pos >= win.start + win.size) move(pos < win.start ? pos : pos - win.size + 1);
    cells[row]?.[pos - win.start]?.classList.add('cursor');
    readout.textContent = describe(row, pos);
  };

  chart.tabIndex = 0;
  chart.addEventListener('mouseover', (event) => {
    const cell = event.target.closest('[data-col]');
    if (cell) show(Number(cell.dataset.row), Number(cell.dataset.col));
  });
  chart.addEventListener('focus', () => show(cursor.row, cursor.pos));
  chart.addEventListener('keydown', (event) => {
    const step = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0],
      PageUp: [0, -win.size], PageDown: [0, win.size], Home: [0, -total], End: [0, total] }[event.key];
    if (!step) return;
    event.preventDefault();
    show(clamp(cursor.row + step[0], rows - 1), clamp(cursor.pos + step[1], total - 1));
  });
  if (map) dragToMove(map, (fraction) => move(fraction * total - win.size / 2));

  return {
    controls,
    readout,
    // Shows as many positions as `width` pixels hold, keeping the cursor's position in view
    // (the end of the sequence at first: where the next token comes from).
    resize(width) {
      const size = Math.min(total, Math.max(1, fit(width)));
      if (size === win.size && cells.length) return;
      win.size = size;
      win.start = Math.min(Math.max(cursor.pos - size + 1, 0), total - size);
      draw();
    },
  };
}

function boundaryMark(boundary, total) {
  if (boundary == null || boundary >= total) return null;
  const line = el('span', { class: 'win-boundary', title: 'Generated tokens start here' });
  setStyle(line, { left: `${(100 * boundary) / total}%` });
  return line;
}

// Click or drag on the overview: `onMove(fraction of the width)`.
function dragToMove(map, onMove) {
  const at = (event) => {
    const rect = map.getBoundingClientRect();
    onMove((event.clientX - rect.left) / rect.width);
  };
  map.addEventListener('pointerdown', (event) => {
    map.setPointerCapture(event.pointerId);
    at(event);
  });
  map.addEventListener('pointermove', (event) => {
    if (map.hasPointerCapture(event.pointerId)) at(event);
  });
}

// Redraws `draw(width)` whenever `box` changes width (a phone turned, a hidden tab shown).
const observers = new WeakMap();
export function onWidth(box, draw) {
  observers.get(box)?.disconnect();
  let last = -1;
  const observer = new ResizeObserver(() => {
    const width = box.clientWidth;
    if (width > 0 && width !== last) draw(width);
    last = width;
  });
  observer.observe(box);
  observers.set(box, observer);
}

const clamp = (value, max) => Math.min(Math.max(value, 0), max);

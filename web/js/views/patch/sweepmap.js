// One patching sweep as a heatmap that fills in row by row: rows are blocks (or heads),
// columns positions (or heads); a cell's colour is how much of the answer the patch restored.
// The canvas is one tab stop: arrow keys move a cursor cell and the readout says what it holds,
// as hovering does. The caption and the legend are drawn into the canvas, so its PNG stands alone.
import { el } from '../../dom.js';

const LEFT = 76; // px for the row labels
const TOP_CAPTION = 40; // px for the caption, up to two lines
const RIGHT = 56; // px for the last column's slanted label
const TOP_LABELS = 84; // px for the rotated column labels
const LEGEND = 44; // px under the grid for the colour legend
const MIN_CELL = 14;
const MAX_CELL = 52;
const ROW_HEIGHT = 26;
const NEUTRAL = [247, 247, 247];
const UP = [33, 102, 172]; // 100% restored
const DOWN = [178, 24, 43]; // −100%: the patch pushed the other way

// −1..1 on a blue–white–red scale, clamped beyond; null (not computed, or undefined) is grey.
export function restoredRgb(v) {
  if (v == null || !Number.isFinite(v)) return null;
  const t = Math.min(Math.abs(v), 1);
  const end = v >= 0 ? UP : DOWN;
  return NEUTRAL.map((c, i) => Math.round(c + t * (end[i] - c)));
}

const css = ([r, g, b]) => `rgb(${r}, ${g}, ${b})`;
const ink = ([r, g, b]) => (0.299 * r + 0.587 * g + 0.114 * b > 150 ? '#1b1f24' : '#ffffff');
export const pctText = (v) => (v == null ? 'n/a' : `${Math.round(100 * v) === 0 ? 0 : Math.round(100 * v)}%`);

// `rowName(i)` and `colName(j)` label the axes (short); `describe(i, j, cell)` is the readout.
// `name` (the sweep and its direction) lets a reader tell one sweep's map from the next.
export function sweepMap({ name, rows, cols, caption, rowName, colName, describe, testid = 'patch-heatmap' }) {
  const canvas = el('canvas', { class: 'patch-canvas', testid, tabindex: 0, role: 'img',
    dataset: { sweep: name, rows, cols, done: 0 },
    'aria-label': `${caption}. Arrow keys move the cursor; the readout below says what each cell holds.` });
  // Every cell as { metric, restored } once its row is in; tests read it as the page drew it.
  canvas.cells = Array.from({ length: rows }, () => Array(cols).fill(null));
  const readout = el('p', { class: 'readout', testid: `${testid}-readout`, 'aria-live': 'polite' },
    'Hover a cell, or focus the heatmap and use the arrow keys.');
  const view = { cell: MIN_CELL, cursor: { i: rows - 1, j: cols - 1 }, focused: false };

  const draw = () => paint(canvas, { rows, cols, caption, rowName, colName, view });
  const say = (i, j) => readout.replaceChildren(describe(i, j, canvas.cells[i][j]));
  const move = (i, j) => {
    view.cursor = { i: clamp(i, rows - 1), j: clamp(j, cols - 1) };
    draw();
    say(view.cursor.i, view.cursor.j);
  };
  const at = (event) => {
    const rect = canvas.getBoundingClientRect();
    const x = (event.clientX - rect.left) * (canvas.width / rect.width) - LEFT;
    const y = (event.clientY - rect.top) * (canvas.height / rect.height) - TOP_CAPTION - TOP_LABELS;
    const [i, j] = [Math.floor(y / ROW_HEIGHT), Math.floor(x / view.cell)];
    return i >= 0 && j >= 0 && i < rows && j < cols ? [i, j] : null;
  };
  canvas.addEventListener('mousemove', (event) => {
    const cell = at(event);
    if (cell) say(...cell);
  });
  canvas.addEventListener('click', (event) => {
    const cell = at(event);
    if (cell) move(...cell);
  });
  canvas.addEventListener('focus', () => { view.focused = true; move(view.cursor.i, view.cursor.j); });
  canvas.addEventListener('blur', () => { view.focused = false; draw(); });
  canvas.addEventListener('keydown', (event) => {
    const step = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1],
      Home: [0, -cols], End: [0, cols], PageUp: [-rows, 0], PageDown: [rows, 0] }[event.key];
    if (!step) return;
    event.preventDefault();
    move(view.cursor.i + step[0], view.cursor.j + step[1]);
  });

  return {
    box: el('div', { class: 'scroll patch-map', tabindex: -1 }, canvas),
    canvas,
    readout,
    // Row `i` arrived: its metrics and restored shares, one per column.
    setRow(i, metric, restored) {
      canvas.cells[i] = metric.map((m, j) => ({ metric: m, restored: restored[j] }));
      canvas.dataset.done = canvas.cells.filter((row) => row.every(Boolean)).length;
      draw();
      if (view.cursor.i === i) say(i, view.cursor.j);
    },
    resize(px) {
      view.cell = Math.max(MIN_CELL, Math.min(MAX_CELL, Math.floor((px - LEFT - RIGHT) / cols)));
      draw();
    },
    png: () => new Promise((resolve) => canvas.toBlob(resolve, 'image/png')),
  };
}

function paint(canvas, { rows, cols, caption, rowName, colName, view }) {
  const { cell } = view;
  const top = TOP_CAPTION + TOP_LABELS;
  canvas.width = Math.max(LEFT + cols * cell + RIGHT, 300);
  canvas.height = top + rows * ROW_HEIGHT + LEGEND;
  const g = canvas.getContext('2d');
  const style = getComputedStyle(document.body);
  const text = style.color;
  g.fillStyle = style.getPropertyValue('--card') || '#ffffff';
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.fillStyle = text;
  g.font = '600 13px system-ui, sans-serif';
  g.textBaseline = 'middle';
  wrap(g, caption, canvas.width - 8).forEach((line, k) => g.fillText(line, 4, 10 + 18 * k));
  g.font = '11px ui-monospace, monospace';
  for (let i = 0; i < rows; i += 1) {
    g.textAlign = 'right';
    g.fillStyle = text;
    g.fillText(rowName(i), LEFT - 6, top + (i + 0.5) * ROW_HEIGHT);
    canvas.cells[i].forEach((c, j) => {
      const rgb = restoredRgb(c?.restored);
      g.fillStyle = rgb ? css(rgb) : style.getPropertyValue('--line');
      g.fillRect(LEFT + j * cell, top + i * ROW_HEIGHT, cell - 1, ROW_HEIGHT - 1);
      if (rgb && cell >= 34) {
        g.fillStyle = ink(rgb);
        g.textAlign = 'center';
        g.fillText(pctText(c.restored), LEFT + (j + 0.5) * cell, top + (i + 0.5) * ROW_HEIGHT);
      }
    });
  }
  g.fillStyle = text;
  for (let j = 0; j < cols; j += 1) {
    g.save();
    g.translate(LEFT + (j + 0.5) * cell, top - 6);
    g.rotate(-Math.PI / 3);
    g.textAlign = 'left';
    g.fillText(fit(colName(j), 12), 0, 0);
    g.restore();
  }
  if (view.focused) {
    const { i, j } = view.cursor;
    g.strokeStyle = style.getPropertyValue('--focus') || '#ff9f1c';
    g.lineWidth = 3;
    g.strokeRect(LEFT + j * cell - 1, top + i * ROW_HEIGHT - 1, cell + 1, ROW_HEIGHT + 1);
  }
  legend(g, { x: LEFT, y: top + rows * ROW_HEIGHT + 12, width: Math.min(240, canvas.width - LEFT - 8), text });
}

// The scale from −100% to 100% with its three ticks.
function legend(g, { x, y, width, text }) {
  for (let k = 0; k < width; k += 1) {
    g.fillStyle = css(restoredRgb((2 * k) / (width - 1) - 1));
    g.fillRect(x + k, y, 1, 10);
  }
  g.fillStyle = text;
  g.font = '11px system-ui, sans-serif';
  g.textBaseline = 'top';
  const ticks = [[0, 'left', '−100%'], [0.5, 'center', '0% restored'], [1, 'right', '100%']];
  for (const [f, align, label] of ticks) {
    g.textAlign = align;
    g.fillText(label, x + f * width, y + 14);
  }
}

// At most two lines of `text` within `width` px, the second cut with an ellipsis.
function wrap(g, text, width) {
  const lines = [''];
  for (const word of text.split(' ')) {
    const next = lines.at(-1) ? `${lines.at(-1)} ${word}` : word;
    if (g.measureText(next).width <= width || !lines.at(-1)) lines[lines.length - 1] = next;
    else lines.push(word);
  }
  const [first, ...rest] = lines;
  const second = rest.join(' ');
  return second ? [first, g.measureText(second).width <= width ? second : `${fit(second, Math.floor(width / 7) - 1)}`] : [first];
}

const fit = (s, n) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const clamp = (value, max) => Math.min(Math.max(value, 0), Math.max(max, 0));

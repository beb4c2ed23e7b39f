// Hover values for a grid of cells that also works by keyboard: the grid is one tab stop, the
// arrow keys move a cursor, and the readout line says what the cell under it holds.
import { el } from './dom.js';

// `cells[row][col]` are elements; `describe(row, col)` says what one holds.
export function attachReadout(grid, cells, describe) {
  const readout = el('p', { class: 'readout', 'aria-live': 'polite' }, 'Point at a cell, or focus the chart and use the arrow keys.');
  let cursor = { row: cells.length - 1, col: 0 };
  const show = (row, col) => {
    cells[cursor.row]?.[cursor.col]?.classList.remove('cursor');
    cursor = { row, col };
    cells[row][col].classList.add('cursor');
    readout.textContent = describe(row, col);
  };
  grid.tabIndex = 0;
  grid.addEventListener('mouseover', (event) => {
    const cell = event.target.closest('[data-col]');
    if (cell) show(Number(cell.dataset.row), Number(cell.dataset.col));
  });
  grid.addEventListener('focus', () => show(cursor.row, cursor.col));
  grid.addEventListener('keydown', (event) => {
    const move = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] }[event.key];
    if (!move) return;
    event.preventDefault();
    const row = clamp(cursor.row + move[0], cells.length - 1);
    const col = clamp(cursor.col + move[1], cells[row].length - 1);
    show(row, col);
    cells[row][col].scrollIntoView({ block: 'nearest', inline: 'nearest' });
  });
  return readout;
}

const clamp = (value, max) => Math.min(Math.max(value, 0), max);

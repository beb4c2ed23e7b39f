// Per-head scores as a sortable table: previous-token and first-token attention on the prompt,
// induction on a random sequence seen twice. Clicking a row shows that head.
import { el } from '../dom.js';

const COLUMNS = [
  ['layer', 'Layer'], ['head', 'Head'], ['prev_token', 'Previous token'], ['first_token', 'First token'], ['induction', 'Induction'],
];

// Rows shown before "Show all": the top of the sorted table is what a learner looks for, and
// gpt2-xl's 1,200 rows would be 1,200 more Tab stops and metres of page.
const FIRST_ROWS = 48;

// `view` keeps the sort and "Show all" across re-renders (a pick re-renders the table).
export function scoresTable(scores, { selected, onPick, view = {} }) {
  view.sort ??= { key: 'induction', down: true };
  const table = el('table', { class: 'scores', testid: 'heads-table' });
  const more = el('button', { type: 'button', class: 'inline-button', testid: 'heads-all', onclick: () => {
    view.all = true;
    more.remove();
    render();
    table.querySelectorAll('button.link')[FIRST_ROWS]?.focus(); // the first row that was hidden
  } }, `Show all ${scores.length.toLocaleString('en')} heads`);
  const render = () => {
    const { sort } = view;
    const sorted = [...scores].sort((a, b) => (sort.down ? b[sort.key] - a[sort.key] : a[sort.key] - b[sort.key]));
    const rows = view.all ? sorted : sorted.slice(0, FIRST_ROWS);
    const head = el('tr', {}, COLUMNS.map(([key, name]) => el('th', {
      scope: 'col', 'aria-sort': key === sort.key ? (sort.down ? 'descending' : 'ascending') : 'none',
    }, el('button', { type: 'button', class: 'sort', testid: `sort-${key}`, onclick: () => {
      view.sort = { key, down: key === sort.key ? !sort.down : true };
      render();
    } }, name, key === sort.key ? (sort.down ? ' ▼' : ' ▲') : ''))));
    const body = rows.map((s) => el('tr', {
      testid: 'heads-row', dataset: { layer: s.layer, head: s.head },
      class: s.layer === selected.layer && s.head === selected.head ? 'selected' : null,
    }, el('td', {}, String(s.layer)), el('td', {}, el('button', {
      type: 'button', class: 'link', onclick: () => onPick(s.layer, s.head), 'aria-label': `Show layer ${s.layer} head ${s.head}`,
    }, String(s.head))), ['prev_token', 'first_token', 'induction'].map((k) => el('td', { class: 'num-cell' }, s[k].toFixed(3)))));
    table.replaceChildren(el('thead', {}, head), el('tbody', {}, body));
  };
  render();
  return view.all || scores.length <= FIRST_ROWS ? table : el('div', {}, table, more);
}

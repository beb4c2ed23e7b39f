// Per-head scores as a sortable table: previous-token and first-token attention on the prompt,
// induction on a random sequence seen twice. Clicking a row shows that head.
import { el } from '../dom.js';

const COLUMNS = [
  ['layer', 'Layer'], ['head', 'Head'], ['prev_token', 'Previous token'], ['first_token', 'First token'], ['induction', 'Induction'],
];

export function scoresTable(scores, { selected, onPick }) {
  let sort = { key: 'induction', down: true };
  const table = el('table', { class: 'scores', testid: 'heads-table' });
  const render = () => {
    const rows = [...scores].sort((a, b) => (sort.down ? b[sort.key] - a[sort.key] : a[sort.key] - b[sort.key]));
    const head = el('tr', {}, COLUMNS.map(([key, name]) => el('th', {
      scope: 'col', 'aria-sort': key === sort.key ? (sort.down ? 'descending' : 'ascending') : 'none',
    }, el('button', { type: 'button', class: 'sort', testid: `sort-${key}`, onclick: () => {
      sort = { key, down: key === sort.key ? !sort.down : true };
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
  return table;
}

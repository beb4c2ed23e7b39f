// The shell every analysis view shares: a heading, a short explanation, one line that says
// which sequence it is about (the prompt itself is on the Pipeline tab, shown once), the
// view's own progress and errors, and a note in place of the content when the page is a
// static recording.
import { el } from '../dom.js';
import { count, plural } from '../format.js';
import { taskList } from './tasks.js';

const PREVIEW_CHARS = 60;

export function frame(box, { id, title, explain, isStatic }) {
  const body = el('div', { class: 'view-body' });
  const about = el('p', { class: 'hint view-prompt', testid: `${id}-prompt` });
  const tasks = taskList(`${id}-tasks`);
  box.replaceChildren(el('div', { class: 'stage' },
    el('h2', {}, title), el('p', { class: 'explain' }, explain), about, tasks.box,
    isStatic ? el('p', { class: 'banner' }, 'This view runs the model on your prompt, so it needs the server (nexttoken serve).') : body));
  return {
    body,
    tasks,
    showPrompt(run) {
      about.replaceChildren(...sequenceLine(run));
    },
  };
}

// "On the sequence of the Pipeline tab: 1,000 tokens (990 of the prompt, 10 generated), “Fellow… at”".
function sequenceLine(run) {
  const total = run.tokens.length;
  const prompt = run.promptTokens ?? total;
  const parts = prompt < total ? ` (${count(prompt)} of the prompt, ${count(total - prompt)} generated)` : '';
  const text = run.tokens.map((t) => t.text).join('');
  const preview = text.length <= PREVIEW_CHARS ? text
    : `${text.slice(0, PREVIEW_CHARS / 2).trimEnd()} … ${text.slice(-PREVIEW_CHARS / 2).trimStart()}`;
  return [`On the Pipeline tab’s text: ${plural(total, 'token')}${parts}, `, el('span', { class: 'token-inline' }, preview)];
}

// Stage 1: the prompt box, the five example prompts, and for an instruct model the option to ask
// the prompt inside its chat template.
import { byId, debounce, el } from './dom.js';
import { plural } from './format.js';

// `onEdit` runs on every keystroke: the page then knows its stages describe another text.
export function initPrompt({ source, onRun, onEdit }) {
  const input = byId('prompt');
  const isStatic = source.mode === 'static';
  showExamples(source, onRun);
  input.addEventListener('input', () => { fitRows(input); markExample(input.value); onEdit(); });
  showChatOption(source);
  byId('run').addEventListener('click', () => onRun(input.value));
  // Enter alone must stay a newline: code prompts need them.
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      onRun(input.value);
    }
  });
  if (isStatic) {
    input.readOnly = true;
    byId('run').disabled = true;
    byId('prompt-count').textContent = 'A new prompt needs the server: pick one of the recorded prompts above.';
    return;
  }
  // Read at each count: switching models changes the limit.
  const limit = () => source.model.limits?.max_prompt_tokens ?? source.model.n_positions;
  const countTokens = debounce(() => showCount(source, input.value, limit()), 250);
  input.addEventListener('input', countTokens);
  byId('chat').addEventListener('change', () => { onEdit(); countTokens(); });
  byId('prompt-count').textContent = 'Ctrl+Enter runs too.';
}

// The chat option shows where the model serving now has a template to ask in (a model switch
// may change that); hidden, it is off.
export function showChatOption(source) {
  const has = source.mode === 'live' && Boolean(source.model.chat_template);
  byId('chat-option').hidden = !has;
  if (!has) byId('chat').checked = false;
}

export const chatOn = () => !byId('chat-option').hidden && byId('chat').checked;

// A link's choice, where this model can ask in a template.
export function setChat(on) {
  byId('chat').checked = on && !byId('chat-option').hidden;
}

// The example buttons of the model serving now (a model switch changes them).
export function showExamples(source, onRun) {
  byId('examples').replaceChildren(...source.prompts.map((p) => exampleButton(p, onRun)));
  markExample(byId('prompt').value);
}

// Shows `text` in the prompt box, tall enough for its lines (code prompts have several).
export function showPrompt(text) {
  const input = byId('prompt');
  input.value = text;
  fitRows(input);
  markExample(text);
}

function markExample(text) {
  for (const button of byId('examples').children) button.setAttribute('aria-pressed', String(button.dataset.prompt === text));
}

function fitRows(input) {
  input.rows = Math.min(10, Math.max(3, input.value.split('\n').length + 1));
}

function exampleButton(example, onRun) {
  const run = () => {
    showPrompt(example.prompt);
    onRun(example.prompt);
  };
  return el('button', { type: 'button', class: 'example', dataset: { kind: example.kind ?? '', prompt: example.prompt }, testid: 'example-prompt', onclick: run },
    example.label);
}

// Counting as one types shows the tokenizer at work before anything runs.
async function showCount(source, text, limit) {
  const out = byId('prompt-count');
  if (!text) {
    out.textContent = '';
    return;
  }
  try {
    const chat = chatOn();
    const { count } = await (chat ? source.chat(text) : source.tokenize(text));
    if (byId('prompt').value !== text || chatOn() !== chat) return; // a later edit's answer is on its way
    const what = chat ? `${plural(count, 'token')} with the chat template's markers` : plural(count, 'token');
    out.textContent = `${what} (this model reads at most ${limit}, generated ones included)`;
    out.classList.toggle('over', count >= limit);
  } catch (err) {
    out.textContent = err.message;
  }
}

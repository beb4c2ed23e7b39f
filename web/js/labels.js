// Stage 8 and the header: which model is running, whether the numbers are live, how long
// the last request took. A learner should never mistake a recording for a live run.
import { byId } from './dom.js';
import { count, ms } from './format.js';

const SOURCES = {
  hub: 'loaded from the Hugging Face cache',
  dir: 'loaded from a local folder',
  bundled: 'built into the nexttoken binary and trained only on State of the Union speeches (1790–2021)',
};

// The tagline names GPT-2 only when GPT-2 is what runs.
const isGpt2 = (m) => /^(openai-community\/)?(distil)?gpt2(-medium|-large|-xl)?$/.test(m.name);

export function renderModel(source) {
  const m = source.model;
  const live = source.mode === 'live';
  byId('tagline').textContent = `Watch ${isGpt2(m) ? 'GPT-2' : m.source === 'bundled' ? 'a small language model' : 'a language model'} `
    + 'turn a prompt into an answer, one token at a time.';
  document.title = `nexttoken: watch ${isGpt2(m) ? 'GPT-2' : m.name} pick the next token`;
  byId('model-name').textContent = `${m.name} (${m.n_layer} blocks, ${m.n_embd} wide)`;
  byId('mode-label').textContent = live ? 'live: computed now by this server' : 'recorded: a static export';
  byId('static-banner').hidden = live;
  document.body.dataset.mode = source.mode;
  byId('about').textContent = live ? liveAbout(m) : staticAbout(m);
}

function liveAbout(m) {
  const from = SOURCES[m.source] ? `, ${SOURCES[m.source]}` : '';
  return `Every number on this page was computed when you asked for it, by the nexttoken server you are ` +
    `connected to, running ${m.name}${from}: ${m.n_layer} blocks, ${m.n_head} attention heads, vectors of ` +
    `${m.n_embd} numbers, a vocabulary of ${count(m.vocab_size)} tokens and room for ${count(m.n_positions)} positions. ` +
    `Probabilities are exact over the whole vocabulary, and sampling is seeded: the same prompt, settings and ` +
    `seed always give the same text. The timing in the header is the last request, measured here.`;
}

function staticAbout(m) {
  return `These numbers were computed by nexttoken export with ${m.name} (${m.n_layer} blocks, ${m.n_embd} wide) ` +
    `and saved with this page in data/curated.json; nothing runs here. Each step keeps its 30 best logits, the ` +
    `log-sum-exp of all of them and its entropy, so temperature-1 probabilities are exact, and so is any setting ` +
    `whose kept tokens all lie among the 30. Other settings are estimates, shown with the range the unrecorded ` +
    `tokens leave open. Run nexttoken serve to try your own prompt.`;
}

export function renderTiming({ elapsedMs, roundTripMs, what }) {
  let text;
  if (roundTripMs == null) text = `${what}: recorded, nothing computed`;
  else if (elapsedMs == null) text = `${what}: ${ms(roundTripMs)} round trip`;
  else text = `${what}: ${ms(elapsedMs)} in the model, ${ms(roundTripMs)} round trip`;
  byId('timing').textContent = text;
}

// Stage 8 and the header: which model is running, whether the numbers are live, how long
// the last request took. A learner should never mistake a recording for a live run.
import { byId } from './dom.js';
import { count, ms } from './format.js';

const SOURCES = {
  hub: 'loaded from the Hugging Face cache',
  dir: 'loaded from a local folder',
  bundled: 'built into the nexttoken binary and trained only on State of the Union speeches (1790–2021)',
};

// The same, for the engine in this browser: where its weights came from.
const BROWSER_SOURCES = {
  hub: 'downloaded from the Hugging Face hub and kept in this browser',
  site: 'downloaded from this site and kept in this browser',
  bundled: 'shipped with this page and trained only on State of the Union speeches (1790–2021)',
};

// While a live export's engine starts in this browser: which model, and how much of it arrived.
export function showStarting({ model, bytes, total }) {
  byId('model-name').textContent = model;
  const mb = (n) => (n / 1e6).toFixed(1);
  byId('mode-label').textContent = `starting in this browser: ${total ? `${mb(bytes)} of ${mb(total)} MB` : 'loading'}`;
}

// The tagline names GPT-2 only when GPT-2 is what runs.
const isGpt2 = (m) => /^(openai-community\/)?(distil)?gpt2(-medium|-large|-xl)?$/.test(m.name);

export function renderModel(source) {
  const m = source.model;
  const live = source.mode === 'live';
  byId('tagline').textContent = `Watch ${isGpt2(m) ? 'GPT-2' : m.source === 'bundled' ? 'a small language model' : 'a language model'} `
    + 'turn a prompt into an answer, one token at a time.';
  document.title = `nexttoken: watch ${isGpt2(m) ? 'GPT-2' : m.name} pick the next token`;
  byId('model-name').textContent = `${m.name} (${m.n_layer} blocks, ${m.n_embd} wide)`;
  const here = source.runsIn === 'browser';
  const threads = source.threads === 1 ? '1 thread' : `${source.threads} threads`;
  byId('mode-label').textContent = !live ? 'recorded: a static export'
    : here ? `live: computed in this browser, ${threads}` : 'live: computed now by this server';
  byId('static-banner').hidden = live;
  document.body.dataset.mode = source.mode;
  document.body.dataset.runsIn = source.runsIn ?? 'recording';
  byId('about').textContent = live ? liveAbout(m, here, threads) : staticAbout(m);
}

function liveAbout(m, here, threads) {
  const sources = here ? BROWSER_SOURCES : SOURCES;
  const from = sources[m.source] ? `, ${sources[m.source]}` : '';
  const by = here
    ? `by the nexttoken engine running inside this browser tab (compiled to WebAssembly, on ${threads}; nothing is sent anywhere)`
    : 'by the nexttoken server you are connected to';
  return `Every number on this page was computed when you asked for it, ${by}, ` +
    `running ${m.name}${from}: ${m.n_layer} blocks, ${m.n_head} attention heads, vectors of ` +
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

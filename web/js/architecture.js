// What changes when the model is not a GPT-2: a Llama-family model (SmolLM2, ...) has no
// position table, normalises with RMSNorm, gates its MLP and lets groups of query heads share
// one key/value head. The pipeline's text describes GPT-2; this adds the differences, with the
// loaded model's own numbers, and tells the attention view which heads share keys and values.
import { byId, el } from './dom.js';

export const isLlama = (model) => model.architecture === 'llama';

// Query heads per key/value head (1 when every head has its own, as in GPT-2).
export function groupSize(model) {
  const kv = model.n_kv_head || model.n_head;
  return Math.max(1, Math.floor(model.n_head / kv));
}

// The key/value head that query head `head` reads.
export const kvHeadOf = (model, head) => Math.floor(head / groupSize(model));

// "heads 0–2 share key/value head 0, heads 3–5 share key/value head 1, …"
export function groupsText(model) {
  const size = groupSize(model);
  const kv = model.n_head / size;
  const groups = Array.from({ length: kv }, (_, g) => `heads ${g * size}–${(g + 1) * size - 1} share key/value head ${g}`);
  return `${model.n_head} query heads read ${kv} key/value heads: ${groups.join('; ')}. Heads in one group look at the `
    + 'same keys and mix the same values; only their queries differ, so their patterns can still differ.';
}

// Called again when the page switches models, so it also puts GPT-2's text back.
export function renderArchitecture(model) {
  const explain = byId('embeddings-explain');
  explain.dataset.gpt2 ??= explain.textContent;
  byId('stage-model').hidden = !isLlama(model);
  if (!isLlama(model)) {
    explain.textContent = explain.dataset.gpt2;
    return;
  }
  byId('model-family').textContent = model.name;
  byId('model-notes').replaceChildren(...notes(model).map(([term, text]) =>
    el('li', {}, el('strong', {}, term), ' ', text)));
  explain.textContent = 'Each id picks one row of a table with one row per vocabulary entry: a list '
    + 'of numbers the model learned for that token. This model has no table of positions: the order is given inside '
    + 'attention, by rotating queries and keys (see above), so the token’s row alone enters the first block. The bars '
    + 'show how long (L2 norm) each row is.';
}

function notes(model) {
  return [
    ['No position table (rotary embeddings).', 'Nothing is added to say where a token stands. Inside every attention '
      + 'head, each query and key is turned by an angle that grows with its position (RoPE), pairs of numbers at '
      + 'different speeds, so the score between two tokens depends on how far apart they are.'],
    ['RMSNorm instead of LayerNorm.', 'Before attention, before the MLP and at the end, each vector is divided by '
      + 'its root mean square and scaled by a learned gain: no mean is subtracted and no bias is added.'],
    ['A gated MLP (SwiGLU).', 'The MLP makes two projections of the vector, passes one through SiLU and '
      + 'multiplies it, number by number, with the other (the gate decides what gets through), then projects back '
      + `to ${model.n_embd} numbers. GPT-2 has a single projection through GELU.`],
    ['Grouped key/value heads.', `${groupsText(model)} It makes the cache of keys and values `
      + `${groupSize(model)}× smaller. The attention view marks each head’s group.`],
  ];
}

// The state of one run: the prompt's analysis, the steps taken so far and which step is on
// screen. Position `i` is the choice of the i-th generated token; position `steps.length` is the
// next one, not chosen yet. No DOM here: main.js renders what this holds.

export const settingsKey = (settings) => JSON.stringify(settings.sampling);

// Whether `token` ends the model's text (its end-of-sequence token, e.g. SmolLM2 Instruct's
// <|im_end|>, or <|endoftext|>): Play stops after it. A recording made before the server sent
// `eos_token_ids` knows only GPT-2's <|endoftext|>, by its text.
export function endsText(model, token) {
  return model.eos_token_ids ? model.eos_token_ids.includes(token.id) : token.text === '<|endoftext|>';
}

export class Session {
  constructor(source) {
    this.source = source;
    this.origin = null; // the prompt's run, as the source answered it
    this.steps = []; // { explanation, key, chosen, column }
    this.next = null; // { explanation, key } once known
    this.view = 0;
    this.version = 0; // bumped by every change, so a late answer for an old state is dropped
    this.whole = null; // `run`, kept until the sequence changes
    this.failed = false; // the last prompt did not run, so nothing describes it
  }

  // The whole sequence, prompt then generated tokens, as every stage and view draws it:
  // { prompt, typed, chat, promptTokens, tokens, tokenIds, embedding: { tok_norms, pos_norms },
  //   residNorms: (n_layer + 1) × positions, elapsedMs, roundTripMs }. `promptTokens` is the
  // boundary: positions from it on were generated. The same object until the sequence changes.
  get run() {
    if (!this.origin) return null;
    if (!this.whole) this.whole = wholeSequence(this.origin, this.steps);
    return this.whole;
  }

  prefix(pos) {
    return [...this.origin.tokenIds, ...this.steps.slice(0, pos).map((s) => s.chosen.id)];
  }

  entry(pos) {
    return pos < this.steps.length ? this.steps[pos] : this.next;
  }

  changed({ sequence = false } = {}) {
    this.version += 1;
    if (sequence) this.whole = null;
  }

  // `signal` (an AbortSignal) cancels the request; the session is then unchanged. With `chat`,
  // the model reads `prompt` inside its chat template: the run's `prompt` is that whole text,
  // `typed` what the learner typed.
  async start(prompt, settings, signal, chat = false) {
    const text = chat ? (await this.source.chat(prompt, signal)).text : prompt;
    const origin = await this.source.run(text, settings, signal);
    this.origin = { ...origin, typed: prompt, chat };
    this.failed = false;
    this.steps = [];
    this.next = { explanation: origin.next, key: settingsKey(settings) };
    this.view = 0;
    this.changed({ sequence: true });
    return this.run;
  }

  // Forgets the run: nothing on screen may describe a prompt that is no longer the one asked for.
  clear() {
    this.origin = null;
    this.failed = true;
    this.steps = [];
    this.next = null;
    this.view = 0;
    this.changed({ sequence: true });
  }

  // Appends one token, sampled with draw index = tokens generated so far (as the server's trace).
  async step(settings, signal) {
    return this.take(this.steps.length, null, settings, signal);
  }

  // Takes token `force` (or samples when null) at position `pos`, dropping the steps after it.
  async take(pos, force, settings, signal) {
    const result = await this.source.step(this.prefix(pos), pos, settings, force, signal);
    this.steps.length = pos;
    const { explanation, chosen, column } = result;
    this.steps.push({ explanation, key: settingsKey(settings), chosen, column });
    this.next = null;
    this.view = pos;
    this.changed({ sequence: true });
    return result;
  }

  // The removed step's distribution is exactly the next one again: no request needed.
  back() {
    const last = this.steps.pop();
    this.next = { explanation: last.explanation, key: last.key };
    this.view = this.steps.length;
    this.changed({ sequence: true });
  }

  select(pos) {
    this.view = pos;
    this.changed();
  }

  // Makes sure the step on screen reflects `settings`; false when nothing new was stored.
  async explainView(settings) {
    const key = settingsKey(settings);
    const pos = this.view;
    if (this.entry(pos)?.key === key) return false;
    const version = this.version;
    const explanation = await this.source.distribution(this.prefix(pos), settings);
    if (version !== this.version) return false;
    if (pos < this.steps.length) Object.assign(this.steps[pos], { explanation, key });
    else this.next = { explanation, key };
    this.changed();
    return true;
  }
}

// Each step carries its chosen token's column (`{ embedding, residNorms }`, one position, as
// the source answered it); appended after the prompt's, they describe the whole sequence.
function wholeSequence(origin, steps) {
  const columns = steps.map((s) => s.column);
  return {
    prompt: origin.prompt,
    typed: origin.typed,
    chat: origin.chat,
    promptTokens: origin.tokens.length,
    tokens: [...origin.tokens, ...steps.map((s) => s.chosen)],
    tokenIds: [...origin.tokenIds, ...steps.map((s) => s.chosen.id)],
    embedding: {
      tok_norms: [...origin.embedding.tok_norms, ...columns.flatMap((c) => c.embedding.tok_norms)],
      pos_norms: [...origin.embedding.pos_norms, ...columns.flatMap((c) => c.embedding.pos_norms)],
    },
    residNorms: origin.residNorms.map((row, r) => [...row, ...columns.flatMap((c) => c.residNorms[r])]),
    elapsedMs: origin.elapsedMs,
    roundTripMs: origin.roundTripMs,
  };
}

// The state of one run: the prompt's analysis, the steps taken so far and which step is on
// screen. Position `i` is the choice of the i-th generated token; position `steps.length` is the
// next one, not chosen yet. No DOM here: main.js renders what this holds.

export const settingsKey = (settings) => JSON.stringify(settings.sampling);

export class Session {
  constructor(source) {
    this.source = source;
    this.run = null;
    this.steps = []; // { explanation, key, chosen }
    this.next = null; // { explanation, key } once known
    this.view = 0;
    this.version = 0; // bumped by every change, so a late answer for an old state is dropped
  }

  prefix(pos) {
    return [...this.run.tokenIds, ...this.steps.slice(0, pos).map((s) => s.chosen.id)];
  }

  entry(pos) {
    return pos < this.steps.length ? this.steps[pos] : this.next;
  }

  changed() {
    this.version += 1;
  }

  async start(prompt, settings) {
    const run = await this.source.run(prompt, settings);
    this.run = run;
    this.steps = [];
    this.next = { explanation: run.next, key: settingsKey(settings) };
    this.view = 0;
    this.changed();
    return run;
  }

  // Appends one token, sampled with draw index = tokens generated so far (as the server's trace).
  async step(settings) {
    return this.take(this.steps.length, null, settings);
  }

  // Takes token `force` (or samples when null) at position `pos`, dropping the steps after it.
  async take(pos, force, settings) {
    const result = await this.source.step(this.prefix(pos), pos, settings, force);
    this.steps.length = pos;
    this.steps.push({ explanation: result.explanation, key: settingsKey(settings), chosen: result.chosen });
    this.next = null;
    this.view = pos;
    this.changed();
    return result;
  }

  // The removed step's distribution is exactly the next one again: no request needed.
  back() {
    const last = this.steps.pop();
    this.next = { explanation: last.explanation, key: last.key };
    this.view = this.steps.length;
    this.changed();
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

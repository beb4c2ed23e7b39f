// The page's data sources behind one interface: the live server (`/api`), the same API
// answered by the engine running in this browser (a live export, engine/), and a static
// export's recording (`data/curated.json`). Everything else in the page calls only these.
import { approximate } from './approx.js';
import { openEngine } from './engine/source.js';

// Candidates per step: what the page lists and what a static export records.
const TOP_N = 30;

// The in-browser engine, when this page is a live export: `/api` requests go to it.
let local = null;

// An export's mode is decided before any request, so an exported page never asks a server.
// A live export starts its engine first: onStarting({ model, bytes, total }) follows it.
export async function connect({ onStarting } = {}) {
  const meta = document.querySelector('meta[name="nexttoken-mode"]');
  if (meta?.content === 'browser') return browserSource(onStarting);
  if (meta?.content === 'static') return staticSource(await getJson('data/curated.json'));
  if (!(await serverIsUp())) return staticSource(await getJson('data/curated.json'));
  const model = await getJson('/api/model');
  return liveSource(model, await promptsFor(model));
}

// The bundled model only read State of the Union speeches: GPT-2's examples would make it look
// broken, so it has its own, ones it continues sensibly.
const promptsFor = (model) => getJson(model.source === 'bundled' ? 'web/prompts-sotu-tiny.json' : 'web/prompts.json');

// A failed request in words a learner can act on. `detail` (the address, the status and the
// server's or browser's own words) is for a disclosure, never the headline.
export class RequestError extends Error {
  constructor(message, { detail, kind, code = null }) {
    super(message);
    this.detail = detail;
    this.kind = kind;
    this.code = code; // the server's error code (docs/api.md), when it sent one
  }

  // Trying again can help when the server was away, busy or slow; not with input it refused.
  get retryable() {
    return this.kind !== 'input';
  }
}

const RESTART = 'Start it again with nexttoken serve (or cargo run --release in the nexttoken folder), then press Retry.';
const BY_STATUS = {
  500: ['internal', 'The server hit a bug and could not answer. Press Retry; if it happens again, restart the server.'],
  503: ['busy', 'The server is busy with other requests. Press Retry in a moment.'],
  504: ['timeout', 'The model took too long to answer. Press Retry, or try a shorter prompt.'],
};

async function serverIsUp() {
  try {
    return (await getJson('/api/health')).status === 'ok';
  } catch {
    return false;
  }
}

async function getJson(url) {
  return (await request(url)).data;
}

// Returns the parsed body and the round trip; a failure becomes a RequestError in plain words.
// `signal` (an AbortSignal) cancels the request: its AbortError passes through as it is.
export async function request(url, body, { signal } = {}) {
  if (local && url.startsWith('/api/')) return requestLocal(url, body, signal);
  const init = body === undefined ? { signal } : {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  };
  const started = performance.now();
  const what = `${init.method ?? 'GET'} ${url}`;
  let response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    if (err.name === 'AbortError') throw err; // cancelled here, not failed there
    throw new RequestError(`The server stopped. ${RESTART}`, { kind: 'offline', detail: `${what}: ${err.message}` });
  }
  const data = await response.json().catch(() => null);
  signal?.throwIfAborted();
  if (!response.ok || data == null) throw failure(what, response.status, response.statusText, data);
  return { data, roundTripMs: performance.now() - started };
}

function failure(what, status, statusText, data) {
  const detail = `${what} answered ${status} ${statusText}${data?.error ? ` (${data.error.code}): ${data.error.message}` : ''}`;
  const [kind, message] = BY_STATUS[status] ?? ['input', data?.error?.message
    ?? 'The server sent an answer this page cannot read. Press Retry; if it happens again, restart the server.'];
  return new RequestError(message, { kind, detail, code: data?.error?.code });
}

// The same request answered by the engine in this page, with the server's statuses and JSON.
async function requestLocal(url, body, signal) {
  const started = performance.now();
  const what = `${body === undefined ? 'GET' : 'POST'} ${url} (in this browser)`;
  let answer;
  try {
    // The engine's progress through its layers goes to whoever tracks the request (progress.js).
    const onProgress = (detail) => signal?.dispatchEvent(new CustomEvent('progress', { detail }));
    answer = await local.request(url, body, { onProgress, signal });
  } catch (err) {
    throw new RequestError('The engine in this page stopped. Press Retry to start it again.', { kind: 'offline', detail: `${what}: ${err.message}` });
  }
  signal?.throwIfAborted();
  if (answer.status !== 200) throw failure(what, answer.status, '', answer.data);
  return { data: answer.data, roundTripMs: performance.now() - started };
}

// A chosen token's embedding norms and residual column, as /api/step and the recording give them.
const column = ({ embedding, resid_norms: residNorms }) => ({ embedding, residNorms });

const requestBody = (settings) => ({ sampling: settings.sampling, seed: settings.seed, top_n: TOP_N });

function liveSource(model, prompts) {
  return {
    mode: 'live',
    // Where the numbers are computed: 'server', or 'browser' for the engine in this page.
    runsIn: 'server',
    model,
    prompts,
    async refreshModel() {
      this.model = await getJson('/api/model');
    },
    // The server answers with the new name only; the page needs the whole model description,
    // and the examples that suit the new model.
    async switchModel() {
      await request('/api/model/switch', {});
      await this.refreshModel();
      this.prompts = await promptsFor(this.model);
    },
    async tokenize(text) {
      return (await request('/api/tokenize', { text })).data;
    },
    // `message` as the user's turn of the model's chat template: { text, count }.
    async chat(message, signal) {
      return (await request('/api/chat', { message }, { signal })).data;
    },
    // One generation step comes back too: its candidates are the first next-token distribution.
    async run(prompt, settings, signal) {
      const { data, roundTripMs } = await request('/api/trace', { prompt, steps: 1, ...requestBody(settings) }, { signal })
        .catch((err) => this.explain(err, prompt));
      const { chosen, ...next } = data.steps[0];
      return {
        prompt,
        tokens: data.tokens,
        tokenIds: data.token_ids,
        embedding: data.embedding,
        residNorms: data.resid_norms,
        next,
        elapsedMs: data.elapsed_ms,
        roundTripMs,
      };
    },
    // A prompt over the context gets the numbers and what to do, in the page's words.
    async explain(err, prompt) {
      if (err.code !== 'prompt_too_long') throw err;
      const { count } = await this.tokenize(prompt);
      const n = this.model.n_positions;
      throw new RequestError(`Your prompt is ${count.toLocaleString('en-US')} tokens, but ${this.model.name} reads at most `
        + `${n.toLocaleString('en-US')} positions and the next token needs one of them. Shorten the prompt to `
        + `${(n - 1).toLocaleString('en-US')} tokens or fewer, then press Run.`, err);
    },
    async step(tokens, draw, settings, force, signal) {
      const body = { tokens, draw, ...requestBody(settings), force };
      const { data, roundTripMs } = await request('/api/step', body, { signal });
      const { chosen, ...explanation } = data.step;
      return { explanation, chosen, column: column(data), roundTripMs };
    },
    async distribution(tokens, settings) {
      const body = { tokens, sampling: settings.sampling, top_n: TOP_N };
      return (await request('/api/distribution', body)).data;
    },
  };
}

// The live interface on the engine in this browser; GPT-2 is fetched when the learner asks
// (download.js shows `model.download`). Without WebAssembly the export's recording plays.
async function browserSource(onStarting) {
  try {
    local = await openEngine(onStarting);
  } catch (err) {
    console.warn(`nexttoken: the in-browser engine did not start (${err.message}); playing the recording`);
    return staticSource(await getJson('data/curated.json'));
  }
  const model = await getJson('/api/model');
  return Object.assign(liveSource({ ...model, download: local.download }, await promptsFor(model)), {
    runsIn: 'browser',
    threads: local.threads,
    async refreshModel() {
      this.model = { ...(await getJson('/api/model')), download: local.download };
    },
    fetchModel() {
      local.startDownload();
    },
    async switchModel() {
      await local.switchToDownloaded();
      await this.refreshModel();
      this.prompts = await promptsFor(this.model);
    },
  });
}

// Replays a recording: the recorded tokens in order, with the sliders applied to the 30
// recorded candidates. Anything that needs the model says so instead of guessing.
function staticSource(data) {
  let current = null;
  const recorded = (draw) => {
    const step = current?.steps[draw];
    if (!step) throw new Error('The recording ends here: generating further needs the server (nexttoken serve).');
    return step;
  };
  return {
    mode: 'static',
    model: data.model,
    prompts: data.prompts.map(({ label, prompt, kind }) => ({ label, prompt, kind })),
    recordedSteps: () => current?.steps.length ?? 0,
    async run(prompt, settings) {
      const found = data.prompts.find((p) => p.prompt === prompt);
      if (!found) throw new Error('A new prompt needs the server (nexttoken serve); this page is a recording of five prompts.');
      current = found;
      return {
        prompt,
        tokens: found.tokens,
        tokenIds: found.token_ids,
        embedding: found.embedding,
        residNorms: found.resid_norms,
        next: approximate(recorded(0), data, settings.sampling),
      };
    },
    async step(tokens, draw, settings, force) {
      const step = recorded(draw);
      if (force != null && force !== step.chosen.id) {
        throw new Error('Taking a different token needs the server (nexttoken serve): the recording only has the tokens it took.');
      }
      return { explanation: approximate(step, data, settings.sampling), chosen: step.chosen, column: column(step) };
    },
    async distribution(tokens, settings) {
      const draw = tokens.length - current.token_ids.length;
      return approximate(recorded(draw), data, settings.sampling);
    },
  };
}

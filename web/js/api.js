// The page's two data sources behind one interface: the live server (`/api`) and a static
// export's recording (`data/curated.json`). Everything else in the page calls only these.
import { approximate } from './approx.js';

// Candidates per step: what the page lists and what a static export records.
const TOP_N = 30;

// Static mode is decided before any request, so an exported page never touches `/api`.
export async function connect() {
  const meta = document.querySelector('meta[name="nexttoken-mode"]');
  if (meta?.content === 'static') return staticSource(await getJson('data/curated.json'));
  if (!(await serverIsUp())) return staticSource(await getJson('data/curated.json'));
  const [model, prompts] = await Promise.all([getJson('/api/model'), getJson('web/prompts.json')]);
  return liveSource(model, prompts);
}

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

// Returns the parsed body and the round trip; a server error becomes its own one-sentence message.
// `signal` (an AbortSignal) cancels the request.
export async function request(url, body, { signal } = {}) {
  const init = body === undefined ? { signal } : {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  };
  const started = performance.now();
  const response = await fetch(url, init);
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    throw new Error(data?.error?.message ?? `${url} answered ${response.status} ${response.statusText}`);
  }
  return { data, roundTripMs: performance.now() - started };
}

// A chosen token's embedding norms and residual column, as /api/step and the recording give them.
const column = ({ embedding, resid_norms: residNorms }) => ({ embedding, residNorms });

const requestBody = (settings) => ({ sampling: settings.sampling, seed: settings.seed, top_n: TOP_N });

function liveSource(model, prompts) {
  return {
    mode: 'live',
    model,
    prompts,
    async refreshModel() {
      this.model = await getJson('/api/model');
    },
    // The server answers with the new name only; the page needs the whole model description.
    async switchModel() {
      await request('/api/model/switch', {});
      await this.refreshModel();
    },
    async tokenize(text) {
      return (await request('/api/tokenize', { text })).data;
    },
    // One generation step comes back too: its candidates are the first next-token distribution.
    async run(prompt, settings) {
      const { data, roundTripMs } = await request('/api/trace', { prompt, steps: 1, ...requestBody(settings) });
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
    async step(tokens, draw, settings, force) {
      const body = { tokens, draw, ...requestBody(settings), force };
      const { data, roundTripMs } = await request('/api/step', body);
      const { chosen, ...explanation } = data.step;
      return { explanation, chosen, column: column(data), roundTripMs };
    },
    async distribution(tokens, settings) {
      const body = { tokens, sampling: settings.sampling, top_n: TOP_N };
      return (await request('/api/distribution', body)).data;
    },
  };
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

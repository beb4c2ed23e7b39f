// The screen as a URL hash, so a shared link reopens it: prompt (and whether it was asked in the
// chat template), view, layer, head, lens position, sampling settings, seed, the generated tokens
// (replayed exactly by forcing them), the step on screen, and the token sequence edited in
// tokenizer surgery.

const NUMBERS = ['layer', 'head', 'pos', 'step', 'seed', 't', 'k', 'p'];

export function readLink(hash = location.hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const state = {
    prompt: params.get('prompt'), chat: params.get('chat') === '1', view: params.get('view') ?? 'pipeline', greedy: params.get('greedy') === '1',
  };
  for (const key of NUMBERS) {
    const value = params.get(key);
    state[key] = value == null || value === '' || !Number.isFinite(Number(value)) ? null : Number(value);
  }
  state.gen = ids(params.get('gen')) ?? [];
  state.edit = ids(params.get('edit'));
  state.lab = readLab(params);
  return state;
}

// The Compare & patch lab's pair, answer pair and sweep; null when the link has no pair.
function readLab(params) {
  const [clean, corrupted] = [params.get('clean'), params.get('corrupted')];
  if (clean == null || corrupted == null) return null;
  const id = (key) => (/^\d+$/.test(params.get(key) ?? '') ? Number(params.get(key)) : null);
  const sweep = params.get('sweep');
  return {
    clean, corrupted, answer: id('answer'), other: id('other'), ran: sweep != null,
    sweep: ['resid', 'attn', 'mlp', 'heads', 'head_pos'].includes(sweep) ? sweep : 'resid',
    layer: id('sweep_layer') ?? 0, dir: params.get('dir') === 'noise' ? 'noise' : 'denoise',
  };
}

// Comma-separated token ids; null when absent or empty.
function ids(value) {
  const list = value ? value.split(',').map(Number).filter((id) => Number.isInteger(id) && id >= 0) : [];
  return list.length ? list : null;
}

// Only what differs from a fresh page goes in, so links stay short.
export function writeLink(state) {
  const params = new URLSearchParams();
  const put = (key, value) => value != null && value !== '' && params.set(key, String(value));
  put('prompt', state.prompt);
  if (state.chat) params.set('chat', '1');
  put('view', state.view === 'pipeline' ? null : state.view);
  for (const key of NUMBERS) put(key, state[key]);
  if (state.greedy) params.set('greedy', '1');
  if (state.gen?.length) params.set('gen', state.gen.join(','));
  if (state.edit?.length) params.set('edit', state.edit.join(','));
  if (state.lab) {
    const { clean, corrupted, answer, other, sweep, layer, dir, ran } = state.lab;
    Object.entries({ clean, corrupted, answer, other }).forEach(([key, value]) => put(key, value));
    if (ran) Object.entries({ sweep, sweep_layer: sweep === 'head_pos' ? layer : null, dir }).forEach(([key, value]) => put(key, value));
  }
  const url = `${location.pathname}${location.search}#${params}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(null, '', url);
  return location.href;
}

// The sampling settings as link fields; defaults are left out.
export function settingsLink({ sampling, seed }) {
  return {
    t: sampling.temperature === 1 ? null : sampling.temperature,
    k: sampling.top_k,
    p: sampling.top_p,
    greedy: sampling.greedy,
    seed: seed === 0 ? null : seed,
  };
}

// Puts a link's settings into the sampling controls before the page reads them.
export function applySettingsLink(link) {
  const set = (id, value) => {
    if (value != null) document.getElementById(id).value = String(value);
  };
  set('temperature', link.t);
  set('top-k', link.k);
  set('top-p', link.p);
  set('seed', link.seed);
  document.getElementById('greedy').checked = link.greedy;
}

// The server's API from the test side, to check the page against what the server says.

export function apiClient(base) {
  const call = async (path, body) => {
    const response = await fetch(new URL(path, base), body === undefined ? {} : {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    const data = await response.json();
    if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(data)}`);
    return data;
  };
  return {
    model: () => call('/api/model'),
    tokenize: (text) => call('/api/tokenize', { text }),
    distribution: (tokens, sampling) => call('/api/distribution', { tokens, sampling, top_n: 30 }),
    step: (tokens, draw, sampling, seed) => call('/api/step', { tokens, draw, sampling, seed, top_n: 30, force: null }),
  };
}

export const DEFAULT_SAMPLING = { greedy: false, temperature: 1, top_k: null, top_p: null };

// The analysis endpoints (docs/api.md): one JSON request each, an error as its one sentence.
import { request } from '../api.js';

const call = async (path, body) => (await request(path, body)).data;

export const viewsApi = {
  bpe: (text) => call('/api/bpe', { text }),
  vocab: (id) => call(`/api/vocab/${encodeURIComponent(id)}`),
  lookupText: (text) => call('/api/vocab/lookup', { text }),
  lookupBytes: (bytes) => call('/api/vocab/lookup', { bytes }),
  compare: (before, after) => call('/api/compare', { before, after, top_n: 10 }),
  attention: (tokens, layer, head) => call('/api/attention', { tokens, layer, head }),
  overview: (tokens, layer) => call('/api/attention/overview', { tokens, layer, size: 64 }),
  heads: (tokens) => call('/api/heads', { tokens }),
  lens: (tokens, position) => call('/api/lens', { tokens, position, top: 5 }),
};

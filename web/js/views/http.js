// The analysis endpoints (docs/api.md): one JSON request each, an error as its one sentence.
// The long-running ones take an AbortSignal, so the page can cancel them.
import { request } from '../api.js';

const call = async (path, body, signal) => (await request(path, body, { signal })).data;

export const viewsApi = {
  bpe: (text, signal) => call('/api/bpe', { text }, signal),
  vocab: (id) => call(`/api/vocab/${encodeURIComponent(id)}`),
  lookupText: (text) => call('/api/vocab/lookup', { text }),
  lookupBytes: (bytes) => call('/api/vocab/lookup', { bytes }),
  compare: (before, after, signal) => call('/api/compare', { before, after, top_n: 10 }, signal),
  attention: (tokens, layer, head, signal) => call('/api/attention', { tokens, layer, head }, signal),
  overview: (tokens, layer, signal) => call('/api/attention/overview', { tokens, layer, size: 64 }, signal),
  heads: (tokens, signal) => call('/api/heads', { tokens }, signal),
  lens: (tokens, position, signal) => call('/api/lens', { tokens, position, top: 5 }, signal),
  tokenize: (text, signal) => call('/api/tokenize', { text }, signal),
  pair: (body, signal) => call('/api/pair', { ...body, top_n: 10 }, signal),
  patch: (body, signal) => call('/api/patch', body, signal),
};

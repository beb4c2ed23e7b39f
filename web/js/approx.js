// The sliders over a recording. A static export keeps only the top 30 logits of each step and
// the log-sum-exp of all of them, so the temperature-1 probabilities are exact and everything
// that depends on the other 50k tokens (temperature, top-k, top-p) is renormalised over the 30.
// The order of operations is the server's: temperature, then top-k, then top-p, or greedy.

export function approximate(recorded, texts, sampling) {
  const logits = recorded.candidates.map(([, logit]) => logit);
  const base = logits.map((l) => Math.exp(l - recorded.lse));
  const byK = sampling.top_k == null ? logits.length : topKCount(logits, sampling.top_k);
  const scaled = softmax(logits, sampling.temperature, byK);
  const kept = sampling.greedy ? 1 : sampling.top_p == null ? byK : nucleusSize(scaled, sampling.top_p);
  const final = softmax(logits, sampling.temperature, kept);
  let cumulative = 0;
  const candidates = recorded.candidates.map(([id, logit], rank) => {
    cumulative += scaled[rank];
    const [text, display] = texts[id] ?? [`<id ${id}>`, `<id ${id}>`];
    return {
      rank, id, text, display, logit,
      prob: base[rank],
      scaled_prob: scaled[rank],
      cumulative,
      sample_prob: final[rank],
      kept: rank < kept,
    };
  });
  const outside = Math.max(0, 1 - base.reduce((a, b) => a + b, 0));
  return {
    candidates,
    entropy_bits: entropyLowerBound(base, outside),
    sample_entropy_bits: entropyBits(final),
    nucleus_size: kept,
    mass_outside_shown: outside,
    sample_mass_outside_shown: 0,
    approximate: true,
  };
}

// Ties with the k-th logit are kept, as on the server (and in Hugging Face's generate).
function topKCount(sorted, k) {
  if (k >= sorted.length) return sorted.length;
  const threshold = sorted[k - 1];
  let n = k;
  while (n < sorted.length && sorted[n] >= threshold) n += 1;
  return n;
}

// A token is kept while the mass ranked above it is still below p, so the first always is.
function nucleusSize(scaled, p) {
  let above = 0;
  let n = 0;
  for (const q of scaled) {
    if (q === 0 || above >= p) break;
    above += q;
    n += 1;
  }
  return Math.max(n, 1);
}

// softmax(logits / t) over the first n ranks; later ranks get 0.
function softmax(sorted, t, n) {
  const max = sorted[0] / t;
  const out = sorted.map((l, i) => (i < n ? Math.exp(l / t - max) : 0));
  const sum = out.reduce((a, b) => a + b, 0);
  return out.map((p) => p / sum);
}

// Every unrecorded token ranks below the last recorded one, so its probability q is at most
// that one's, and -q·log2(q) >= q·log2(1/p_last): the unseen mass adds at least that much.
function entropyLowerBound(base, outside) {
  const last = base[base.length - 1];
  return entropyBits(base) + (outside > 0 ? outside * Math.log2(1 / last) : 0);
}

function entropyBits(probs) {
  return probs.filter((p) => p > 0).reduce((h, p) => h - p * Math.log2(p), 0);
}

// The sliders over a recording. A static export keeps, per step, the top 30 logits, the
// log-sum-exp of all of them (`lse`), the temperature-1 entropy and the largest logit it left
// out (`rest_max`). Temperature-1 probabilities are exact: exp(logit − lse). What the other
// ~50k tokens could change is worked out from bounds on them: an answer that every possible
// set of unrecorded logits gives is exact; the rest is an estimate shown with its range.
// The order of operations is the server's: temperature, then top-k, then top-p, or greedy.

export function approximate(recorded, data, sampling) {
  const vocab = data.model.vocab_size;
  const logits = recorded.candidates.map(([, logit]) => logit);
  const n = logits.length;
  const t = sampling.temperature;
  const base = logits.map((l) => Math.exp(l - recorded.lse));
  const outside = Math.max(0, 1 - sum(base));
  // Every logit left out is at most `cap` (the 30th, when an old export did not record it).
  const cap = recorded.rest_max ?? logits[n - 1];
  // Weights exp((l − l₀)/t): exact for the recorded ranks, an interval for the unrecorded ones.
  const w = logits.map((l) => Math.exp((l - logits[0]) / t));
  const byK = sampling.top_k == null ? null : topKCount(logits, sampling.top_k, cap);
  const settledK = byK != null; // top-k keeps recorded ranks only
  const tail = settledK ? [0, 0]
    : tailWeight(outside * Math.exp(recorded.lse - logits[0]), Math.exp(cap - logits[0]), vocab - n, t, sampling.top_k != null);
  const head = byK ?? n; // recorded ranks that survive top-k
  const kept = keptRange({ sampling, w: w.slice(0, head), tail, settledK, vocab, n });
  const reachesTail = kept.lo > n; // surely keeps unrecorded tokens
  const mayReachTail = kept.hi == null || kept.hi > n;
  const exact = kept.lo === kept.hi && (!reachesTail || tail[0] === tail[1]);
  // Unrecorded weight in the kept set: its range, and the middle of it for the shown values.
  const keptTail = !mayReachTail ? [0, 0] : sampling.top_p == null ? tail : [0, tail[1]];
  const estimate = reachesTail ? (keptTail[0] + keptTail[1]) / 2 : 0;
  const keptRanks = Math.min(kept.lo, head);
  const keptW = sum(w.slice(0, keptRanks));
  const share = (s) => s / (keptW + s);
  const scaledTotal = sum(w.slice(0, head)) + (tail[0] + tail[1]) / 2;
  let cumulative = 0;
  const final = w.map((x, rank) => (rank < keptRanks ? x / (keptW + estimate) : 0));
  const candidates = recorded.candidates.map(([id, logit], rank) => {
    const scaled = rank < head ? w[rank] / scaledTotal : 0;
    cumulative += scaled;
    const [text, display] = data.texts[id] ?? [`<id ${id}>`, `<id ${id}>`];
    return { rank, id, text, display, logit, prob: base[rank], scaled_prob: scaled, cumulative, sample_prob: final[rank], kept: rank < keptRanks };
  });
  const entropyKnown = recorded.entropy_bits != null;
  const wholeAtT1 = exact && reachesTail; // no cut at temperature 1: the model's own distribution
  return {
    candidates,
    entropy_bits: entropyKnown ? recorded.entropy_bits : entropyLowerBound(base, outside),
    sample_entropy_bits: wholeAtT1 && entropyKnown ? recorded.entropy_bits : entropyLowerBound(final, share(estimate)),
    nucleus_size: kept.lo,
    mass_outside_shown: outside,
    sample_mass_outside_shown: share(estimate),
    approximate: !exact,
    recording: {
      recorded: n,
      entropy_bound: !entropyKnown,
      sample_entropy_approx: !(exact && (!reachesTail || entropyKnown)),
      // [lo, hi] kept tokens when unsettled; hi null: more than the recorded, how many unknown.
      nucleus_range: kept.lo === kept.hi ? null : [kept.lo, kept.hi],
      // The chance that the sampled token is one the recording left out, when not exact.
      unrecorded_share: exact ? null : keptTail.map(share),
    },
  };
}

// Ties with the k-th logit are kept, as on the server (and in Hugging Face's generate). Null
// when the kept ranks could reach past the recorded ones.
function topKCount(sorted, k, cap) {
  if (k > sorted.length) return null;
  const threshold = sorted[k - 1];
  let n = k;
  while (n < sorted.length && sorted[n] >= threshold) n += 1;
  return n === sorted.length && cap >= threshold ? null : n;
}

// How many tokens are kept: { lo, hi }, equal when settled; hi null when the count reaches
// into the unrecorded tokens by an unknown amount. The nucleus grows with the tail's weight.
function keptRange({ sampling, w, tail, settledK, vocab, n }) {
  if (sampling.greedy) return { lo: 1, hi: 1 };
  if (sampling.top_p == null) {
    if (settledK) return { lo: w.length, hi: w.length };
    return sampling.top_k == null ? { lo: vocab, hi: vocab } : { lo: sampling.top_k, hi: null };
  }
  const total = sum(w);
  const size = (s) => nucleusSize(w, total + s, sampling.top_p, settledK);
  const [lo, hi] = [size(tail[0]), size(tail[1])];
  return { lo: Number.isFinite(lo) ? lo : n + 1, hi: Number.isFinite(hi) ? hi : null };
}

// A rank is kept while the mass ranked above it is below p, so the first always is. When the
// recorded ranks do not reach p and more could follow (`closed` false), the nucleus is larger:
// Infinity.
function nucleusSize(w, total, p, closed) {
  let above = 0;
  for (let n = 0; n < w.length; n += 1) {
    if (n > 0 && above >= p) return n;
    above += w[n] / total;
  }
  return closed || above >= p ? w.length : Infinity;
}

// Bounds on Σ z^(1/t) over `count` unrecorded tokens, each z in [0, cap], with Σ z = mass
// (their temperature-1 weights in the units of the top logit). x^(1/t) is convex for t < 1 and
// concave for t > 1, so the extremes are the even spread and the most lopsided one (as many
// tokens at the cap as the mass allows). `cut`: top-k may drop some of them, down to none.
function tailWeight(mass, cap, count, t, cut) {
  if (!(mass > 0) || !(cap > 0)) return [0, 0];
  if (t === 1) return [cut ? 0 : mass, mass];
  const even = count * (mass / count) ** (1 / t);
  const full = Math.min(Math.floor(mass / cap), count);
  const lopsided = full * cap ** (1 / t) + Math.max(mass - full * cap, 0) ** (1 / t);
  const [lo, hi] = t < 1 ? [even, lopsided] : [lopsided, even];
  return [cut ? 0 : lo, hi];
}

// Every unrecorded token ranks below the last recorded one, so its probability q is at most
// that one's, and -q·log2(q) >= q·log2(1/p_last): the unseen mass adds at least that much.
function entropyLowerBound(probs, outside) {
  const last = probs.filter((p) => p > 0).at(-1);
  return entropyBits(probs) + (outside > 0 ? outside * Math.log2(1 / last) : 0);
}

function entropyBits(probs) {
  return probs.filter((p) => p > 0).reduce((h, p) => h - p * Math.log2(p), 0);
}

const sum = (xs) => xs.reduce((a, b) => a + b, 0);

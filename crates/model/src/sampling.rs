//! From logits to the next token: temperature, then top-k, then top-p (the order HF
//! `generate` uses), or greedy; with an explanation of every step for learners.

use serde::{Deserialize, Serialize};

/// How the next token is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Sampling {
    /// Always take the most likely token; the other settings are then shown but unused.
    pub greedy: bool,
    /// Logits are divided by this before the softmax: < 1 sharpens, > 1 flattens.
    pub temperature: f32,
    /// Keep only the k most likely tokens (ties with the k-th are kept, as in HF).
    pub top_k: Option<usize>,
    /// Keep the smallest set of most likely tokens whose probability reaches p (never empty).
    pub top_p: Option<f32>,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling::greedy()
    }
}

impl Sampling {
    pub fn greedy() -> Sampling {
        Sampling {
            greedy: true,
            temperature: 1.0,
            top_k: None,
            top_p: None,
        }
    }

    /// A plain message when a setting is out of range for a vocabulary of `vocab` tokens.
    pub fn validate(&self, vocab: usize) -> Result<(), String> {
        let t = self.temperature;
        if !(t.is_finite() && t > 0.0 && t <= MAX_TEMPERATURE) {
            return Err(format!(
                "temperature must be in (0, {MAX_TEMPERATURE}], got {t}"
            ));
        }
        if let Some(k) = self.top_k {
            if k == 0 || k > vocab {
                return Err(format!("top_k must be in 1..={vocab}, got {k}"));
            }
        }
        if let Some(p) = self.top_p {
            if !(p > 0.0 && p <= 1.0) {
                return Err(format!("top_p must be in (0, 1], got {p}"));
            }
        }
        Ok(())
    }
}

/// Beyond this the distribution is uniform to many digits: the range is the useful one.
pub const MAX_TEMPERATURE: f32 = 100.0;

/// Ranks that [`Distribution::new`] always puts in order; explanations show at most this many
/// candidates.
pub const SORTED_RANKS: usize = 1024;

/// The exact full-vocabulary distribution of one step under some [`Sampling`] settings.
///
/// Probabilities are normalised over the whole vocabulary, but only the top ranks are sorted
/// (`sorted` of them: at least [`SORTED_RANKS`] and every kept token): sorting all 50,257
/// logits would cost more than a decode step's matrix products save.
#[derive(Debug, Clone)]
pub struct Distribution {
    /// Token ids by decreasing logit (ties: lower id first) for the first `sorted` ranks; the
    /// rest follow in no particular order.
    pub order: Vec<u32>,
    /// How many leading ranks of `order` are sorted.
    pub sorted: usize,
    /// Softmax at temperature 1, by rank (as `order`).
    pub base: Vec<f64>,
    /// After temperature and top-k, before top-p, by rank: what the nucleus accumulates.
    pub scaled: Vec<f64>,
    /// The distribution sampled from, by rank: zero outside the kept set, renormalised.
    pub final_probs: Vec<f64>,
    /// How many of the top-ranked tokens are kept (the nucleus size; 1 when greedy).
    pub kept: usize,
}

impl Distribution {
    /// `settings` must have passed [`Sampling::validate`].
    pub fn new(logits: &[f32], settings: &Sampling) -> Distribution {
        let mut order: Vec<u32> = (0..logits.len() as u32).collect();
        let mut sorted = sort_top(&mut order, logits, SORTED_RANKS);
        loop {
            let by_rank: Vec<f64> = order.iter().map(|&i| logits[i as usize] as f64).collect(); // (V,)
            match Distribution::cut(by_rank, settings, sorted) {
                Some(mut dist) => {
                    dist.order = order;
                    return dist;
                }
                // Top-k ties or the nucleus reach past the sorted ranks: sort them all.
                None => sorted = sort_top(&mut order, logits, logits.len()),
            }
        }
    }

    /// The distribution from logits by rank, or `None` when top-k or top-p needs ranks beyond
    /// the first `sorted`.
    fn cut(by_rank: Vec<f64>, settings: &Sampling, sorted: usize) -> Option<Distribution> {
        let v = by_rank.len();
        let t = settings.temperature as f64;
        let by_k = match settings.top_k {
            Some(k) => top_k_count(&by_rank[..sorted], k),
            None => v,
        };
        let base = softmax(&by_rank, 1.0, v);
        let scaled = if t == 1.0 && by_k == v {
            base.clone()
        } else {
            softmax(&by_rank, t, by_k)
        };
        let kept = match (settings.greedy, settings.top_p) {
            (true, _) => 1,
            (false, Some(p)) => nucleus_size(&scaled[..sorted], p as f64),
            (false, None) => by_k,
        };
        // `pick` walks the kept ranks in order, so every kept rank must be sorted; so must the
        // top-k ties, or the count above may have stopped short. One sorted rank beyond either
        // shows that it ended inside the sorted ranks.
        let k_short = settings.top_k.is_some() && by_k >= sorted;
        if (k_short || kept >= sorted) && sorted < v {
            return None;
        }
        let final_probs = if kept == by_k {
            scaled.clone()
        } else {
            softmax(&by_rank, t, kept)
        };
        Some(Distribution {
            order: Vec::new(),
            sorted,
            base,
            scaled,
            final_probs,
            kept,
        })
    }

    /// Picks a token from the kept set with a uniform number `u` in [0, 1).
    pub fn pick(&self, u: f64) -> u32 {
        let mut cumulative = 0.0;
        for (rank, p) in self.final_probs[..self.kept].iter().enumerate() {
            cumulative += p;
            if u < cumulative {
                return self.order[rank];
            }
        }
        self.order[self.kept - 1] // rounding left `u` just above the total: the last kept one
    }

    /// Shannon entropy in bits of a distribution given by rank.
    pub fn entropy_bits(probs: &[f64]) -> f64 {
        probs
            .iter()
            .filter(|&&p| p > 0.0)
            .map(|p| -p * p.log2())
            .sum()
    }
}

/// Puts the `n` highest logits first, in order (ties: lower id first); returns how many ranks
/// are sorted. Selecting them first makes this linear in the vocabulary.
fn sort_top(order: &mut [u32], logits: &[f32], n: usize) -> usize {
    let by_logit = |a: &u32, b: &u32| {
        logits[*b as usize]
            .total_cmp(&logits[*a as usize])
            .then(a.cmp(b))
    };
    let n = n.min(order.len());
    if n < order.len() {
        order.select_nth_unstable_by(n, by_logit);
    }
    order[..n].sort_unstable_by(by_logit);
    n
}

/// How many top-ranked tokens top-k keeps: the k best and any tied with the k-th (all of
/// `sorted_logits` when k reaches past them).
fn top_k_count(sorted_logits: &[f64], k: usize) -> usize {
    if k >= sorted_logits.len() {
        return sorted_logits.len();
    }
    let threshold = sorted_logits[k - 1];
    k + sorted_logits[k..]
        .iter()
        .take_while(|&&l| l >= threshold)
        .count()
}

/// The smallest prefix whose mass reaches `p`: a token is kept when the mass ranked above it
/// is still below `p`, so the most likely token is always kept.
fn nucleus_size(scaled: &[f64], p: f64) -> usize {
    let mut above = 0.0;
    let mut n = 0;
    for &q in scaled {
        if q == 0.0 || above >= p {
            break;
        }
        above += q;
        n += 1;
    }
    n.max(1)
}

/// softmax(logits / t) over the first `n` ranks; later ranks get 0.
fn softmax(sorted_logits: &[f64], t: f64, n: usize) -> Vec<f64> {
    let max = sorted_logits[0] / t;
    let mut out: Vec<f64> = sorted_logits
        .iter()
        .enumerate()
        .map(|(i, l)| if i < n { (l / t - max).exp() } else { 0.0 })
        .collect();
    let sum: f64 = out.iter().sum();
    out.iter_mut().for_each(|p| *p /= sum);
    out
}

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny, portable generator whose n-th draw is a
/// function of (seed, n) alone, so any step of a generation can be replayed or branched
/// without replaying the ones before it, on any machine.
pub fn uniform(seed: u64, draw: u64) -> f64 {
    let mut z = seed.wrapping_add(draw.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64 // 53 random bits: uniform in [0, 1)
}

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

/// The exact full-vocabulary distribution of one step under some [`Sampling`] settings.
#[derive(Debug, Clone)]
pub struct Distribution {
    /// Token ids by decreasing logit (ties: lower id first).
    pub order: Vec<u32>,
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
        order.sort_by(|&a, &b| {
            logits[b as usize]
                .total_cmp(&logits[a as usize])
                .then(a.cmp(&b))
        });
        let sorted: Vec<f64> = order.iter().map(|&i| logits[i as usize] as f64).collect(); // (V,)
        let base = softmax(&sorted, 1.0, sorted.len());
        let t = settings.temperature as f64;
        let by_k = settings
            .top_k
            .map_or(sorted.len(), |k| top_k_count(&sorted, k));
        let scaled = softmax(&sorted, t, by_k);
        let kept = if settings.greedy {
            1
        } else {
            settings
                .top_p
                .map_or(by_k, |p| nucleus_size(&scaled, p as f64))
        };
        let final_probs = softmax(&sorted, t, kept);
        Distribution {
            order,
            base,
            scaled,
            final_probs,
            kept,
        }
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

/// How many top-ranked tokens top-k keeps: the k best and any tied with the k-th.
fn top_k_count(sorted_logits: &[f64], k: usize) -> usize {
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

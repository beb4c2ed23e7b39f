//! From logits to the next token: temperature, then top-k, then top-p (the order HF
//! `generate` uses), or greedy; with an explanation of every step for learners.

use serde::{Deserialize, Serialize};

/// How the next token is chosen.
///
/// Two settings follow the conventions of Hugging Face and OpenAI clients, which send them
/// meaning "greedy" and "off": `temperature: 0` is the limit of ever lower temperatures, all
/// the mass on the top logit, so the token is the argmax whatever `greedy` says; `top_k: 0`
/// keeps every token, as `None` does.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Sampling {
    /// Always take the most likely token; the other settings are then shown but unused.
    pub greedy: bool,
    /// Logits are divided by this before the softmax: < 1 sharpens, > 1 flattens; 0 puts
    /// all the mass on the top logit (shared by ties) and picks greedily.
    pub temperature: f32,
    /// Keep only the k most likely tokens (ties with the k-th are kept, as in HF); 0 keeps all.
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
        if !(t.is_finite() && (0.0..=MAX_TEMPERATURE).contains(&t)) {
            return Err(format!(
                "temperature must be in [0, {MAX_TEMPERATURE}], got {t}"
            ));
        }
        if let Some(k) = self.top_k {
            if k > vocab {
                return Err(format!("top_k must be in 0..={vocab} (0: off), got {k}"));
            }
        }
        if let Some(p) = self.top_p {
            if !(p > 0.0 && p <= 1.0) {
                return Err(format!("top_p must be in (0, 1], got {p}"));
            }
        }
        Ok(())
    }

    /// Whether the argmax is taken: `greedy`, or temperature 0.
    pub fn picks_greedily(&self) -> bool {
        self.greedy || self.temperature == 0.0
    }

    /// The top-k cut in force: `None` when off (absent or 0).
    pub fn top_k_cut(&self) -> Option<usize> {
        self.top_k.filter(|&k| k > 0)
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
/// (`sorted` of them: at least [`SORTED_RANKS`] and every kept token) and kept one by one:
/// sorting all 50,257 logits, or keeping three vectors of 50,257 probabilities, would cost a
/// large part of a decode step. What lies beyond the sorted ranks is summed up in `base_tail`
/// and the entropies.
#[derive(Debug, Clone)]
pub struct Distribution {
    /// Token ids by decreasing logit (ties: lower id first) for the first `sorted` ranks; the
    /// rest follow in no particular order.
    pub order: Vec<u32>,
    /// How many leading ranks of `order` are sorted.
    pub sorted: usize,
    /// Softmax at temperature 1 of the sorted ranks.
    pub base: Vec<f64>,
    /// The temperature-1 probability of all the ranks beyond `sorted` together.
    pub base_tail: f64,
    /// After temperature and top-k, before top-p, of the sorted ranks: what the nucleus
    /// accumulates.
    pub scaled: Vec<f64>,
    /// The distribution sampled from, of the sorted ranks: zero outside the kept set,
    /// renormalised. Every kept rank is sorted, so the ranks beyond hold no sampling mass.
    pub final_probs: Vec<f64>,
    /// How many of the top-ranked tokens are kept (the nucleus size; 1 when greedy).
    pub kept: usize,
    /// Shannon entropy of the temperature-1 distribution over the whole vocabulary, in bits.
    pub entropy_bits: f64,
    /// Shannon entropy of the distribution sampled from, in bits.
    pub sample_entropy_bits: f64,
}

impl Distribution {
    /// `settings` must have passed [`Sampling::validate`].
    pub fn new(logits: &[f32], settings: &Sampling) -> Distribution {
        let mut order: Vec<u32> = (0..logits.len() as u32).collect();
        let mut sorted = sort_top(&mut order, logits, SORTED_RANKS);
        loop {
            let ranked = Ranked {
                head: order[..sorted]
                    .iter()
                    .map(|&i| logits[i as usize] as f64)
                    .collect(), // (sorted,)
                tail: &order[sorted..],
                logits,
            };
            match Distribution::cut(&ranked, settings) {
                Some(mut dist) => {
                    dist.order = order;
                    return dist;
                }
                // Top-k ties or the nucleus reach past the sorted ranks: sort them all.
                None => sorted = sort_top(&mut order, logits, logits.len()),
            }
        }
    }

    /// The distribution from the ranked logits, or `None` when top-k or top-p needs ranks
    /// beyond the sorted ones.
    fn cut(ranked: &Ranked, settings: &Sampling) -> Option<Distribution> {
        let (v, sorted) = (ranked.len(), ranked.head.len());
        let t = settings.temperature as f64;
        let by_k = match settings.top_k_cut() {
            Some(k) => top_k_count(&ranked.head, k),
            None => v,
        };
        let base = ranked.softmax(1.0, v);
        let scaled = if t == 1.0 && by_k == v {
            base.clone()
        } else {
            ranked.softmax(t, by_k)
        };
        let kept = match (settings.picks_greedily(), settings.top_p) {
            (true, _) => 1,
            (false, Some(p)) => nucleus_size(&scaled.head, p as f64),
            (false, None) => by_k,
        };
        // `pick` walks the kept ranks in order, so every kept rank must be sorted; so must the
        // top-k ties, or the count above may have stopped short. One sorted rank beyond either
        // shows that it ended inside the sorted ranks.
        let k_short = settings.top_k_cut().is_some() && by_k >= sorted;
        if (k_short || kept >= sorted) && sorted < v {
            return None;
        }
        let sampled = if kept == by_k {
            scaled.clone()
        } else {
            ranked.softmax(t, kept)
        };
        Some(Distribution {
            order: Vec::new(),
            sorted,
            base: base.head,
            base_tail: base.tail,
            scaled: scaled.head,
            final_probs: sampled.head,
            kept,
            entropy_bits: base.entropy_bits,
            sample_entropy_bits: sampled.entropy_bits,
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
}

/// Logits by rank: the sorted ranks' values, then the ids of the unsorted rest.
struct Ranked<'a> {
    head: Vec<f64>, // (sorted,)
    tail: &'a [u32],
    logits: &'a [f32],
}

/// A softmax summarised: the sorted ranks' probabilities, the mass of the rest and the
/// entropy of the whole.
#[derive(Clone)]
struct Softmax {
    head: Vec<f64>,
    tail: f64,
    entropy_bits: f64,
}

impl Ranked<'_> {
    fn len(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    /// softmax(logits / t) over the first `n` ranks; later ranks get 0.
    fn softmax(&self, t: f64, n: usize) -> Softmax {
        if t == 0.0 {
            return self.top_only(n);
        }
        let max = self.head[0] / t;
        // Each term's exp(x) and x exp(x), with x = logit / t - max ≤ 0.
        let term = |logit: f64| {
            let x = logit / t - max;
            let e = x.exp();
            (e, x * e)
        };
        let (mut z, mut zx) = (0.0, 0.0);
        let mut head: Vec<f64> = Vec::with_capacity(self.head.len());
        for (rank, &logit) in self.head.iter().enumerate() {
            if rank < n {
                let (e, xe) = term(logit);
                (z, zx) = (z + e, zx + xe);
                head.push(e);
            } else {
                head.push(0.0);
            }
        }
        let mut tail = 0.0;
        for &id in &self.tail[..n.saturating_sub(self.head.len())] {
            let (e, xe) = term(self.logits[id as usize] as f64);
            (tail, zx) = (tail + e, zx + xe);
        }
        z += tail;
        head.iter_mut().for_each(|p| *p /= z);
        // ln p = x - ln z, so -Σ p ln p = ln z - Σ p x: no logarithm per token.
        let entropy_nats = (z.ln() - zx / z).max(0.0);
        Softmax {
            head,
            tail: tail / z,
            entropy_bits: entropy_nats / std::f64::consts::LN_2,
        }
    }

    /// The limit of softmax(logits / t) as t falls to 0 over the first `n` ranks: the top
    /// logit's ranks (ties of it) share all the mass equally.
    fn top_only(&self, n: usize) -> Softmax {
        let top = self.head[0];
        let in_head = self.head[..n.min(self.head.len())]
            .iter()
            .take_while(|&&l| l == top)
            .count();
        // The sorted ranks end in ties only when the top logit may go on into the rest.
        let in_tail = match in_head == self.head.len() {
            true => self.tail[..n.saturating_sub(self.head.len())]
                .iter()
                .filter(|&&id| self.logits[id as usize] as f64 == top)
                .count(),
            false => 0,
        };
        let ties = (in_head + in_tail) as f64;
        let mut head = vec![0.0; self.head.len()];
        head[..in_head].fill(1.0 / ties);
        Softmax {
            head,
            tail: in_tail as f64 / ties,
            entropy_bits: ties.log2(),
        }
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

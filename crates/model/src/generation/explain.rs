//! What a learner sees of one sampling step: the top candidates and where the mass went.

use serde::Serialize;

use super::sampling::Distribution;

/// One of the most likely next tokens.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// 0 for the most likely token.
    pub rank: usize,
    pub id: u32,
    /// The token's text; bytes of partial UTF-8 appear as `<0xF0>` escapes.
    pub text: String,
    /// For chips: a leading space as `·`, control characters made visible.
    pub display: String,
    pub logit: f32,
    /// Full-vocabulary softmax at temperature 1.
    pub prob: f64,
    /// After temperature and top-k: the distribution top-p accumulates.
    pub scaled_prob: f64,
    /// `scaled_prob` summed over this rank and every rank above it.
    pub cumulative: f64,
    /// The probability of being sampled: zero when cut, renormalised over the kept set.
    pub sample_prob: f64,
    pub kept: bool,
}

/// A step's distribution, summarised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepExplanation {
    pub candidates: Vec<Candidate>,
    /// Entropy of the temperature-1 distribution, in bits.
    pub entropy_bits: f64,
    /// Entropy of the distribution actually sampled from, in bits.
    pub sample_entropy_bits: f64,
    /// How many tokens can be chosen (1 when greedy).
    pub nucleus_size: usize,
    /// Temperature-1 probability of every token not among `candidates`.
    pub mass_outside_shown: f64,
    /// Sampling probability of every token not among `candidates`.
    pub sample_mass_outside_shown: f64,
}

/// The top `n` candidates of `dist` (built from `logits`), at most its sorted ranks; `name`
/// gives a token's text and display form.
pub fn explain(
    dist: &Distribution,
    logits: &[f32],
    n: usize,
    name: impl Fn(u32) -> (String, String),
) -> StepExplanation {
    let n = n.min(dist.sorted);
    let mut cumulative = 0.0;
    let candidates: Vec<Candidate> = (0..n)
        .map(|rank| {
            let id = dist.order[rank];
            cumulative += dist.scaled[rank];
            let (text, display) = name(id);
            Candidate {
                rank,
                id,
                text,
                display,
                logit: logits[id as usize],
                prob: dist.base[rank],
                scaled_prob: dist.scaled[rank],
                cumulative,
                sample_prob: dist.final_probs[rank],
                kept: rank < dist.kept,
            }
        })
        .collect();
    let outside = |p: &[f64]| p[n..].iter().sum::<f64>();
    StepExplanation {
        candidates,
        entropy_bits: dist.entropy_bits,
        sample_entropy_bits: dist.sample_entropy_bits,
        nucleus_size: dist.kept,
        mass_outside_shown: outside(&dist.base) + dist.base_tail,
        sample_mass_outside_shown: outside(&dist.final_probs), // none beyond the sorted ranks
    }
}

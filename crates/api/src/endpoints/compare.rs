//! `POST /api/compare`: the next-token prediction after two token sequences (the prompt before
//! and after a tokenizer edit), side by side, and how far apart the two full distributions are.

use std::sync::Arc;

use nexttoken_model::generate::namer;
use serde::{Deserialize, Serialize};
use serde_json::Number;

use crate::bounds::{self, present};
use crate::{Engine, Error};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareRequest {
    before: Vec<Number>,
    after: Vec<Number>,
    #[serde(default, deserialize_with = "present")]
    top_n: Option<Number>,
}

#[derive(Serialize)]
pub struct CompareResponse {
    before: Vec<Ranked>,
    after: Vec<Ranked>,
    /// KL(before || after) = Σ p_before · ln(p_before / p_after), over the whole vocabulary.
    kl_nats: f64,
    kl_bits: f64,
}

/// One candidate at temperature 1.
#[derive(Serialize)]
pub struct Ranked {
    rank: usize,
    id: u32,
    text: String,
    display: String,
    logit: f32,
    prob: f64,
}

pub fn compare(engine: &Engine, req: CompareRequest) -> Result<CompareResponse, Error> {
    let before = bounds::tokens(&engine.model, &req.before)?;
    let after = bounds::tokens(&engine.model, &req.after)?;
    let top_n = bounds::compare_top_n(req.top_n.as_ref())?;
    let before = Side::of(engine, before)?;
    let after = Side::of(engine, after)?;
    let kl_nats = kl(&before.log_probs, &after.log_probs);
    Ok(CompareResponse {
        before: before.top(engine, top_n),
        after: after.top(engine, top_n),
        kl_nats,
        kl_bits: kl_nats / std::f64::consts::LN_2,
    })
}

/// One sequence's next-token logits and their log-probabilities (f64, so a tiny KL is exact).
struct Side {
    logits: Arc<Vec<f32>>,
    log_probs: Vec<f64>,
}

impl Side {
    /// From the logits cache `/api/distribution` shares, else one forward pass (then cached).
    fn of(engine: &Engine, tokens: Vec<u32>) -> Result<Side, Error> {
        let logits = engine.logits_after(tokens)?;
        let log_probs = log_softmax(&logits);
        Ok(Side { logits, log_probs })
    }

    /// The `n` most likely tokens, ties by lower id.
    fn top(&self, engine: &Engine, n: usize) -> Vec<Ranked> {
        let mut ids: Vec<u32> = (0..self.logits.len() as u32).collect();
        let lp = &self.log_probs;
        ids.sort_unstable_by(|a, b| lp[*b as usize].total_cmp(&lp[*a as usize]).then(a.cmp(b)));
        let name = namer(&engine.model);
        ids.into_iter()
            .take(n)
            .enumerate()
            .map(|(rank, id)| {
                let (text, display) = name(id);
                Ranked {
                    rank,
                    id,
                    text,
                    display,
                    logit: self.logits[id as usize],
                    prob: lp[id as usize].exp(),
                }
            })
            .collect()
    }
}

fn log_softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = logits.iter().map(|&l| (l as f64 - max).exp()).sum();
    let lse = max + sum.ln();
    logits.iter().map(|&l| l as f64 - lse).collect()
}

/// KL(p || q) from log-probabilities; terms where p underflows to 0 contribute 0.
fn kl(log_p: &[f64], log_q: &[f64]) -> f64 {
    let sum: f64 = log_p
        .iter()
        .zip(log_q)
        .map(|(&lp, &lq)| {
            let p = lp.exp();
            if p == 0.0 {
                0.0
            } else {
                p * (lp - lq)
            }
        })
        .sum();
    // Rounding can leave an identical pair a hair below zero; KL is never negative.
    sum.max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kl_is_zero_for_equal_distributions_and_matches_a_hand_computed_pair() {
        let p = log_softmax(&[1.0, 2.0, 3.0]);
        assert_eq!(kl(&p, &p), 0.0);
        // p = (1/2, 1/2), q = (1/4, 3/4): KL = ½ln2 + ½ln(2/3).
        let (p, q) = ([0.5f64.ln(), 0.5f64.ln()], [0.25f64.ln(), 0.75f64.ln()]);
        let want = 0.5 * 2f64.ln() + 0.5 * (2.0f64 / 3.0).ln();
        assert!((kl(&p, &q) - want).abs() < 1e-15);
    }

    #[test]
    fn log_softmax_is_stable_for_large_logits() {
        let lp = log_softmax(&[1000.0, 1000.0]);
        assert!(lp.iter().all(|&l| (l - 0.5f64.ln()).abs() < 1e-12));
    }
}

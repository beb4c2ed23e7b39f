//! `POST /api/compare`: the next-token prediction after two token sequences (the prompt before
//! and after a tokenizer edit), side by side, and how far apart the two full distributions are.

use std::sync::Arc;

use nexttoken_model::divergence::{kl, log_softmax};
use nexttoken_model::Stop;
use serde::{Deserialize, Serialize};
use serde_json::Number;

use crate::bounds::{self, present};
use crate::lab::{ranked, Ranked};
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

/// `stop` ends either forward pass at its next layer once raised (the client went away).
pub fn compare(engine: &Engine, req: CompareRequest, stop: Stop) -> Result<CompareResponse, Error> {
    let before = bounds::tokens(&engine.model, &req.before)?;
    let after = bounds::tokens(&engine.model, &req.after)?;
    let top_n = bounds::compare_top_n(req.top_n.as_ref())?;
    let before = Side::of(engine, before, &stop)?;
    let after = Side::of(engine, after, &stop)?;
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
    fn of(engine: &Engine, tokens: Vec<u32>, stop: &Stop) -> Result<Side, Error> {
        let logits = engine.logits_after(tokens, stop)?;
        let log_probs = log_softmax(&logits);
        Ok(Side { logits, log_probs })
    }

    /// The `n` most likely tokens, ties by lower id.
    fn top(&self, engine: &Engine, n: usize) -> Vec<Ranked> {
        ranked(&engine.model, &self.logits, &self.log_probs, n)
    }
}

//! `POST /api/distribution`: the exact next-token distribution after `tokens` under any
//! settings, from cached logits when the same tokens were asked for recently.

use nexttoken_model::explain::StepExplanation;
use nexttoken_model::generate::explain_logits;
use nexttoken_model::{Sampling, Stop};
use serde::Deserialize;
use serde_json::Number;

use crate::bounds::{self, present};
use crate::{Engine, Error};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistributionRequest {
    tokens: Vec<Number>,
    #[serde(default)]
    sampling: Sampling,
    #[serde(default, deserialize_with = "present")]
    top_n: Option<Number>,
}

/// `stop` ends the forward pass at its next layer once raised (the client went away).
pub fn distribution(
    engine: &Engine,
    req: DistributionRequest,
    stop: Stop,
) -> Result<StepExplanation, Error> {
    let model = &engine.model;
    let tokens = bounds::tokens(model, &req.tokens)?;
    let top_n = bounds::top_n(req.top_n.as_ref())?;
    bounds::sampling(model, &req.sampling)?;
    let logits = engine.logits_after(tokens, &stop)?;
    Ok(explain_logits(model, &logits, &req.sampling, top_n))
}

//! `POST /api/lens`: the logit lens at one position, what the residual stream would predict if
//! the model stopped after each layer. The residual stream of the latest sequence is kept, so
//! moving along the same text decodes without running the model again.

use nexttoken_model::lens::{logit_lens, LensStream, LogitLens};
use serde::Deserialize;
use serde_json::Number;

use crate::bounds::{self, present};
use crate::{Engine, Error};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LensRequest {
    tokens: Vec<Number>,
    #[serde(default, deserialize_with = "present")]
    position: Option<Number>,
    #[serde(default, deserialize_with = "present")]
    top: Option<Number>,
}

/// A sequence's residual stream is kept only up to this size (GPT-2 small at 1,024 tokens:
/// 13 × 1,024 × 768 floats, 41 MB); a larger model's is recomputed for each position.
const KEEP_BYTES: usize = 64 << 20;

pub fn lens(engine: &Engine, req: LensRequest) -> Result<LogitLens, Error> {
    let model = &engine.model;
    let tokens = bounds::tokens(model, &req.tokens)?;
    let position = bounds::position(req.position.as_ref(), tokens.len())?;
    let top = bounds::lens_top(req.top.as_ref())?;
    let c = model.config();
    if (c.n_layer + 1) * tokens.len() * c.n_embd * 4 > KEEP_BYTES {
        return Ok(logit_lens(model, &tokens, position, top)?);
    }
    // One forward pass per sequence: another position of the same text only decodes.
    let stream = engine
        .lens
        .get_or_make(tokens.clone(), || LensStream::record(model, &tokens))?;
    Ok(stream.at(model, position, top)?)
}

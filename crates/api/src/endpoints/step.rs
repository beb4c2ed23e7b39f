//! `POST /api/step`: one token more after `tokens`, sampled with draw `draw` (or forced), so
//! stepping one at a time replays `/api/trace` exactly and a branch starts anywhere. The
//! chosen token runs at once, recorded, so the page shows its column in every stage; the state
//! after it is kept (`PrefixCache`), so the next step samples without running the model.

use nexttoken_model::embedding::Embedding;
use nexttoken_model::trace::Step;
use nexttoken_model::{Generator, NoRecorder, ResidNorms, Sampling};
use serde::{Deserialize, Serialize};
use serde_json::Number;

use crate::bounds::{self, present};
use crate::{Engine, Error};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepRequest {
    tokens: Vec<Number>,
    #[serde(default, deserialize_with = "present")]
    draw: Option<Number>,
    #[serde(default)]
    sampling: Sampling,
    #[serde(default, deserialize_with = "present")]
    seed: Option<Number>,
    #[serde(default, deserialize_with = "present")]
    top_n: Option<Number>,
    /// `null` or absent: sample.
    #[serde(default)]
    force: Option<Number>,
}

#[derive(Serialize)]
pub struct StepResponse {
    step: Step,
    tokens: Vec<u32>,
    /// The chosen token's embedding norms and residual-stream column, as `/api/trace` gives
    /// them for the prompt: one position.
    embedding: Embedding,
    resid_norms: Vec<Vec<f32>>, // (n_layer + 1, 1)
}

pub fn step(engine: &Engine, req: StepRequest) -> Result<StepResponse, Error> {
    let model = &engine.model;
    // The chosen token joins the sequence, so it needs a position too.
    let room = model.config().n_positions.saturating_sub(1);
    let tokens = bounds::token_ids(model, &req.tokens, room)?;
    let draw = bounds::draw(req.draw.as_ref(), tokens.len())?;
    let force = match &req.force {
        Some(id) => Some(bounds::token_id(model, id)?),
        None => None,
    };
    let options =
        bounds::generate_options(model, req.sampling, req.seed.as_ref(), req.top_n.as_ref())?;
    // The page sends the whole sequence each step: continue from the state an earlier step
    // left, when there is one, so only the new token runs.
    let mut generator = match engine.cache.take_state(&tokens) {
        Some(prefix) => Generator::resume(&**model, tokens, draw, options, prefix)?,
        None => Generator::new(&**model, tokens, draw, options, &mut NoRecorder)?,
    };
    let result = generator.step(force)?;
    let norms = generator.feed_pending(ResidNorms::new(model.config().n_layer))?;
    let tokens = generator.tokens().to_vec();
    let (fed, prefix) = generator.into_prefix();
    engine.cache.put_state(fed, prefix);
    Ok(StepResponse {
        step: Step::new(model, result.explanation, result.chosen),
        embedding: Embedding::at(model, &[result.chosen], tokens.len() - 1),
        resid_norms: norms.rows,
        tokens,
    })
}

//! `POST /api/heads`: previous-token, first-token and induction scores for every head, so a
//! learner can sort the heads and find the ones that do each job.

use nexttoken_model::heads::{head_scores, HeadScore};
use serde::{Deserialize, Serialize};
use serde_json::Number;

use crate::bounds::{self, present};
use crate::{Engine, Error};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadsRequest {
    tokens: Vec<Number>,
    #[serde(default, deserialize_with = "present")]
    repeat_len: Option<Number>,
    #[serde(default, deserialize_with = "present")]
    seed: Option<Number>,
}

#[derive(Serialize)]
pub struct HeadsResponse {
    /// Length of the random sequence that is seen twice for the induction score.
    repeat_len: usize,
    seed: u64,
    heads: Vec<HeadScore>,
}

pub fn heads(engine: &Engine, req: HeadsRequest) -> Result<HeadsResponse, Error> {
    let model = &engine.model;
    let tokens = bounds::tokens(model, &req.tokens)?;
    let repeat_len = bounds::repeat_len(model, req.repeat_len.as_ref())?;
    let seed = bounds::seed(req.seed.as_ref())?;
    Ok(HeadsResponse {
        heads: head_scores(model, &tokens, repeat_len, seed)?,
        repeat_len,
        seed,
    })
}

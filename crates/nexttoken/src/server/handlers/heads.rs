//! `POST /api/heads`: previous-token, first-token and induction scores for every head, so a
//! learner can sort the heads and find the ones that do each job.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use nexttoken_model::heads::{head_scores, HeadScore};
use serde::{Deserialize, Serialize};
use serde_json::Number;

use super::bounds;
use crate::server::errors::ApiError;
use crate::server::extract::ApiJson;
use crate::server::limits::{self, present};
use crate::server::state::AppState;

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

pub async fn heads(
    State(state): State<Arc<AppState>>,
    ApiJson(req): ApiJson<HeadsRequest>,
) -> Result<Json<HeadsResponse>, ApiError> {
    let model = Arc::clone(&state.loaded().model);
    let tokens = bounds::tokens(&model, &req.tokens)?;
    let repeat_len = bounds::repeat_len(&model, req.repeat_len.as_ref())?;
    let seed = limits::seed(req.seed.as_ref())?;
    let heads = state
        .pool
        .run(move || Ok(head_scores(&model, &tokens, repeat_len, seed)?))
        .await?;
    Ok(Json(HeadsResponse {
        repeat_len,
        seed,
        heads,
    }))
}

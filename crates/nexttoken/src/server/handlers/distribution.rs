//! `POST /api/distribution`: the exact next-token distribution after `tokens` under any
//! settings, from cached logits when the same tokens were asked for recently.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use nexttoken_model::explain::StepExplanation;
use nexttoken_model::generate::explain_logits;
use nexttoken_model::Sampling;
use serde::Deserialize;
use serde_json::Number;

use super::bounds;
use crate::server::errors::ApiError;
use crate::server::extract::ApiJson;
use crate::server::limits::{self, present};
use crate::server::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistributionRequest {
    tokens: Vec<Number>,
    #[serde(default)]
    sampling: Sampling,
    #[serde(default, deserialize_with = "present")]
    top_n: Option<Number>,
}

pub async fn distribution(
    State(state): State<Arc<AppState>>,
    ApiJson(req): ApiJson<DistributionRequest>,
) -> Result<Json<StepExplanation>, ApiError> {
    let loaded = state.loaded();
    let tokens = bounds::tokens(&loaded.model, &req.tokens)?;
    let top_n = limits::top_n(req.top_n.as_ref())?;
    limits::sampling(&loaded.model, &req.sampling)?;
    let explanation = state
        .pool
        .run(move || {
            let logits = loaded.logits_after(tokens)?;
            Ok(explain_logits(&loaded.model, &logits, &req.sampling, top_n))
        })
        .await?;
    Ok(Json(explanation))
}

//! `POST /api/distribution`: the exact next-token distribution after `tokens` under any
//! settings, from cached logits when the same tokens were asked for recently.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use nexttoken_model::explain::StepExplanation;
use nexttoken_model::generate::explain_logits;
use nexttoken_model::{KvCache, NoRecorder, Sampling};
use serde::Deserialize;
use serde_json::Number;

use crate::server::errors::ApiError;
use crate::server::extract::ApiJson;
use crate::server::limits::{self, present};
use crate::server::state::{AppState, Loaded};

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
    let n_positions = loaded.model.config().n_positions;
    let tokens = limits::token_ids(&loaded.model, &req.tokens, n_positions)?;
    let top_n = limits::top_n(req.top_n.as_ref())?;
    limits::sampling(&loaded.model, &req.sampling)?;
    let explanation = state
        .pool
        .run(move || {
            let logits = logits_after(&loaded, tokens)?;
            Ok(explain_logits(&loaded.model, &logits, &req.sampling, top_n))
        })
        .await?;
    Ok(Json(explanation))
}

/// The logits after `tokens`: from the cache, else one forward pass (then cached).
fn logits_after(loaded: &Loaded, tokens: Vec<u32>) -> Result<Arc<Vec<f32>>, ApiError> {
    if let Some(logits) = loaded.logits.get(&tokens) {
        return Ok(logits);
    }
    let model = &loaded.model;
    let mut cache = KvCache::new(model.config());
    let logits = Arc::new(model.gpt2.forward(&tokens, &mut cache, &mut NoRecorder)?);
    loaded.logits.insert(tokens, Arc::clone(&logits));
    Ok(logits)
}

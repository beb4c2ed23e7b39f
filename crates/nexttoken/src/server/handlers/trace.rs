//! `POST /api/trace`: a whole run as `nexttoken_model::trace()` records it, plus the
//! embedding norms and the prompt's ids.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use nexttoken_model::embedding::Embedding;
use nexttoken_model::{trace_with, Sampling, Trace};
use serde::{Deserialize, Serialize};
use serde_json::Number;

use crate::server::errors::ApiError;
use crate::server::extract::ApiJson;
use crate::server::limits::{self, present};
use crate::server::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceRequest {
    prompt: String,
    #[serde(default, deserialize_with = "present")]
    steps: Option<Number>,
    #[serde(default)]
    sampling: Sampling,
    #[serde(default, deserialize_with = "present")]
    seed: Option<Number>,
    #[serde(default, deserialize_with = "present")]
    top_n: Option<Number>,
}

#[derive(Serialize)]
pub struct TraceResponse {
    #[serde(flatten)]
    trace: Trace,
    embedding: Embedding,
    token_ids: Vec<u32>,
}

pub async fn trace_handler(
    State(state): State<Arc<AppState>>,
    ApiJson(req): ApiJson<TraceRequest>,
) -> Result<Json<TraceResponse>, ApiError> {
    let max_steps = state.limits.max_steps as u64;
    let steps = limits::int_in(
        "steps",
        "invalid_steps",
        req.steps.as_ref(),
        1,
        0..=max_steps,
    )?;
    let loaded = state.loaded();
    let model = Arc::clone(&loaded.model);
    let options =
        limits::generate_options(&model, req.sampling, req.seed.as_ref(), req.top_n.as_ref())?;
    let response = state
        .pool
        .run_cancellable(move |cancel| {
            let steps = steps as usize;
            let ids = limits::prompt(&model, &req.prompt, steps)?;
            let keep_going = || !cancel.is_cancelled();
            // Decode steps join those of the other traces running now: one read of the
            // weights per step serves them all.
            let session = loaded.batcher.session();
            let traced = trace_with(
                session,
                &req.prompt,
                ids.clone(),
                steps,
                options,
                keep_going,
            )?;
            // The page's next /api/step continues this sequence: keep its state.
            loaded.cache.put_state(traced.fed, traced.state);
            if cancel.is_cancelled() {
                return Err(ApiError::gone());
            }
            Ok(TraceResponse {
                trace: traced.trace,
                embedding: Embedding::of(&model, &ids),
                token_ids: ids,
            })
        })
        .await?;
    Ok(Json(response))
}

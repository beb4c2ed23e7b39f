//! `/api/health` and `/api/model`: answered from memory, never through the model pool.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

use crate::server::limits::TOP_N;
use crate::server::state::AppState;

pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

#[derive(Serialize)]
pub struct ModelResponse {
    name: String,
    n_layer: usize,
    n_head: usize,
    n_embd: usize,
    vocab_size: usize,
    n_positions: usize,
    source: String,
    limits: LimitsInfo,
}

#[derive(Serialize)]
struct LimitsInfo {
    max_steps: usize,
    max_prompt_tokens: usize,
    max_body_bytes: usize,
    max_top_n: u64,
}

pub async fn model(State(state): State<Arc<AppState>>) -> Json<ModelResponse> {
    let c = state.model.config();
    Json(ModelResponse {
        name: state.model.name.clone(),
        n_layer: c.n_layer,
        n_head: c.n_head,
        n_embd: c.n_embd,
        vocab_size: c.vocab_size,
        n_positions: c.n_positions,
        source: state.source.clone(),
        limits: LimitsInfo {
            max_steps: state.limits.max_steps,
            max_prompt_tokens: c.n_positions,
            max_body_bytes: state.limits.max_body_bytes,
            max_top_n: *TOP_N.end(),
        },
    })
}

//! `/api/health` and `/api/model`: answered from memory, never through the model pool.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use nexttoken_model::trace::ModelInfo;
use serde::Serialize;
use serde_json::{json, Value};

use crate::server::limits::TOP_N;
use crate::server::state::AppState;
use crate::server::upgrade::DownloadStatus;

/// Also the pool's gauges, so a load test or an operator can see work queue up and stop, the
/// decode batches of the model serving now, and what its cache holds.
pub async fn health(State(state): State<Arc<AppState>>) -> Json<Value> {
    let pool = &state.pool;
    let loaded = state.loaded();
    let batches = loaded.batcher.stats();
    let cache = &loaded.cache;
    Json(json!({
        "status": "ok",
        "pool": {
            "running": pool.running(),
            "waiting": pool.waiting(),
            "cancelled": pool.cancelled(),
        },
        "batches": batches,
        "cache": {
            "bytes": cache.bytes(),
            "budget_bytes": cache.budget(),
            "entries": cache.len(),
            "positions": cache.positions(),
        },
    }))
}

#[derive(Serialize)]
pub struct ModelResponse {
    #[serde(flatten)]
    model: ModelInfo,
    source: &'static str,
    limits: LimitsInfo,
    /// The background download of GPT-2 when the server started on the bundled model (still
    /// `ready` after the switch); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    download: Option<DownloadStatus>,
}

#[derive(Serialize)]
struct LimitsInfo {
    max_steps: usize,
    max_prompt_tokens: usize,
    max_body_bytes: usize,
    max_top_n: u64,
    cache_bytes: usize,
}

pub async fn model(State(state): State<Arc<AppState>>) -> Json<ModelResponse> {
    let loaded = state.loaded();
    let c = loaded.model.config();
    Json(ModelResponse {
        model: ModelInfo::of(&loaded.model),
        source: loaded.source.label(),
        limits: LimitsInfo {
            max_steps: state.limits.max_steps,
            max_prompt_tokens: c.n_positions,
            max_body_bytes: state.limits.max_body_bytes,
            max_top_n: *TOP_N.end(),
            cache_bytes: state.limits.cache_bytes,
        },
        download: state.upgrade.as_ref().map(|u| u.status()),
    })
}

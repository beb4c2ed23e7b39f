//! `/api/health` and `/api/model`: the API's answers, plus this server's model pool and the
//! background download of GPT-2. Answered from memory, never through the pool.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use nexttoken_api::info;
use serde::Serialize;

use crate::server::state::AppState;
use crate::server::upgrade::DownloadStatus;

#[derive(Serialize)]
pub struct HealthResponse {
    #[serde(flatten)]
    engine: info::Health,
    /// The pool's gauges, so a load test or an operator can see work queue up and stop.
    pool: PoolGauges,
}

#[derive(Serialize)]
struct PoolGauges {
    running: usize,
    waiting: usize,
    cancelled: usize,
}

pub async fn health(State(state): State<Arc<AppState>>) -> Json<HealthResponse> {
    let pool = &state.pool;
    Json(HealthResponse {
        engine: info::health(&state.loaded()),
        pool: PoolGauges {
            running: pool.running(),
            waiting: pool.waiting(),
            cancelled: pool.cancelled(),
        },
    })
}

#[derive(Serialize)]
pub struct ModelResponse {
    #[serde(flatten)]
    model: info::ModelResponse,
    /// The background download of GPT-2 when the server started on the bundled model (still
    /// `ready` after the switch); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    download: Option<DownloadStatus>,
}

pub async fn model(State(state): State<Arc<AppState>>) -> Json<ModelResponse> {
    let loaded = state.loaded();
    Json(ModelResponse {
        model: info::model(&loaded, loaded.source.label()),
        download: state.upgrade.as_ref().map(|u| u.status()),
    })
}

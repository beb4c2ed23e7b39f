//! `POST /api/model/switch`: leave the bundled model for GPT-2 once its download is done.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use nexttoken_model::DType;

use crate::models::{load_snapshot, Source, DEFAULT_MODEL};
use crate::server::errors::ApiError;
use crate::server::state::AppState;

pub async fn switch(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    let conflict = |code, message: String| ApiError::new(StatusCode::CONFLICT, code, message);
    let Some(upgrade) = state.upgrade.as_ref() else {
        let msg = "nothing was downloaded: this server runs the model it was started with";
        return Err(conflict("no_download", msg.into()));
    };
    let Some(dir) = upgrade.ready_dir() else {
        return Err(conflict(
            "not_ready",
            format!("{DEFAULT_MODEL} is not downloaded yet"),
        ));
    };
    let shared = Arc::clone(&state);
    state
        .pool
        .run(move || {
            let model = load_snapshot(&dir, DEFAULT_MODEL, DType::F32)
                .map_err(|e| ApiError::internal(format!("{e:#}")))?;
            shared.switch(model, Source::Hub);
            Ok(())
        })
        .await?;
    let loaded = state.loaded();
    Ok(Json(
        json!({ "name": loaded.model.name, "source": loaded.source.label() }),
    ))
}

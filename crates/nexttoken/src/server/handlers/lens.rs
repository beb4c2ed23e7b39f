//! `POST /api/lens`: the logit lens at one position, what the residual stream would predict if
//! the model stopped after each layer.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use nexttoken_model::lens::{logit_lens, LogitLens};
use serde::Deserialize;
use serde_json::Number;

use super::bounds;
use crate::server::errors::ApiError;
use crate::server::extract::ApiJson;
use crate::server::limits::present;
use crate::server::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LensRequest {
    tokens: Vec<Number>,
    #[serde(default, deserialize_with = "present")]
    position: Option<Number>,
    #[serde(default, deserialize_with = "present")]
    top: Option<Number>,
}

pub async fn lens(
    State(state): State<Arc<AppState>>,
    ApiJson(req): ApiJson<LensRequest>,
) -> Result<Json<LogitLens>, ApiError> {
    let model = Arc::clone(&state.loaded().model);
    let tokens = bounds::tokens(&model, &req.tokens)?;
    let position = bounds::position(req.position.as_ref(), tokens.len())?;
    let top = bounds::lens_top(req.top.as_ref())?;
    let lens = state
        .pool
        .run(move || Ok(logit_lens(&model, &tokens, position, top)?))
        .await?;
    Ok(Json(lens))
}

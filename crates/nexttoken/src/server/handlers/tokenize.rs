//! `POST /api/tokenize`: the model's own tokenizer on any text, for the live token chips.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use nexttoken_model::tokenizer::TokenInfo;
use serde::{Deserialize, Serialize};

use crate::server::errors::ApiError;
use crate::server::extract::ApiJson;
use crate::server::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenizeRequest {
    text: String,
}

#[derive(Serialize)]
pub struct TokenizeResponse {
    count: usize,
    tokens: Vec<TokenInfo>,
}

pub async fn tokenize(
    State(state): State<Arc<AppState>>,
    ApiJson(req): ApiJson<TokenizeRequest>,
) -> Result<Json<TokenizeResponse>, ApiError> {
    let model = Arc::clone(&state.loaded().model);
    // A 64 KiB text takes tens of milliseconds to encode: pool work, like the model's.
    let tokens = state
        .pool
        .run(move || {
            let tokenizer = &model.tokenizer;
            let ids = tokenizer.encode(&req.text);
            Ok(ids
                .into_iter()
                .filter_map(|id| tokenizer.token_info(id))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(Json(TokenizeResponse {
        count: tokens.len(),
        tokens,
    }))
}

//! `POST /api/tokenize`: the model's own tokenizer on any text, for the live token chips.

use nexttoken_model::tokenizer::TokenInfo;
use serde::{Deserialize, Serialize};

use crate::{Engine, Error};

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

pub fn tokenize(engine: &Engine, req: TokenizeRequest) -> Result<TokenizeResponse, Error> {
    let tokenizer = &engine.model.tokenizer;
    let tokens: Vec<TokenInfo> = tokenizer
        .encode(&req.text)
        .into_iter()
        .filter_map(|id| tokenizer.token_info(id))
        .collect();
    Ok(TokenizeResponse {
        count: tokens.len(),
        tokens,
    })
}

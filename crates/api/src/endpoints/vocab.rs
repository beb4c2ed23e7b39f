//! `GET /api/vocab/{id}` and `POST /api/vocab/lookup`: the vocabulary both ways, and what the
//! surgery view needs to split a token (every way into two tokens, and its single bytes) or to
//! merge two (whether their joined bytes are a token).

use nexttoken_model::tokenizer::TokenInfo;
use nexttoken_model::Tokenizer;
use serde::{Deserialize, Serialize};
use serde_json::Number;

use crate::bounds::{self, LOOKUP_MAX_BYTES};
use crate::{Engine, Error};

#[derive(Serialize)]
pub struct VocabEntry {
    #[serde(flatten)]
    token: TokenInfo,
    /// Every cut of the token's bytes into two vocabulary tokens, shortest left part first.
    splits: Vec<Split>,
    /// The token as single-byte tokens: every byte is one in GPT-2's byte-level vocabulary.
    byte_tokens: Vec<TokenInfo>,
}

#[derive(Serialize)]
pub struct Split {
    left: TokenInfo,
    right: TokenInfo,
}

/// The id arrives as a path segment; parsing it here keeps a bad one in the API's error shape.
pub fn entry(engine: &Engine, id: &str) -> Result<VocabEntry, Error> {
    let model = &engine.model;
    let number: Number = id.parse().map_err(|_| {
        Error::bad(
            "invalid_token",
            format!("token id {id:?} is not a non-negative integer"),
        )
    })?;
    let id = bounds::token_id(model, &number)?;
    let tokenizer = &model.tokenizer;
    let token = tokenizer
        .token_info(id)
        .ok_or_else(|| Error::internal(format!("token {id} has no bytes")))?;
    Ok(VocabEntry {
        splits: splits(tokenizer, &token.bytes),
        byte_tokens: token
            .bytes
            .iter()
            .filter_map(|&b| info_of(tokenizer, &[b]))
            .collect(),
        token,
    })
}

fn info_of(tokenizer: &Tokenizer, bytes: &[u8]) -> Option<TokenInfo> {
    tokenizer
        .token_to_id(bytes)
        .and_then(|id| tokenizer.token_info(id))
}

fn splits(tokenizer: &Tokenizer, bytes: &[u8]) -> Vec<Split> {
    (1..bytes.len())
        .filter_map(|at| {
            let left = info_of(tokenizer, &bytes[..at])?;
            let right = info_of(tokenizer, &bytes[at..])?;
            Some(Split { left, right })
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    bytes: Option<Vec<Number>>,
}

#[derive(Serialize)]
pub struct LookupResponse {
    bytes: Vec<u8>,
    /// The token whose bytes are exactly these, if the vocabulary has one.
    id: Option<u32>,
    token: Option<TokenInfo>,
    /// How the tokenizer encodes the text (absent for bytes that are not UTF-8).
    encoded: Option<Vec<TokenInfo>>,
}

pub fn lookup(engine: &Engine, req: LookupRequest) -> Result<LookupResponse, Error> {
    let bytes = match (&req.text, &req.bytes) {
        (Some(text), None) => {
            bounds::text("text", text, LOOKUP_MAX_BYTES)?;
            text.as_bytes().to_vec()
        }
        (None, Some(values)) => bounds::byte_string(values, LOOKUP_MAX_BYTES)?,
        _ => {
            return Err(Error::bad(
                "bad_request",
                "send exactly one of text (a string) or bytes (an array of 0..=255)",
            ))
        }
    };
    if bytes.is_empty() {
        return Err(Error::bad("invalid_text", "the text to look up is empty"));
    }
    let tokenizer = &engine.model.tokenizer;
    let id = tokenizer.token_to_id(&bytes);
    let encoded = std::str::from_utf8(&bytes).ok().map(|text| {
        let ids = tokenizer.encode(text);
        ids.into_iter()
            .filter_map(|id| tokenizer.token_info(id))
            .collect()
    });
    Ok(LookupResponse {
        token: id.and_then(|id| tokenizer.token_info(id)),
        id,
        bytes,
        encoded,
    })
}

//! `POST /api/bpe`: how the tokenizer cut a text, pre-token by pre-token, from raw bytes
//! through every merge to the final tokens, for the tokenizer surgery view.

use nexttoken_model::tokenizer::{token_display, MergeStep, PreToken, TokenInfo};
use nexttoken_model::Tokenizer;
use serde::{Deserialize, Serialize};

use crate::bounds::{self, BPE_MAX_BYTES, PARTS_MAX_BYTES};
use crate::{Engine, Error};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BpeRequest {
    text: String,
}

#[derive(Serialize)]
pub struct BpeResponse {
    /// Tokens over all pre-tokens: what `/api/tokenize` counts.
    count: usize,
    pre_tokens: Vec<BpePreToken>,
}

#[derive(Serialize)]
pub struct BpePreToken {
    text: String,
    byte_start: usize,
    byte_end: usize,
    special: bool,
    /// The pre-token's bytes, for the hex view.
    bytes: Vec<u8>,
    /// Where BPE starts: one token per byte, as the chips show them.
    initial: Vec<String>,
    steps: Vec<MergeStep>,
    tokens: Vec<TokenInfo>,
}

pub fn bpe(engine: &Engine, req: BpeRequest) -> Result<BpeResponse, Error> {
    bounds::text("text", &req.text, BPE_MAX_BYTES)?;
    let tokenizer = &engine.model.tokenizer;
    let pre_tokens: Vec<BpePreToken> = tokenizer
        .explain(&req.text)
        .into_iter()
        .map(|p| describe(tokenizer, p))
        .collect();
    let count = pre_tokens.iter().map(|p| p.tokens.len()).sum();
    Ok(BpeResponse { count, pre_tokens })
}

fn describe(tokenizer: &Tokenizer, pre: PreToken) -> BpePreToken {
    let bytes = pre.text.as_bytes().to_vec();
    let mut steps = pre.steps;
    if bytes.len() > PARTS_MAX_BYTES {
        steps.iter_mut().for_each(|s| s.parts.clear());
    }
    let initial = if pre.special {
        Vec::new()
    } else {
        bytes.iter().map(|&b| token_display(&[b])).collect()
    };
    BpePreToken {
        tokens: pre
            .ids
            .iter()
            .filter_map(|&id| tokenizer.token_info(id))
            .collect(),
        text: pre.text,
        byte_start: pre.byte_start,
        byte_end: pre.byte_end,
        special: pre.special,
        bytes,
        initial,
        steps,
    }
}

//! Input checks shared by the analysis views (tokenizer surgery, attention, logit lens). They
//! live here rather than in `limits.rs` so the views add codes without touching the checks
//! every other endpoint relies on.

use nexttoken_model::Model;
use serde_json::Number;

use crate::server::errors::ApiError;
use crate::server::limits;

/// Largest text `/api/bpe` explains; with [`PARTS_MAX_BYTES`] it keeps the answer under 1 MB.
pub const BPE_MAX_BYTES: usize = 2048;
/// Pre-tokens up to this many bytes list every step's parts; longer ones list only the merges,
/// since each step repeats the whole word.
pub const PARTS_MAX_BYTES: usize = 32;
/// Largest text or byte string `/api/vocab/lookup` takes: longer than any GPT-2 token.
pub const LOOKUP_MAX_BYTES: usize = 256;
/// Cells per side of an overview thumbnail.
pub const OVERVIEW_SIZE: std::ops::RangeInclusive<u64> = 1..=64;
pub const DEFAULT_OVERVIEW_SIZE: u64 = 32;
/// Tokens per logit-lens row.
pub const LENS_TOP: std::ops::RangeInclusive<u64> = 1..=20;
pub const DEFAULT_LENS_TOP: u64 = 5;
/// Candidates each side of a comparison lists.
pub const DEFAULT_COMPARE_TOP_N: u64 = 10;

/// Token ids that all fit in the model's positions.
pub fn tokens(model: &Model, ids: &[Number]) -> Result<Vec<u32>, ApiError> {
    limits::token_ids(model, ids, model.config().n_positions)
}

pub fn layer(model: &Model, value: &Number) -> Result<usize, ApiError> {
    let max = model.config().n_layer as u64 - 1;
    let n = limits::int_in("layer", "invalid_layer", Some(value), 0, 0..=max)?;
    Ok(n as usize)
}

pub fn head(model: &Model, value: &Number) -> Result<usize, ApiError> {
    let max = model.config().n_head as u64 - 1;
    let n = limits::int_in("head", "invalid_head", Some(value), 0, 0..=max)?;
    Ok(n as usize)
}

/// A position among `n_tokens`; absent means the last one.
pub fn position(value: Option<&Number>, n_tokens: usize) -> Result<usize, ApiError> {
    let last = n_tokens.saturating_sub(1) as u64;
    let n = limits::int_in("position", "invalid_position", value, last, 0..=last)?;
    Ok(n as usize)
}

pub fn overview_size(value: Option<&Number>) -> Result<usize, ApiError> {
    let n = limits::int_in(
        "size",
        "invalid_size",
        value,
        DEFAULT_OVERVIEW_SIZE,
        OVERVIEW_SIZE,
    )?;
    Ok(n as usize)
}

pub fn lens_top(value: Option<&Number>) -> Result<usize, ApiError> {
    let n = limits::int_in("top", "invalid_top", value, DEFAULT_LENS_TOP, LENS_TOP)?;
    Ok(n as usize)
}

pub fn compare_top_n(value: Option<&Number>) -> Result<usize, ApiError> {
    let n = limits::int_in(
        "top_n",
        "invalid_top_n",
        value,
        DEFAULT_COMPARE_TOP_N,
        limits::TOP_N,
    )?;
    Ok(n as usize)
}

/// The random sequence for induction scores: default 64 tokens, at most half the positions
/// since it is seen twice.
pub fn repeat_len(model: &Model, value: Option<&Number>) -> Result<usize, ApiError> {
    let max = (model.config().n_positions / 2).max(1) as u64;
    let n = limits::int_in(
        "repeat_len",
        "invalid_repeat_len",
        value,
        max.min(64),
        1..=max,
    )?;
    Ok(n as usize)
}

/// A text of at most `max` bytes, else `invalid_text`.
pub fn text(field: &str, text: &str, max: usize) -> Result<(), ApiError> {
    if text.len() > max {
        return Err(ApiError::bad(
            "invalid_text",
            format!(
                "{field} is {} bytes; at most {max} are allowed here",
                text.len()
            ),
        ));
    }
    Ok(())
}

/// A byte string from JSON numbers, each `0..=255`, at most `max` of them.
pub fn byte_string(values: &[Number], max: usize) -> Result<Vec<u8>, ApiError> {
    if values.len() > max {
        return Err(ApiError::bad(
            "invalid_text",
            format!(
                "bytes has {} entries; at most {max} are allowed",
                values.len()
            ),
        ));
    }
    values
        .iter()
        .map(|v| match v.as_u64() {
            Some(b) if b <= 255 => Ok(b as u8),
            _ => Err(ApiError::bad(
                "invalid_bytes",
                format!("bytes must be integers in 0..=255, got {v}"),
            )),
        })
        .collect()
}

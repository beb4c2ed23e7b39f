//! Every bound a request is held to, in one place, and the checks that turn a parsed request
//! into values the model can run, each failure a 400 with its own code. Integers arrive as JSON
//! numbers and are checked here, so a negative or fractional value gets a range message rather
//! than a type error.

use std::ops::RangeInclusive;

use nexttoken_model::{GenerateOptions, Model, Sampling};
use serde::{Deserialize, Deserializer};
use serde_json::Number;

use crate::Error;

/// The bounds an operator may set (`nexttoken serve --max-steps`, `--max-body-bytes`); the
/// page reads them from `/api/model`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Tokens one `/api/trace` may generate.
    pub max_steps: usize,
    /// Request bodies above this are refused with 413.
    pub max_body_bytes: usize,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            max_steps: 64,
            max_body_bytes: 64 * 1024,
        }
    }
}

/// Candidates one step may list.
pub const TOP_N: RangeInclusive<u64> = 1..=100;
pub const DEFAULT_TOP_N: u64 = 30;
/// Seeds and draw indices stay exact in a JavaScript number.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// For optional fields where `null` is a type error, not "absent".
pub fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// `value` (or `default` when absent) as an integer in `range`, else a 400 with `code`.
pub fn int_in(
    field: &str,
    code: &'static str,
    value: Option<&Number>,
    default: u64,
    range: RangeInclusive<u64>,
) -> Result<u64, Error> {
    let Some(number) = value else {
        return Ok(default);
    };
    match number.as_u64() {
        Some(n) if range.contains(&n) => Ok(n),
        _ => Err(Error::bad(
            code,
            format!(
                "{field} must be an integer in {}..={}, got {number}",
                range.start(),
                range.end()
            ),
        )),
    }
}

pub fn top_n(value: Option<&Number>) -> Result<usize, Error> {
    int_in("top_n", "invalid_top_n", value, DEFAULT_TOP_N, TOP_N).map(|n| n as usize)
}

pub fn seed(value: Option<&Number>) -> Result<u64, Error> {
    int_in("seed", "invalid_seed", value, 0, 0..=MAX_SAFE_INTEGER)
}

pub fn sampling(model: &Model, sampling: &Sampling) -> Result<(), Error> {
    sampling
        .validate(model.config().vocab_size)
        .map_err(|msg| Error::bad("invalid_sampling", msg))
}

/// A generation's settings from a request's `sampling`, `seed` and `top_n`, each checked.
pub fn generate_options(
    model: &Model,
    sampling_settings: Sampling,
    seed_value: Option<&Number>,
    top_n_value: Option<&Number>,
) -> Result<GenerateOptions, Error> {
    let options = GenerateOptions {
        sampling: sampling_settings,
        seed: seed(seed_value)?,
        top_n: top_n(top_n_value)?,
    };
    sampling(model, &options.sampling)?;
    Ok(options)
}

/// Token ids inside the vocabulary, at least one, and at most `room` of them (the
/// positions left once the tokens this request adds are counted).
pub fn token_ids(model: &Model, ids: &[Number], room: usize) -> Result<Vec<u32>, Error> {
    if ids.is_empty() {
        return Err(Error::bad(
            "empty_prompt",
            "tokens is empty: send at least one token id",
        ));
    }
    if ids.len() > room {
        return Err(Error::bad(
            "prompt_too_long",
            format!(
                "{} tokens were sent; at most {room} fit here in this model's {} positions",
                ids.len(),
                model.config().n_positions
            ),
        ));
    }
    ids.iter().map(|id| token_id(model, id)).collect()
}

pub fn token_id(model: &Model, id: &Number) -> Result<u32, Error> {
    let vocab = model.config().vocab_size;
    match id.as_u64() {
        Some(n) if n < vocab as u64 => Ok(n as u32),
        _ => Err(Error::bad(
            "invalid_token",
            format!("token id {id} is outside the vocabulary (0..{vocab})"),
        )),
    }
}

/// Encodes a prompt that must leave room for `steps` generated tokens.
pub fn prompt(model: &Model, prompt: &str, steps: usize) -> Result<Vec<u32>, Error> {
    let ids = model.tokenizer.encode(prompt);
    if ids.is_empty() {
        return Err(Error::bad(
            "empty_prompt",
            "the prompt is empty: type at least one character",
        ));
    }
    let max = model.config().n_positions;
    if ids.len() + steps > max {
        let allowed = max.saturating_sub(steps);
        return Err(Error::bad(
            "prompt_too_long",
            format!(
                "the prompt is {} tokens and {steps} steps were asked, but this model reads at \
                 most {max} positions: with {steps} steps the prompt may have {allowed} tokens",
                ids.len()
            ),
        ));
    }
    Ok(ids)
}

/// Tokens a trace generates: default 1, at most `bounds.max_steps`.
pub fn steps(bounds: &Bounds, value: Option<&Number>) -> Result<usize, Error> {
    let max = bounds.max_steps as u64;
    int_in("steps", "invalid_steps", value, 1, 0..=max).map(|n| n as usize)
}

/// The draw index counts generated tokens, so it is below the number of tokens sent (the
/// prompt has at least one).
pub fn draw(value: Option<&Number>, n_tokens: usize) -> Result<u64, Error> {
    let max = (n_tokens as u64).saturating_sub(1).min(MAX_SAFE_INTEGER);
    int_in("draw", "invalid_draw", value, 0, 0..=max)
}

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
pub fn tokens(model: &Model, ids: &[Number]) -> Result<Vec<u32>, Error> {
    token_ids(model, ids, model.config().n_positions)
}

pub fn layer(model: &Model, value: &Number) -> Result<usize, Error> {
    let max = model.config().n_layer as u64 - 1;
    let n = int_in("layer", "invalid_layer", Some(value), 0, 0..=max)?;
    Ok(n as usize)
}

pub fn head(model: &Model, value: &Number) -> Result<usize, Error> {
    let max = model.config().n_head as u64 - 1;
    let n = int_in("head", "invalid_head", Some(value), 0, 0..=max)?;
    Ok(n as usize)
}

/// A position among `n_tokens`; absent means the last one.
pub fn position(value: Option<&Number>, n_tokens: usize) -> Result<usize, Error> {
    let last = n_tokens.saturating_sub(1) as u64;
    let n = int_in("position", "invalid_position", value, last, 0..=last)?;
    Ok(n as usize)
}

pub fn overview_size(value: Option<&Number>) -> Result<usize, Error> {
    let n = int_in(
        "size",
        "invalid_size",
        value,
        DEFAULT_OVERVIEW_SIZE,
        OVERVIEW_SIZE,
    )?;
    Ok(n as usize)
}

pub fn lens_top(value: Option<&Number>) -> Result<usize, Error> {
    let n = int_in("top", "invalid_top", value, DEFAULT_LENS_TOP, LENS_TOP)?;
    Ok(n as usize)
}

pub fn compare_top_n(value: Option<&Number>) -> Result<usize, Error> {
    let n = int_in(
        "top_n",
        "invalid_top_n",
        value,
        DEFAULT_COMPARE_TOP_N,
        TOP_N,
    )?;
    Ok(n as usize)
}

/// The random sequence for induction scores: default 64 tokens, at most half the positions
/// since it is seen twice.
pub fn repeat_len(model: &Model, value: Option<&Number>) -> Result<usize, Error> {
    let max = (model.config().n_positions / 2).max(1) as u64;
    let n = int_in(
        "repeat_len",
        "invalid_repeat_len",
        value,
        max.min(64),
        1..=max,
    )?;
    Ok(n as usize)
}

/// A text of at most `max` bytes, else `invalid_text`.
pub fn text(field: &str, text: &str, max: usize) -> Result<(), Error> {
    if text.len() > max {
        return Err(Error::bad(
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
pub fn byte_string(values: &[Number], max: usize) -> Result<Vec<u8>, Error> {
    if values.len() > max {
        return Err(Error::bad(
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
            _ => Err(Error::bad(
                "invalid_bytes",
                format!("bytes must be integers in 0..=255, got {v}"),
            )),
        })
        .collect()
}

//! The server's limits and the checks that turn a parsed request into values the model can
//! run, each failure a 400 with its own code. Integers arrive as JSON numbers and are checked
//! here, so a negative or fractional value gets a range message rather than a type error.

use std::ops::RangeInclusive;
use std::time::Duration;

use nexttoken_model::{GenerateOptions, Model, Sampling};
use serde::{Deserialize, Deserializer};
use serde_json::Number;

use super::errors::ApiError;
use super::guard::AllowedHosts;
use super::prefix_cache::DEFAULT_BUDGET_BYTES;

/// What the server accepts; the sizes are readable from `/api/model`.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Tokens one `/api/trace` may generate.
    pub max_steps: usize,
    /// Request bodies above this are refused with 413.
    pub max_body_bytes: usize,
    /// Bytes the cache of logits and states may hold (`PrefixCache`).
    pub cache_bytes: usize,
    /// Time to receive a request's body once its headers arrived.
    pub body_timeout: Duration,
    /// Host names requests may be addressed to, beyond loopback names and addresses.
    pub hosts: AllowedHosts,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_steps: 64,
            max_body_bytes: 64 * 1024,
            cache_bytes: DEFAULT_BUDGET_BYTES,
            body_timeout: Duration::from_secs(30),
            hosts: AllowedHosts::default(),
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
) -> Result<u64, ApiError> {
    let Some(number) = value else {
        return Ok(default);
    };
    match number.as_u64() {
        Some(n) if range.contains(&n) => Ok(n),
        _ => Err(ApiError::bad(
            code,
            format!(
                "{field} must be an integer in {}..={}, got {number}",
                range.start(),
                range.end()
            ),
        )),
    }
}

pub fn top_n(value: Option<&Number>) -> Result<usize, ApiError> {
    int_in("top_n", "invalid_top_n", value, DEFAULT_TOP_N, TOP_N).map(|n| n as usize)
}

pub fn seed(value: Option<&Number>) -> Result<u64, ApiError> {
    int_in("seed", "invalid_seed", value, 0, 0..=MAX_SAFE_INTEGER)
}

pub fn sampling(model: &Model, sampling: &Sampling) -> Result<(), ApiError> {
    sampling
        .validate(model.config().vocab_size)
        .map_err(|msg| ApiError::bad("invalid_sampling", msg))
}

/// A generation's settings from a request's `sampling`, `seed` and `top_n`, each checked.
pub fn generate_options(
    model: &Model,
    sampling_settings: Sampling,
    seed_value: Option<&Number>,
    top_n_value: Option<&Number>,
) -> Result<GenerateOptions, ApiError> {
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
pub fn token_ids(model: &Model, ids: &[Number], room: usize) -> Result<Vec<u32>, ApiError> {
    if ids.is_empty() {
        return Err(ApiError::bad(
            "empty_prompt",
            "tokens is empty: send at least one token id",
        ));
    }
    if ids.len() > room {
        return Err(ApiError::bad(
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

pub fn token_id(model: &Model, id: &Number) -> Result<u32, ApiError> {
    let vocab = model.config().vocab_size;
    match id.as_u64() {
        Some(n) if n < vocab as u64 => Ok(n as u32),
        _ => Err(ApiError::bad(
            "invalid_token",
            format!("token id {id} is outside the vocabulary (0..{vocab})"),
        )),
    }
}

/// Encodes a prompt that must leave room for `steps` generated tokens.
pub fn prompt(model: &Model, prompt: &str, steps: usize) -> Result<Vec<u32>, ApiError> {
    let ids = model.tokenizer.encode(prompt);
    if ids.is_empty() {
        return Err(ApiError::bad(
            "empty_prompt",
            "the prompt is empty: type at least one character",
        ));
    }
    let max = model.config().n_positions;
    if ids.len() + steps > max {
        let allowed = max.saturating_sub(steps);
        return Err(ApiError::bad(
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

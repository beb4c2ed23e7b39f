//! `POST /api/pair`: a clean and a corrupted prompt of equal length and an answer pair, run
//! once each, read out before any patching (the lab's side-by-side panel). `/api/patch` takes
//! the same four fields.

use nexttoken_model::patch::Pair;
use serde::Deserialize;
use serde_json::Number;

use crate::bounds::{self, present};
use crate::lab::{pair_report, PairReport, MAX_PAIR_TOKENS};
use crate::{Engine, Error};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairRequest {
    clean: Vec<Number>,
    corrupted: Vec<Number>,
    answer: Number,
    other: Number,
    #[serde(default, deserialize_with = "present")]
    top_n: Option<Number>,
}

pub fn pair(engine: &Engine, req: PairRequest) -> Result<PairReport, Error> {
    let top_n = bounds::compare_top_n(req.top_n.as_ref())?;
    let pair = run_pair(engine, &req.clean, &req.corrupted, &req.answer, &req.other)?;
    Ok(pair_report(&pair, &engine.model, top_n))
}

/// Checks a pair's fields and runs both prompts: each `1..=MAX_PAIR_TOKENS` ids inside the
/// vocabulary, the same number of each, two different answer tokens.
pub(crate) fn run_pair<'m>(
    engine: &'m Engine,
    clean: &[Number],
    corrupted: &[Number],
    answer: &Number,
    other: &Number,
) -> Result<Pair<'m>, Error> {
    let model = &engine.model;
    let room = MAX_PAIR_TOKENS.min(model.config().n_positions);
    let clean = bounds::token_ids(model, clean, room)?;
    let corrupted = bounds::token_ids(model, corrupted, room)?;
    if clean.len() != corrupted.len() {
        return Err(Error::bad(
            "length_mismatch",
            format!(
                "the clean prompt is {} tokens and the corrupted one {}: patching copies \
                 activations position by position, so both need the same number of tokens",
                clean.len(),
                corrupted.len()
            ),
        ));
    }
    let answer = bounds::token_id(model, answer)?;
    let other = bounds::token_id(model, other)?;
    if answer == other {
        return Err(Error::bad(
            "same_answer",
            "answer and other are the same token: their logit difference is always 0",
        ));
    }
    Ok(Pair::new(model, clean, corrupted, answer, other)?)
}

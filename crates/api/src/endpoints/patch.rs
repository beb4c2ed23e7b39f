//! `POST /api/patch`: some rows of an activation-patching sweep on a prompt pair. A page asks
//! for a few rows at a time and fills its heatmap as they come.

use nexttoken_model::patch::{Direction, Sweep};
use serde::Deserialize;
use serde_json::Number;

use super::pair::run_pair;
use crate::bounds::{self, present};
use crate::lab::{sweep_report, SweepReport};
use crate::{Engine, Error};

/// Positions the patched passes of one request may run, summed over its cells: a cell
/// patching position p runs the T − p positions from p on (a head's cell every position).
/// GPT-2 small's whole residual sweep at the 64-token bound is 12 × 2,080 = 24,960.
pub const MAX_PATCHED_POSITIONS: usize = 25_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchRequest {
    clean: Vec<Number>,
    corrupted: Vec<Number>,
    answer: Number,
    other: Number,
    sweep: String,
    #[serde(default, deserialize_with = "present")]
    layer: Option<Number>,
    #[serde(default, deserialize_with = "present")]
    direction: Option<String>,
    /// `[start, end)`; absent means every row.
    #[serde(default, deserialize_with = "present")]
    rows: Option<[Number; 2]>,
}

pub fn patch(engine: &Engine, req: PatchRequest) -> Result<SweepReport, Error> {
    let model = &engine.model;
    let layer = req
        .layer
        .as_ref()
        .map(|l| bounds::layer(model, l))
        .transpose()?;
    let sweep =
        Sweep::parse(&req.sweep, layer).map_err(|e| Error::bad("invalid_sweep", e.to_string()))?;
    let direction = match req.direction.as_deref() {
        None | Some("denoise") => Direction::Denoise,
        Some("noise") => Direction::Noise,
        Some(other) => {
            return Err(Error::bad(
                "invalid_direction",
                format!("direction {other:?} is not one of denoise, noise"),
            ))
        }
    };
    let pair = run_pair(engine, &req.clean, &req.corrupted, &req.answer, &req.other)?;
    let (n_rows, n_cols) = pair.shape(sweep);
    let rows = match &req.rows {
        None => 0..n_rows,
        Some([start, end]) => {
            let range = 0..=n_rows as u64;
            let start = bounds::int_in("rows[0]", "invalid_rows", Some(start), 0, range.clone())?;
            let end = bounds::int_in("rows[1]", "invalid_rows", Some(end), 0, range)?;
            if start >= end {
                return Err(Error::bad(
                    "invalid_rows",
                    format!("rows [{start}, {end}) is empty: the sweep has rows 0..{n_rows}"),
                ));
            }
            start as usize..end as usize
        }
    };
    check_work(sweep, n_cols, pair.len(), rows.len())?;
    Ok(sweep_report(&pair, direction, sweep, Some(rows))?)
}

/// Refuses a request whose `rows` rows would run more than [`MAX_PATCHED_POSITIONS`], saying
/// how many rows fit.
fn check_work(sweep: Sweep, n_cols: usize, t: usize, rows: usize) -> Result<(), Error> {
    // Σ (T − p) over one row's cells; a head's cell patches every position.
    let per_row = match sweep {
        Sweep::Heads => n_cols * t,
        _ => t * (t + 1) / 2,
    };
    let work = per_row * rows;
    if work <= MAX_PATCHED_POSITIONS {
        return Ok(());
    }
    Err(Error::bad(
        "sweep_too_large",
        format!(
            "{rows} rows of this sweep run {work} patched positions; one request may run at \
             most {MAX_PATCHED_POSITIONS}: ask for at most {} rows at a time (rows)",
            MAX_PATCHED_POSITIONS / per_row
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpt2_small_sweeps_fit_at_the_token_bound_and_deeper_models_split() {
        // GPT-2 small, 64 tokens: the whole residual and heads sweeps in one request.
        assert!(check_work(Sweep::Resid, 64, 64, 12).is_ok());
        assert!(check_work(Sweep::Heads, 12, 64, 12).is_ok());
        // SmolLM2's 30 blocks: 12 rows of 2,080 positions fit, 30 do not.
        assert!(check_work(Sweep::Mlp, 64, 64, 12).is_ok());
        let error = check_work(Sweep::Resid, 64, 64, 30).expect_err("over the bound");
        assert_eq!((error.status, error.code), (400, "sweep_too_large"));
        assert!(
            error.message.contains("at most 12 rows"),
            "{}",
            error.message
        );
    }
}

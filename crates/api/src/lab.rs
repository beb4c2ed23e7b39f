//! The Compare & patch lab's answers, shared by `nexttoken patch` and the `/api/pair` and
//! `/api/patch` endpoints (docs/api.md): the readouts of a prompt pair before any patching,
//! and the rows of a patching sweep.

use std::ops::Range;

use nexttoken_model::compute::clock::Stopwatch;
use nexttoken_model::divergence::log_softmax;
use nexttoken_model::generate::namer;
use nexttoken_model::patch::{Direction, Pair, Prompt, Sweep};
use nexttoken_model::trace::TokenRef;
use nexttoken_model::{Model, Result};
use serde::Serialize;

/// Tokens per prompt of a pair: a residual sweep runs n_layer × T patched passes, each
/// resuming at its block and position, so the work grows as T² (about 2 s a block row of
/// GPT-2 small at 64 tokens on two cores).
pub const MAX_PAIR_TOKENS: usize = 64;

/// One candidate at temperature 1.
#[derive(Debug, Serialize)]
pub struct Ranked {
    pub rank: usize,
    pub id: u32,
    pub text: String,
    pub display: String,
    pub logit: f32,
    pub prob: f64,
}

/// The `n` most likely tokens of `logits` (with their log-probabilities), ties by lower id.
pub fn ranked(model: &Model, logits: &[f32], log_probs: &[f64], n: usize) -> Vec<Ranked> {
    let mut ids: Vec<u32> = (0..logits.len() as u32).collect();
    let by_prob = |a: &u32, b: &u32| {
        let (pa, pb) = (log_probs[*a as usize], log_probs[*b as usize]);
        pb.total_cmp(&pa).then(a.cmp(b))
    };
    let n = n.min(ids.len());
    if n < ids.len() {
        ids.select_nth_unstable_by(n, by_prob);
        ids.truncate(n);
    }
    ids.sort_by(by_prob);
    let name = namer(model);
    ids.into_iter()
        .enumerate()
        .map(|(rank, id)| {
            let (text, display) = name(id);
            Ranked {
                rank,
                id,
                text,
                display,
                logit: logits[id as usize],
                prob: log_probs[id as usize].exp(),
            }
        })
        .collect()
}

/// One prompt of the pair, unpatched.
#[derive(Debug, Serialize)]
pub struct PromptReport {
    pub tokens: Vec<TokenRef>,
    /// logit(answer) − logit(other) at the last position.
    pub metric: f32,
    /// The metric read by the logit lens from the residual entering each block, then leaving
    /// the last one: n_layer + 1 values, the last equal to `metric`.
    pub lens: Vec<f32>,
    pub answer_prob: f64,
    pub other_prob: f64,
    /// The most likely next tokens.
    pub top: Vec<Ranked>,
}

#[derive(Debug, Serialize)]
pub struct PairReport {
    pub clean: PromptReport,
    pub corrupted: PromptReport,
    pub answer: TokenRef,
    pub other: TokenRef,
    /// Positions where the two prompts' tokens differ.
    pub differ: Vec<usize>,
    /// KL(clean ‖ corrupted) of the next-token distributions, over the whole vocabulary.
    pub kl_nats: f64,
    pub kl_bits: f64,
}

pub fn pair_report(pair: &Pair, model: &Model, top_n: usize) -> PairReport {
    let prompt = |p: Prompt| {
        let logits = pair.logits(p);
        let log_probs = log_softmax(logits);
        PromptReport {
            tokens: pair
                .tokens(p)
                .iter()
                .map(|&id| TokenRef::of(model, id))
                .collect(),
            metric: pair.metric(p),
            lens: pair.lens(p),
            answer_prob: log_probs[pair.answer as usize].exp(),
            other_prob: log_probs[pair.other as usize].exp(),
            top: ranked(model, logits, &log_probs, top_n),
        }
    };
    let (clean, corrupted) = (pair.tokens(Prompt::Clean), pair.tokens(Prompt::Corrupted));
    let kl_nats = pair.kl_nats();
    PairReport {
        clean: prompt(Prompt::Clean),
        corrupted: prompt(Prompt::Corrupted),
        answer: TokenRef::of(model, pair.answer),
        other: TokenRef::of(model, pair.other),
        differ: (0..pair.len())
            .filter(|&i| clean[i] != corrupted[i])
            .collect(),
        kl_nats,
        kl_bits: kl_nats / std::f64::consts::LN_2,
    }
}

/// Some rows of a sweep.
#[derive(Debug, Serialize)]
pub struct SweepReport {
    pub sweep: &'static str,
    /// The block of a `head_pos` sweep.
    pub layer: Option<usize>,
    pub direction: &'static str,
    /// What the rows and the columns are: `layer`, `head` or `position`.
    pub axes: [&'static str; 2],
    /// Rows × columns of the whole sweep.
    pub shape: [usize; 2],
    pub clean_metric: f32,
    pub corrupted_metric: f32,
    pub rows: Vec<SweepRow>,
    /// Time the patched passes took (the pair's two runs excluded).
    pub elapsed_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct SweepRow {
    pub row: usize,
    /// The patched run's metric, per column.
    pub metric: Vec<f32>,
    /// (patched − corrupted) / (clean − corrupted); `null` when clean and corrupted agree.
    pub restored: Vec<Option<f32>>,
}

pub fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::Denoise => "denoise",
        Direction::Noise => "noise",
    }
}

/// Rows `rows` of `sweep` (all of them when `None`).
pub fn sweep_report(
    pair: &Pair,
    direction: Direction,
    sweep: Sweep,
    rows: Option<Range<usize>>,
) -> Result<SweepReport> {
    let (n_rows, n_cols) = pair.shape(sweep);
    // Stopwatch, not Instant: the browser engine has no std clock.
    let start = Stopwatch::start();
    let mut out = Vec::new();
    pair.sweep(
        direction,
        sweep,
        rows.unwrap_or(0..n_rows),
        |row, metric| {
            let restored = metric.iter().map(|&m| pair.normalise(m)).collect();
            out.push(SweepRow {
                row,
                metric,
                restored,
            });
        },
    )?;
    let (rows_axis, cols_axis) = sweep.axes();
    Ok(SweepReport {
        sweep: sweep.name(),
        layer: match sweep {
            Sweep::HeadPos(l) => Some(l),
            _ => None,
        },
        direction: direction_name(direction),
        axes: [rows_axis, cols_axis],
        shape: [n_rows, n_cols],
        clean_metric: pair.metric(Prompt::Clean),
        corrupted_metric: pair.metric(Prompt::Corrupted),
        rows: out,
        elapsed_ms: start.elapsed_ms(),
    })
}

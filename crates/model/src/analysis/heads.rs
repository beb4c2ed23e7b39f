//! Attention heads, read from their patterns: one head's pattern on demand, and scores that
//! find previous-token, first-token and induction heads.

use serde::Serialize;

use super::recorder::Recorder;
use crate::arch::KvCache;
use crate::generation::sampling::uniform;
use crate::model::Model;
use crate::{Error, Result};

/// How one head attends, averaged over query positions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeadScore {
    pub layer: usize,
    pub head: usize,
    /// Mean attention from each position to the one before it, on the prompt.
    pub prev_token: f32,
    /// Mean attention to the first position, on the prompt.
    pub first_token: f32,
    /// On a random sequence repeated twice: mean attention from a token in the second copy
    /// to the token just after its first occurrence (what an induction head does).
    pub induction: f32,
}

/// Keeps one head's pattern (T, S) of one layer.
struct OneHead {
    hook: String,
    head: usize,
    pattern: Vec<f32>,
}

impl Recorder for OneHead {
    fn wants(&self, name: &str) -> bool {
        name == self.hook
    }

    fn record(&mut self, _: &str, shape: &[usize], data: &[f32]) {
        let (t, s) = (shape[1], shape[2]);
        self.pattern = data[self.head * t * s..(self.head + 1) * t * s].to_vec();
    }
}

/// The attention pattern (T, T) of `head` in `layer` on `tokens`: row i, column j is how
/// much position i attends to position j.
pub fn pattern(model: &Model, tokens: &[u32], layer: usize, head: usize) -> Result<Vec<f32>> {
    let c = model.config();
    if layer >= c.n_layer || head >= c.n_head {
        return Err(Error::Input(format!(
            "layer {layer}, head {head} does not exist ({} layers × {} heads)",
            c.n_layer, c.n_head
        )));
    }
    let mut rec = OneHead {
        hook: format!("blocks.{layer}.attn.hook_pattern"),
        head,
        pattern: Vec::new(),
    };
    model.forward(tokens, &mut KvCache::new(c), &mut rec)?;
    Ok(rec.pattern)
}

/// A score of one query's row of a pattern: `(row, query)`, `None` where it does not apply.
type Score = Box<dyn Fn(&[f32], usize) -> Option<f32> + Send>;

/// Averages each of `scores` over queries, per head, without storing any pattern: one forward
/// pass for all of them.
struct Averages {
    scores: Vec<Score>,
    sums: Vec<Vec<Vec<f32>>>, // (L, H, scores)
}

impl Recorder for Averages {
    fn wants(&self, name: &str) -> bool {
        name.ends_with(".attn.hook_pattern")
    }

    fn record(&mut self, _: &str, shape: &[usize], data: &[f32]) {
        let (h, t, s) = (shape[0], shape[1], shape[2]);
        let per_head = (0..h)
            .map(|head| {
                let rows = (0..t).map(|i| (&data[(head * t + i) * s..][..s], i));
                // The mean of no scores (no previous token in a one-token prompt) is +0:
                // `f32`'s `Sum` starts at −0.0, which JSON shows as `-0.0`.
                let mean = |score: &Score| {
                    let (sum, n) = rows
                        .clone()
                        .filter_map(|(row, i)| score(row, i))
                        .fold((0.0, 0), |(sum, n), x| (sum + x, n + 1));
                    sum / n.max(1) as f32
                };
                self.scores.iter().map(mean).collect()
            })
            .collect();
        self.sums.push(per_head);
    }
}

fn averages(model: &Model, tokens: &[u32], scores: Vec<Score>) -> Result<Vec<Vec<Vec<f32>>>> {
    let mut rec = Averages {
        scores,
        sums: Vec::new(),
    };
    model.forward(tokens, &mut KvCache::new(model.config()), &mut rec)?;
    Ok(rec.sums)
}

/// Scores every head: previous- and first-token attention on `tokens`, induction on
/// `repeat_len` random tokens (drawn with `seed`) seen twice. Two forward passes.
pub fn head_scores(
    model: &Model,
    tokens: &[u32],
    repeat_len: usize,
    seed: u64,
) -> Result<Vec<HeadScore>> {
    let previous: Score = Box::new(|row, i| (i > 0).then(|| row[i - 1]));
    let first: Score = Box::new(|row, _| Some(row[0]));
    let prompt = averages(model, tokens, vec![previous, first])?;
    let repeated = repeated_random(model.config().vocab_size, repeat_len, seed);
    let n = repeat_len;
    // Query i in the second copy saw its token first at i - n; the induction target is i - n + 1.
    let induction: Score = Box::new(move |row, i| (i >= n).then(|| row[i - n + 1]));
    let induction = averages(model, &repeated, vec![induction])?;
    let c = model.config();
    let scores = (0..c.n_layer).flat_map(|layer| (0..c.n_head).map(move |head| (layer, head)));
    Ok(scores
        .map(|(layer, head)| HeadScore {
            layer,
            head,
            prev_token: prompt[layer][head][0],
            first_token: prompt[layer][head][1],
            induction: induction[layer][head][0],
        })
        .collect())
}

/// `n` random token ids followed by the same `n` again.
pub fn repeated_random(vocab: usize, n: usize, seed: u64) -> Vec<u32> {
    let first: Vec<u32> = (0..n as u64)
        .map(|i| (uniform(seed, i) * vocab as f64) as u32)
        .collect();
    [first.clone(), first].concat()
}

//! How surprising each token of a sequence was to the model, and the layer where the model
//! committed to its own pick for that slot: the first logit-lens row from which the lens's top
//! token stays the final top token.

use serde::Serialize;

use super::recorder::ActivationCache;
use crate::arch::KvCache;
use crate::model::Model;
use crate::Result;

/// Positions decoded at once: bounds the logits held (rows × V floats).
const ROWS: usize = 64;

/// What the model thought of one token before it saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Surprise {
    /// −log2 p(token | the tokens before it), at temperature 1; `None` for the first token,
    /// which nothing before predicts.
    pub surprisal_bits: Option<f64>,
    /// The model's own most likely token for this slot (ties: the lower id).
    pub top_id: Option<u32>,
    /// The first logit-lens row from which the top token stays `top_id`: row `L` reads the
    /// residual entering block `L`, row `n_layer` the one leaving the last block. 0 means the
    /// embedding alone already pointed at it.
    pub committed: Option<usize>,
}

/// Surprisal and the committing layer of every token of `tokens`, in one forward pass and the
/// logit lens at every position. Rows are decoded from the last layer down, and a position
/// stops at the first layer whose top token differs, so a late decision costs a few layers.
pub fn surprisal(model: &Model, tokens: &[u32]) -> Result<Vec<Surprise>> {
    let n_layer = model.config().n_layer;
    let mut hooks: Vec<String> = (0..n_layer)
        .map(|l| format!("blocks.{l}.hook_resid_pre"))
        .collect();
    hooks.push(format!("blocks.{}.hook_resid_post", n_layer - 1));
    let names: Vec<&str> = hooks.iter().map(String::as_str).collect();
    let mut cache = ActivationCache::only(&names);
    model.forward(tokens, &mut KvCache::new(model.config()), &mut cache)?;
    // Position i predicts token i + 1: the last position predicts none of these.
    let predicting: Vec<usize> = (0..tokens.len() - 1).collect();
    let mut out = vec![
        Surprise {
            surprisal_bits: None,
            top_id: None,
            committed: None,
        };
        tokens.len()
    ];
    let last = &cache.entries[n_layer].data;
    let mut top = vec![0u32; predicting.len()];
    decode_rows(model, last, &predicting, |i, logits| {
        top[i] = argmax(logits);
        out[i + 1] = Surprise {
            surprisal_bits: Some(surprisal_bits(logits, tokens[i + 1])),
            top_id: Some(top[i]),
            committed: Some(n_layer),
        };
    });
    let mut pending = predicting;
    for row in (0..n_layer).rev() {
        let mut still = Vec::new();
        decode_rows(model, &cache.entries[row].data, &pending, |i, logits| {
            if argmax(logits) == top[i] {
                out[i + 1].committed = Some(row);
                still.push(i);
            }
        });
        pending = still;
    }
    Ok(out)
}

/// Decodes the residual rows `positions` of `resid` (T, C) with the final norm and the
/// unembedding, `ROWS` at a time, handing each position's logits (V,) to `f`.
fn decode_rows(
    model: &Model,
    resid: &[f32],
    positions: &[usize],
    mut f: impl FnMut(usize, &[f32]),
) {
    let (e, v) = (model.config().n_embd, model.config().vocab_size);
    for chunk in positions.chunks(ROWS) {
        let rows: Vec<f32> = chunk
            .iter()
            .flat_map(|&p| resid[p * e..(p + 1) * e].iter().copied())
            .collect(); // (rows, C)
        let logits = model.arch.decode_residual(&rows); // (rows, V)
        for (&p, l) in chunk.iter().zip(logits.chunks_exact(v)) {
            f(p, l);
        }
    }
}

/// −log2 softmax(logits)[id], in f64 so a nearly certain token still reads a small positive
/// number.
fn surprisal_bits(logits: &[f32], id: u32) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = logits.iter().map(|&l| (l as f64 - max).exp()).sum();
    let log_p = logits[id as usize] as f64 - max - sum.ln();
    -log_p / std::f64::consts::LN_2
}

/// The first index of the largest value.
fn argmax(x: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &v) in x.iter().enumerate() {
        if v > x[best] {
            best = i;
        }
    }
    best as u32
}

//! The logit lens: decode every layer's residual stream as if it were the last one
//! (`ln_f`, then the unembedding), to watch the prediction form across layers.

use serde::Serialize;

use super::recorder::{Activation, ActivationCache};
use crate::arch::KvCache;
use crate::compute::ops::softmax;
use crate::generation::generate::namer;
use crate::model::Model;
use crate::{Error, Result};

/// What one layer's residual decodes to at the chosen position.
#[derive(Debug, Clone, Serialize)]
pub struct LensRow {
    /// `blocks.{L}.hook_resid_pre`, or the last block's `hook_resid_post` for the final row.
    pub hook: String,
    pub top: Vec<LensToken>,
    /// Rank (0 = most likely) and probability of the model's final prediction at this layer.
    pub final_rank: usize,
    pub final_prob: f32,
}

#[derive(Debug, Clone, Serialize)]
pub struct LensToken {
    pub id: u32,
    pub text: String,
    pub display: String,
    pub prob: f32,
}

#[derive(Debug, Clone, Serialize)]
pub struct LogitLens {
    pub position: usize,
    /// The token the full model predicts after `position` (argmax of the real logits).
    pub final_id: u32,
    /// n_layer + 1 rows: the residual entering each block, then leaving the last one.
    pub rows: Vec<LensRow>,
}

/// Runs `tokens` and decodes the residual at `position` after every layer; `top` tokens per row.
pub fn logit_lens(model: &Model, tokens: &[u32], position: usize, top: usize) -> Result<LogitLens> {
    check_position(position, tokens.len())?;
    LensStream::record(model, tokens)?.at(model, position, top)
}

/// The residual stream of one sequence at every layer: what the lens decodes. One forward pass
/// records it; any position can then be decoded without another (a server keeps it while a
/// reader moves along the same text).
pub struct LensStream {
    /// Every `blocks.{L}.hook_resid_pre`, then the last block's `hook_resid_post`: (T, C) each.
    layers: Vec<Activation>,
    tokens: usize,
}

impl LensStream {
    pub fn record(model: &Model, tokens: &[u32]) -> Result<LensStream> {
        let n_layer = model.config().n_layer;
        let mut hooks: Vec<String> = (0..n_layer)
            .map(|l| format!("blocks.{l}.hook_resid_pre"))
            .collect();
        hooks.push(format!("blocks.{}.hook_resid_post", n_layer - 1));
        let names: Vec<&str> = hooks.iter().map(String::as_str).collect();
        let mut cache = ActivationCache::only(&names);
        model.forward(tokens, &mut KvCache::new(model.config()), &mut cache)?;
        // The hooks in the order they fired: every resid_pre, then the last resid_post.
        Ok(LensStream {
            layers: cache.entries,
            tokens: tokens.len(),
        })
    }

    /// Decodes the residual at `position` after every layer; `top` tokens per row.
    pub fn at(&self, model: &Model, position: usize, top: usize) -> Result<LogitLens> {
        check_position(position, self.tokens)?;
        let probs: Vec<Vec<f32>> = self
            .layers
            .iter()
            .map(|a| decode(model, &a.data, position))
            .collect(); // (L + 1, V)
        let final_id = argmax(&probs[probs.len() - 1]);
        let name = namer(model);
        let rows = self
            .layers
            .iter()
            .zip(&probs)
            .map(|(act, p)| {
                let order = top_ids(p, top);
                let top = order.iter().map(|&id| {
                    let (text, display) = name(id);
                    LensToken {
                        id,
                        text,
                        display,
                        prob: p[id as usize],
                    }
                });
                let final_prob = p[final_id as usize];
                LensRow {
                    hook: act.name.clone(),
                    top: top.collect(),
                    final_rank: p.iter().filter(|&&q| q > final_prob).count(),
                    final_prob,
                }
            })
            .collect();
        Ok(LogitLens {
            position,
            final_id,
            rows,
        })
    }
}

fn check_position(position: usize, tokens: usize) -> Result<()> {
    if position >= tokens {
        return Err(Error::Input(format!(
            "position {position} is outside the {tokens} tokens"
        )));
    }
    Ok(())
}

/// softmax(unembed(final_norm(resid[position]))): the residual (T, C) read as a final
/// prediction.
fn decode(model: &Model, resid: &[f32], position: usize) -> Vec<f32> {
    let e = model.config().n_embd;
    let row = &resid[position * e..(position + 1) * e]; // (C,)
    let mut logits = model.arch.decode_residual(row); // (V,)
    softmax(&mut logits);
    logits
}

/// The `n` most probable ids, most probable first (ties: lower id first).
fn top_ids(p: &[f32], n: usize) -> Vec<u32> {
    let mut ids: Vec<u32> = (0..p.len() as u32).collect();
    let by_prob = |a: &u32, b: &u32| p[*b as usize].total_cmp(&p[*a as usize]).then(a.cmp(b));
    let n = n.min(ids.len());
    if n < ids.len() {
        ids.select_nth_unstable_by(n, by_prob);
        ids.truncate(n);
    }
    ids.sort_by(by_prob);
    ids
}

fn argmax(p: &[f32]) -> u32 {
    top_ids(p, 1)[0]
}

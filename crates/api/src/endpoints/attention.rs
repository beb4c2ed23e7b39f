//! `POST /api/attention` (one head's full pattern) and `POST /api/attention/overview` (every
//! head of one layer as a small thumbnail): the page asks for one layer or one head at a time,
//! so a long prompt never sends every pattern at once. The thumbnails of every layer come from
//! one forward pass, kept for the next layers' requests.

use nexttoken_model::heads::pattern;
use nexttoken_model::{KvCache, Model, Recorder};
use serde::{Deserialize, Serialize};
use serde_json::Number;

use crate::bounds::{self, present};
use crate::{Engine, Error};

/// Decimals kept per weight: enough for any colour scale, and it keeps a 1,024-token pattern
/// (525k numbers in its lower triangle) under 4 MB of JSON.
const DECIMALS: f32 = 1e4;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttentionRequest {
    tokens: Vec<Number>,
    layer: Number,
    head: Number,
}

#[derive(Serialize)]
pub struct AttentionResponse {
    layer: usize,
    head: usize,
    /// Row `i` is query position `i`: its weights on keys `0..=i` (later keys are masked, 0).
    pattern: Vec<Vec<f32>>,
}

pub fn attention(engine: &Engine, req: AttentionRequest) -> Result<AttentionResponse, Error> {
    let model = &engine.model;
    let tokens = bounds::tokens(model, &req.tokens)?;
    let layer = bounds::layer(model, &req.layer)?;
    let head = bounds::head(model, &req.head)?;
    let t = tokens.len();
    let full = pattern(model, &tokens, layer, head)?;
    let pattern = (0..t)
        .map(|i| full[i * t..=i * t + i].iter().map(|&w| round(w)).collect())
        .collect();
    Ok(AttentionResponse {
        layer,
        head,
        pattern,
    })
}

fn round(w: f32) -> f32 {
    (w * DECIMALS).round() / DECIMALS
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverviewRequest {
    tokens: Vec<Number>,
    layer: Number,
    #[serde(default, deserialize_with = "present")]
    size: Option<Number>,
}

#[derive(Serialize)]
pub struct OverviewResponse {
    layer: usize,
    /// Tokens in the prompt.
    tokens: usize,
    /// Cells per side: `min(size, tokens)`. Cell (r, c) averages the weights of the queries and
    /// keys that fall in row bin r and column bin c, masked ones counted as 0.
    size: usize,
    /// One `size × size` grid per head, in head order.
    heads: Vec<Vec<Vec<f32>>>,
}

pub fn overview(engine: &Engine, req: OverviewRequest) -> Result<OverviewResponse, Error> {
    let model = &engine.model;
    let tokens = bounds::tokens(model, &req.tokens)?;
    let layer = bounds::layer(model, &req.layer)?;
    let t = tokens.len();
    let size = bounds::overview_size(req.size.as_ref())?.min(t);
    let all = engine
        .overviews
        .get_or_make((tokens.clone(), size), || every_layer(model, &tokens, size))?;
    Ok(OverviewResponse {
        layer,
        tokens: t,
        size,
        heads: all[layer].clone(),
    })
}

/// `[layer][head]` → a `size × size` grid.
pub type Thumbnails = Vec<Vec<Vec<Vec<f32>>>>;

/// Every layer's heads downsampled to `size × size`, from one forward pass that keeps one
/// layer's patterns at a time.
fn every_layer(model: &Model, tokens: &[u32], size: usize) -> Result<Thumbnails, Error> {
    let mut rec = Downsampled {
        size,
        layers: Vec::new(),
    };
    model.forward(tokens, &mut KvCache::new(model.config()), &mut rec)?;
    Ok(rec.layers)
}

struct Downsampled {
    size: usize,
    layers: Thumbnails,
}

impl Recorder for Downsampled {
    fn wants(&self, name: &str) -> bool {
        name.ends_with(".attn.hook_pattern")
    }

    fn record(&mut self, _: &str, shape: &[usize], data: &[f32]) {
        let (t, s) = (shape[1], shape[2]); // (H, T, T)
        let heads = data.chunks(t * s).map(|g| downsample(g, t, self.size));
        self.layers.push(heads.collect());
    }
}

/// Averages a `t × t` grid into `size × size` bins; bin `b` covers `b·t/size .. (b+1)·t/size`.
fn downsample(grid: &[f32], t: usize, size: usize) -> Vec<Vec<f32>> {
    let bin = |b: usize| (b * t / size)..((b + 1) * t / size);
    (0..size)
        .map(|r| {
            (0..size)
                .map(|c| {
                    let (rows, cols) = (bin(r), bin(c));
                    let n = (rows.len() * cols.len()).max(1) as f32;
                    let sum: f32 = rows.flat_map(|i| grid[i * t..][cols.clone()].iter()).sum();
                    round(sum / n)
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downsample_averages_blocks_and_keeps_small_grids() {
        // 4 × 4, values 0..16 row-major, into 2 × 2 blocks.
        let grid: Vec<f32> = (0..16).map(|v| v as f32).collect();
        assert_eq!(
            downsample(&grid, 4, 2),
            vec![vec![2.5, 4.5], vec![10.5, 12.5]]
        );
        let same = downsample(&grid, 4, 4);
        assert_eq!(same[3][2], 14.0);
    }

    #[test]
    fn downsample_covers_uneven_bins() {
        // 5 positions into 2 bins: 0..2 and 2..5.
        let grid = vec![1.0; 25];
        let cells = downsample(&grid, 5, 2);
        assert!(cells.iter().flatten().all(|&c| c == 1.0));
    }
}

//! Causal multi-head self-attention (`h.{i}.attn`): each sequence's new positions attend to
//! everything in its own KV cache. Every (sequence, head) pair runs on the pool on its own.

use rayon::prelude::*;

use crate::buf::Data;
use crate::config::Config;
use crate::forward::{record, KvCache, Sequence};
use crate::kernels::Shape;
use crate::ops::{linear, matmul_strided, softmax};
use crate::weights::Attention;

/// Sizes for one head's attention: width C, head width D, new positions T, cached S.
#[derive(Clone, Copy)]
struct HeadDims {
    e: usize,
    d: usize,
    t: usize,
    s: usize,
}

/// Attention of layer `l` for the stacked new rows `h` (T, C) of every sequence in `batch`.
/// Appends each sequence's keys and values to its cache and returns the output (T, C).
pub(crate) fn attention(
    c: &Config,
    l: usize,
    w: &Attention,
    h: &[f32],
    batch: &mut [Sequence],
) -> Vec<f32> {
    let (e, n_head, d) = (c.n_embd, c.n_head, c.head_dim());
    let qkv = linear(h, &w.c_attn); // (T, 3C)
    let mut first_row = Vec::with_capacity(batch.len()); // where each sequence's rows start
    let mut row = 0;
    for seq in batch.iter_mut() {
        first_row.push(row);
        let rows = &qkv[row * 3 * e..(row + seq.tokens.len()) * 3 * e];
        for r in rows.chunks_exact(3 * e) {
            seq.cache.keys[l].extend_from_slice(&r[e..2 * e]); // (S, C)
            seq.cache.values[l].extend_from_slice(&r[2 * e..]); // (S, C)
        }
        row += seq.tokens.len();
    }
    let dims: Vec<HeadDims> = batch
        .iter()
        .map(|seq| HeadDims {
            e,
            d,
            t: seq.tokens.len(),
            s: seq.cache.keys[l].len() / e, // positions in the cache, the new ones included
        })
        .collect();
    let mut patterns: Vec<Vec<f32>> = dims
        .iter()
        .map(|dm| vec![0.0; n_head * dm.t * dm.s]) // (H, T, S)
        .collect();
    let tasks: Vec<(usize, usize, &mut [f32])> = patterns
        .iter_mut()
        .enumerate()
        .flat_map(|(i, p)| {
            let size = dims[i].t * dims[i].s;
            p.chunks_exact_mut(size)
                .enumerate()
                .map(move |(head, p)| (i, head, p))
        })
        .collect();
    let caches: Vec<&KvCache> = batch.iter().map(|seq| &*seq.cache).collect();
    let outs: Vec<Vec<f32>> = tasks
        .into_par_iter()
        .map(|(i, head, p)| {
            let cache = caches[i];
            let q = &qkv[first_row[i] * 3 * e..];
            attend(head, p, q, &cache.keys[l], &cache.values[l], dims[i])
        })
        .collect(); // (sequence, head) × (T, D)
    let mut z = vec![0.0; row * e]; // (T, C): the heads' outputs side by side
    for (k, out) in outs.iter().enumerate() {
        let (i, head) = (k / n_head, k % n_head);
        let rows = z[first_row[i] * e..].chunks_exact_mut(e);
        for (z, o) in rows.zip(out.chunks_exact(d)) {
            z[head * d..(head + 1) * d].copy_from_slice(o);
        }
    }
    let name = format!("blocks.{l}.attn.hook_pattern");
    for ((p, dm), seq) in patterns.iter().zip(&dims).zip(batch.iter_mut()) {
        if let Some(rec) = seq.rec.as_deref_mut() {
            record(rec, &name, &[n_head, dm.t, dm.s], p);
        }
    }
    linear(&z, &w.c_proj) // (T, C)
}

/// One head: scores (T, S) = q kᵀ / √D, causal softmax, then the pattern-weighted sum of
/// values (T, D). The head's q, k and v are width-D slices of wider rows (`qkv` (T, 3C), the
/// cache's (S, C)), so the products read them with row strides. Writes the pattern (T, S)
/// into `p` and returns the output.
fn attend(
    head: usize,
    p: &mut [f32],
    qkv: &[f32],
    keys: &[f32],
    values: &[f32],
    HeadDims { e, d, t, s }: HeadDims,
) -> Vec<f32> {
    let scale = 1.0 / (d as f32).sqrt();
    let qk = Shape {
        m: t,
        k: d,
        n: s,
        xs: 3 * e,
        ws: e,
    };
    matmul_strided(&qkv[head * d..], Data::F32(&keys[head * d..]), p, qk, true);
    for (i, row) in p.chunks_exact_mut(s).enumerate() {
        let visible = s - t + i + 1; // causal: a query sees itself and the past
        row[..visible].iter_mut().for_each(|v| *v *= scale);
        softmax(&mut row[..visible]);
        row[visible..].fill(0.0);
    }
    let mut out = vec![0.0; t * d]; // (T, D)
    let pv = Shape {
        m: t,
        k: s,
        n: d,
        xs: s,
        ws: e,
    };
    matmul_strided(p, Data::F32(&values[head * d..]), &mut out, pv, false);
    out
}

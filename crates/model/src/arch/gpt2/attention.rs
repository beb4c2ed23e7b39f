//! Causal multi-head self-attention (`h.{i}.attn`): each sequence's new positions attend to
//! everything in its own KV cache.
//!
//! The work is split into tasks of one head and up to [`ROWS`] query rows, run on the pool. A
//! task's scores are only those its rows can see (causal: a block of rows needs the keys up to
//! its last row's position), in a scratch the size of the block, not a (T, S) matrix per head:
//! for a long prompt that matrix is tens of megabytes per layer, and allocating it every layer
//! cost more in page faults than the attention itself. The full pattern is built only for a
//! recorder that asks for it.

use rayon::prelude::*;

use super::config::Config;
use super::forward::{record, KvCache, Sequence};
use super::weights::Attention;
use crate::compute::buf::Data;
use crate::compute::kernels::Shape;
use crate::compute::ops::{linear, matmul_strided, softmax};

/// Query rows per task.
const ROWS: usize = 64;

/// Sizes for one head's attention: width C, head width D, new positions T, cached S.
#[derive(Clone, Copy)]
struct HeadDims {
    e: usize,
    d: usize,
    t: usize,
    s: usize,
}

/// One task: sequence `seq`, head `head`, new rows `r0..r1`, and where its rows of the
/// sequence's pattern (H, T, S) go when it is recorded.
struct Task<'a> {
    seq: usize,
    head: usize,
    r0: usize,
    r1: usize,
    pattern: Option<&'a mut [f32]>, // (r1 - r0, S)
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
    let name = format!("blocks.{l}.attn.hook_pattern");
    let mut patterns: Vec<Option<Vec<f32>>> = batch
        .iter()
        .zip(&dims)
        .map(|(seq, dm)| seq.wants(&name).then(|| vec![0.0; n_head * dm.t * dm.s])) // (H, T, S)
        .collect();
    let tasks = tasks(&dims, n_head, &mut patterns);
    let caches: Vec<&KvCache> = batch.iter().map(|seq| &*seq.cache).collect();
    let outs: Vec<((usize, usize, usize), Vec<f32>)> = tasks
        .into_par_iter()
        .map(|task| {
            let (cache, dm) = (caches[task.seq], dims[task.seq]);
            let q = &qkv[first_row[task.seq] * 3 * e..];
            let at = (task.seq, task.head, task.r0);
            (at, attend(task, q, &cache.keys[l], &cache.values[l], dm))
        })
        .collect(); // per task: (sequence, head, first row) and the output (r1 - r0, D)
    let mut z = vec![0.0; row * e]; // (T, C): the heads' outputs side by side
    for ((i, head, r0), out) in &outs {
        let rows = z[(first_row[*i] + r0) * e..].chunks_exact_mut(e);
        for (z, o) in rows.zip(out.chunks_exact(d)) {
            z[head * d..(head + 1) * d].copy_from_slice(o);
        }
    }
    for (p, (seq, dm)) in patterns.iter().zip(batch.iter_mut().zip(&dims)) {
        if let (Some(p), Some(rec)) = (p, seq.rec.as_deref_mut()) {
            record(rec, &name, &[n_head, dm.t, dm.s], p);
        }
    }
    linear(&z, &w.c_proj) // (T, C)
}

/// Every task, each with its rows of its sequence's pattern when that is recorded.
fn tasks<'a>(
    dims: &[HeadDims],
    n_head: usize,
    patterns: &'a mut [Option<Vec<f32>>],
) -> Vec<Task<'a>> {
    let mut tasks = Vec::new();
    for (seq, (dm, pattern)) in dims.iter().zip(patterns).enumerate() {
        let (t, s) = (dm.t, dm.s);
        // Each head's rows (T, S) in blocks of ROWS rows, in the order the tasks take them.
        let mut blocks = pattern
            .iter_mut()
            .flat_map(|p| p.chunks_mut(t * s))
            .flat_map(|head| head.chunks_mut(ROWS * s));
        for head in 0..n_head {
            for r0 in (0..t).step_by(ROWS) {
                let r1 = (r0 + ROWS).min(t);
                let pattern = blocks.next();
                tasks.push(Task {
                    seq,
                    head,
                    r0,
                    r1,
                    pattern,
                });
            }
        }
    }
    tasks
}

/// One task: scores q kᵀ / √D of rows r0..r1 against the keys they can see, causal softmax,
/// then the pattern-weighted sum of values (r1 - r0, D). The head's q, k and v are width-D
/// slices of wider rows (`qkv` (T, 3C), the cache's (S, C)), read with row strides.
fn attend(task: Task, qkv: &[f32], keys: &[f32], values: &[f32], dm: HeadDims) -> Vec<f32> {
    let HeadDims { e, d, t, s } = dm;
    let (rows, off) = (task.r1 - task.r0, task.head * d);
    let seen = s - t + task.r1; // keys visible to the block's last row
    let mut p = vec![0.0; rows * seen]; // (rows, seen)
    let qk = Shape {
        m: rows,
        k: d,
        n: seen,
        xs: 3 * e,
        ws: e,
    };
    let q = &qkv[task.r0 * 3 * e + off..];
    matmul_strided(q, Data::F32(&keys[off..]), &mut p, qk, true);
    let scale = 1.0 / (d as f32).sqrt();
    for (i, row) in p.chunks_exact_mut(seen).enumerate() {
        let visible = s - t + task.r0 + i + 1; // causal: a query sees itself and the past
        row[..visible].iter_mut().for_each(|v| *v *= scale);
        softmax(&mut row[..visible]);
        row[visible..].fill(0.0);
    }
    if let Some(pattern) = task.pattern {
        for (dst, src) in pattern.chunks_exact_mut(s).zip(p.chunks_exact(seen)) {
            dst[..seen].copy_from_slice(src); // the rest stays 0: masked
        }
    }
    let mut out = vec![0.0; rows * d]; // (rows, D)
    let pv = Shape {
        m: rows,
        k: seen,
        n: d,
        xs: seen,
        ws: e,
    };
    matmul_strided(&p, Data::F32(&values[off..]), &mut out, pv, false);
    out
}

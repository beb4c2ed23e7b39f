//! Causal self-attention over a KV cache, shared by every family: each sequence's new
//! positions attend to everything in its own cache. The family's forward pass makes the
//! queries, appends the new keys and values to the cache (rotating them first if it uses
//! rotary positions), calls [`attend`], and projects the heads' outputs back.
//!
//! Query head `h` reads key/value head `h / (n_head / n_kv_head)`: with as many key/value
//! heads as query heads that is plain multi-head attention (GPT-2), with fewer it is grouped
//! (Llama).
//!
//! [`attend`] splits the work into tasks of one head and up to [`ROWS`] query rows, run on the
//! pool. A task's scores are only those its rows can see (causal: a block of rows needs the
//! keys up to its last row's position), in a scratch the size of the block, not a (T, S)
//! matrix per head: for a long prompt that matrix is tens of megabytes per layer, and
//! allocating it every layer cost more in page faults than the attention itself. The full
//! pattern is built only for a recorder that asks for it. [`reference`] is the textbook
//! version, one score at a time, which the tests hold it to.

use rayon::prelude::*;

use super::sequence::{hook_rows, record, KvCache, Sequence};
use super::Dims;
use crate::compute::buf::Data;
use crate::compute::kernels::Shape;
use crate::compute::ops::{matmul_strided, softmax, Layout};

/// Query rows per task.
const ROWS: usize = 64;

/// Sizes for one sequence's attention: head width D, query row stride, cache row width,
/// new positions T, cached S (the new ones included), and query heads per key/value head.
#[derive(Clone, Copy)]
struct HeadDims {
    d: usize,
    qs: usize,
    kv: usize,
    t: usize,
    s: usize,
    group: usize,
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

/// Attention of layer `l` for the stacked queries `q` (T, stride) of every sequence in
/// `batch` (head h at columns h·D..(h+1)·D), whose keys and values are already in their
/// caches. Returns the heads' outputs side by side (T, H·D), after each sequence's recorder
/// has seen (and perhaps patched) them as `blocks.{l}.attn.hook_z` (T, H, D); records each
/// sequence's `blocks.{l}.attn.hook_pattern` (H, T, S) when asked.
pub(crate) fn attend(
    dims: &Dims,
    l: usize,
    q: &[f32],
    stride: usize,
    batch: &mut [Sequence],
) -> Vec<f32> {
    let (n_head, d) = (dims.n_head, dims.head_dim);
    let mut first_row = Vec::with_capacity(batch.len()); // where each sequence's rows start
    let mut row = 0;
    let sizes: Vec<HeadDims> = batch
        .iter()
        .map(|seq| {
            first_row.push(row);
            row += seq.tokens.len();
            HeadDims {
                d,
                qs: stride,
                kv: dims.kv_width(),
                t: seq.tokens.len(),
                s: seq.cache.keys[l].len() / dims.kv_width(),
                group: n_head / dims.n_kv_head,
            }
        })
        .collect();
    let name = format!("blocks.{l}.attn.hook_pattern");
    let mut patterns: Vec<Option<Vec<f32>>> = batch
        .iter()
        .zip(&sizes)
        .map(|(seq, hd)| seq.wants(&name).then(|| vec![0.0; n_head * hd.t * hd.s])) // (H, T, S)
        .collect();
    let tasks = tasks(&sizes, n_head, &mut patterns);
    let caches: Vec<&KvCache> = batch.iter().map(|seq| &*seq.cache).collect();
    let outs: Vec<((usize, usize, usize), Vec<f32>)> = tasks
        .into_par_iter()
        .map(|task| {
            let (cache, hd) = (caches[task.seq], sizes[task.seq]);
            let q = &q[first_row[task.seq] * stride..];
            let at = (task.seq, task.head, task.r0);
            (
                at,
                attend_task(task, q, &cache.keys[l], &cache.values[l], hd),
            )
        })
        .collect(); // per task: (sequence, head, first row) and the output (r1 - r0, D)
    let width = n_head * d;
    let mut z = vec![0.0; row * width]; // (T, H·D): the heads' outputs side by side
    for ((i, head, r0), out) in &outs {
        let rows = z[(first_row[*i] + r0) * width..].chunks_exact_mut(width);
        for (z, o) in rows.zip(out.chunks_exact(d)) {
            z[head * d..(head + 1) * d].copy_from_slice(o);
        }
    }
    for (p, (seq, hd)) in patterns.iter().zip(batch.iter_mut().zip(&sizes)) {
        if let (Some(p), Some(rec)) = (p, seq.rec.as_deref_mut()) {
            record(rec, &name, &[n_head, hd.t, hd.s], p);
        }
    }
    hook_rows(
        batch,
        &format!("blocks.{l}.attn.hook_z"),
        &[n_head, d],
        &mut z,
    );
    z
}

/// Every task, each with its rows of its sequence's pattern when that is recorded.
fn tasks<'a>(
    sizes: &[HeadDims],
    n_head: usize,
    patterns: &'a mut [Option<Vec<f32>>],
) -> Vec<Task<'a>> {
    let mut tasks = Vec::new();
    for (seq, (hd, pattern)) in sizes.iter().zip(patterns).enumerate() {
        let (t, s) = (hd.t, hd.s);
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
/// slices of wider rows, read with row strides.
fn attend_task(task: Task, q: &[f32], keys: &[f32], values: &[f32], hd: HeadDims) -> Vec<f32> {
    let HeadDims {
        d, qs, kv, t, s, ..
    } = hd;
    let rows = task.r1 - task.r0;
    let kv_off = (task.head / hd.group) * d; // the key/value head this query head reads
    let seen = s - t + task.r1; // keys visible to the block's last row
    let mut p = vec![0.0; rows * seen]; // (rows, seen)
    let qk = Shape {
        m: rows,
        k: d,
        n: seen,
        xs: qs,
        ws: kv,
        ys: seen,
    };
    let q = &q[task.r0 * qs + task.head * d..];
    matmul_strided(q, Data::F32(&keys[kv_off..]), &mut p, qk, Layout::OutIn);
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
        ws: kv,
        ys: d,
    };
    matmul_strided(
        &p,
        Data::F32(&values[kv_off..]),
        &mut out,
        pv,
        Layout::InOut,
    );
    out
}

/// The textbook attention of one sequence, one score at a time: for queries `q` (T, H·D) of
/// the last T of S positions, keys and values `k`, `v` (S, KV·D), returns the output
/// (T, H·D) and the pattern (H, T, S). What [`attend`] computes, without its tiling.
pub fn reference(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    n_head: usize,
    n_kv_head: usize,
    d: usize,
) -> (Vec<f32>, Vec<f32>) {
    let (qw, kvw) = (n_head * d, n_kv_head * d);
    let (t, s) = (q.len() / qw, k.len() / kvw);
    let mut out = vec![0.0; t * qw]; // (T, H·D)
    let mut pattern = vec![0.0; n_head * t * s]; // (H, T, S)
    for h in 0..n_head {
        let g = h / (n_head / n_kv_head); // the key/value head query head h shares
        for i in 0..t {
            let qi = &q[i * qw + h * d..][..d]; // (D,)
            let visible = s - t + i + 1; // causal: itself and every earlier position
            let mut scores: Vec<f32> = (0..visible)
                .map(|j| {
                    let kj = &k[j * kvw + g * d..][..d];
                    qi.iter().zip(kj).map(|(a, b)| a * b).sum::<f32>() / (d as f32).sqrt()
                })
                .collect(); // (visible,)
            let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            scores.iter_mut().for_each(|x| *x = (*x - max).exp());
            let total: f32 = scores.iter().sum();
            for (j, w) in scores.iter().enumerate() {
                let w = w / total;
                pattern[(h * t + i) * s + j] = w;
                let vj = &v[j * kvw + g * d..][..d];
                let o = &mut out[i * qw + h * d..][..d];
                o.iter_mut().zip(vj).for_each(|(o, x)| *o += w * x);
            }
        }
    }
    (out, pattern)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::recorder::ActivationCache;
    use crate::compute::pool;

    fn values(n: usize, seed: usize) -> Vec<f32> {
        let f = |i: usize| ((i * 2_654_435_761 + seed * 97) % 2000) as f32 / 1000.0 - 1.0;
        (0..n).map(f).collect()
    }

    /// The tiled attention against the textbook one: multi-head and grouped, a prompt longer
    /// than one task's rows, and new rows after a cache already holding positions, two
    /// sequences in one batch.
    #[test]
    fn tiled_attention_matches_the_textbook() {
        for (n_head, n_kv_head) in [(4, 4), (6, 2), (3, 1)] {
            let d = 8;
            let dims = Dims {
                n_layer: 1,
                n_head,
                n_kv_head,
                n_embd: n_head * d,
                head_dim: d,
                n_positions: 512,
                vocab_size: 10,
            };
            let (qw, kvw) = (n_head * d, n_kv_head * d);
            let lens = [(150, 0), (3, 97)]; // (new positions T, positions cached before them)
            let mut caches: Vec<KvCache> = lens.iter().map(|_| KvCache::new(&dims)).collect();
            let mut recs: Vec<ActivationCache> =
                lens.iter().map(|_| ActivationCache::all()).collect();
            let (mut q, mut want) = (Vec::new(), Vec::new());
            for (i, (&(t, past), cache)) in lens.iter().zip(&mut caches).enumerate() {
                let (k, v) = (
                    values((past + t) * kvw, 3 * i),
                    values((past + t) * kvw, 3 * i + 1),
                );
                let qi = values(t * qw, 3 * i + 2);
                cache.keys[0] = k.clone();
                cache.values[0] = v.clone();
                want.push(reference(&qi, &k, &v, n_head, n_kv_head, d));
                q.extend_from_slice(&qi);
            }
            let tokens: Vec<Vec<u32>> = lens.iter().map(|&(t, _)| vec![0; t]).collect();
            let mut batch: Vec<Sequence> = tokens
                .iter()
                .zip(caches.iter_mut().zip(recs.iter_mut()))
                .map(|(tokens, (cache, rec))| Sequence {
                    tokens,
                    cache,
                    rec: Some(rec),
                })
                .collect();
            let z = pool::install(|| attend(&dims, 0, &q, qw, &mut batch));
            let mut row = 0;
            for ((t, _), ((out, pattern), rec)) in lens.iter().zip(want.iter().zip(&recs)) {
                let got = &z[row * qw..(row + t) * qw];
                let diff = |a: &[f32], b: &[f32]| {
                    a.iter()
                        .zip(b)
                        .map(|(x, y)| (x - y).abs())
                        .fold(0.0, f32::max)
                };
                assert!(diff(got, out) < 1e-5, "{n_head}/{n_kv_head} output");
                assert!(
                    diff(&rec.entries[0].data, pattern) < 1e-6,
                    "{n_head}/{n_kv_head} pattern"
                );
                row += t;
            }
        }
    }
}

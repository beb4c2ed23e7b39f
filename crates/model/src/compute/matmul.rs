//! Matrix products: the hand-written kernels for a few rows (decoding streams the weights once),
//! the `gemm` crate for many (prefill is compute-bound and wants a tuned, packed GEMM).

use gemm::Parallelism;
use rayon::prelude::*;

use super::buf::Data;
use super::kernels::{self, Shape};
use super::pool;

/// Up to this many rows of `a` the kernels read every weight once for all rows; beyond it a
/// GEMM's blocking wins. Measured on the GPT-2-small shape, 2 threads: a batch of 8 decode
/// steps took ~30 ms a step on the kernels against ~48 ms on the `gemm` crate, 16 steps ~46
/// against ~60 ms.
const KERNEL_MAX_ROWS: usize = 16;

/// 16-bit matrices are widened up to this many values (16 MiB of f32) at a time before a
/// GEMM: each block matrix of GPT-2 small (at most 3,072 × 768) in one piece, while the
/// 38.6M-value unembedding stays in blocks, so prefill never holds an f32 copy of it. Smaller
/// pieces (1 MiB) made the GEMM repack the activations for every piece: 16-bit prefill of 256
/// tokens took 449–482 ms against 395 ms now, for 9 MB more peak memory (1.27× the weights).
const WIDEN_VALUES: usize = 1 << 22;

/// `out (m, n) += a (m, k) @ b`, where b is (k, n), or (n, k) read transposed when
/// `b_transposed` (the tied unembedding multiplies by `wte` (V, C) without copying it).
/// The work is split across the thread pool.
pub fn matmul(
    a: &[f32],
    b: Data,
    out: &mut [f32],
    m: usize,
    k: usize,
    n: usize,
    b_transposed: bool,
) {
    let ws = if b_transposed { k } else { n };
    let s = Shape { m, k, n, xs: k, ws };
    if m <= KERNEL_MAX_ROWS {
        split_kernel(a, b, out, s, b_transposed);
    } else {
        gemm_any(a, b, out, s, b_transposed, pool::threads());
    }
}

/// Like [`matmul`] on one thread, with rows of `a` and `b` `s.xs` and `s.ws` apart: a head's
/// slice of the queries, keys or values, while the heads run in parallel.
pub fn matmul_strided(a: &[f32], b: Data, out: &mut [f32], s: Shape, b_transposed: bool) {
    if s.m <= KERNEL_MAX_ROWS {
        kernel(a, b, out, s, b_transposed);
    } else {
        gemm_any(a, b, out, s, b_transposed, 1);
    }
}

fn kernel(a: &[f32], b: Data, out: &mut [f32], s: Shape, b_transposed: bool) {
    if b_transposed {
        kernels::gemv_t(a, b, out, s);
    } else {
        kernels::gemv(a, b, out, s);
    }
}

/// Splits the work so each thread streams one contiguous block of the weights: rows of b
/// (a block of output columns) when transposed, else a block of its k rows, whose partial
/// products are summed. Contiguous blocks keep the hardware prefetchers on one long stream
/// each, where a block of columns would be many short ones.
fn split_kernel(a: &[f32], b: Data, out: &mut [f32], s: Shape, b_transposed: bool) {
    let along = if b_transposed { s.n } else { s.k };
    let parts = pool::threads().min(along.div_ceil(16)).max(1);
    let width = along.div_ceil(parts).next_multiple_of(16);
    let tiles: Vec<(usize, Vec<f32>)> = (0..along)
        .into_par_iter()
        .step_by(width)
        .map(|i0| {
            let len = width.min(along - i0);
            let b = b.slice(i0 * s.ws, b.len() - i0 * s.ws);
            if b_transposed {
                let mut tile = vec![0.0; s.m * len]; // (m, len): output columns i0..i0 + len
                kernel(a, b, &mut tile, Shape { n: len, ..s }, true);
                (i0, tile)
            } else {
                let mut tile = vec![0.0; s.m * s.n]; // (m, n): the product over k rows i0..
                kernel(&a[i0..], b, &mut tile, Shape { k: len, ..s }, false);
                (0, tile)
            }
        })
        .collect();
    for (j0, tile) in tiles {
        let n = tile.len() / s.m;
        for (row, t) in out.chunks_exact_mut(s.n).zip(tile.chunks_exact(n)) {
            row[j0..j0 + n].iter_mut().zip(t).for_each(|(o, t)| *o += t);
        }
    }
}

/// GEMM for f32 weights; 16-bit weights are widened a block of rows at a time first.
fn gemm_any(a: &[f32], b: Data, out: &mut [f32], s: Shape, b_transposed: bool, threads: usize) {
    if let Data::F32(b) = b {
        return gemm_f32(a, b, out, s, s.n, b_transposed, threads);
    }
    let mut wide = Vec::new();
    let (b_rows, cols) = if b_transposed { (s.n, s.k) } else { (s.k, s.n) };
    let block = (WIDEN_VALUES / cols).max(1);
    for r0 in (0..b_rows).step_by(block) {
        let rows = block.min(b_rows - r0);
        wide.resize(rows * cols, 0.0);
        // Widening a prefill's weights is ~85M values: split it across the threads too.
        let widen = |(r, w): (usize, &mut [f32])| b.slice((r0 + r) * s.ws, cols).to_f32(w);
        match threads {
            1 => wide.chunks_exact_mut(cols).enumerate().for_each(widen),
            _ => wide.par_chunks_exact_mut(cols).enumerate().for_each(widen),
        }
        if b_transposed {
            // These rows of b are output columns r0..r0 + rows.
            let part = Shape {
                n: rows,
                ws: cols,
                ..s
            };
            gemm_f32(a, &wide, &mut out[r0..], part, s.n, true, threads);
        } else {
            // These rows of b meet columns r0..r0 + rows of a.
            let part = Shape {
                k: rows,
                ws: cols,
                ..s
            };
            gemm_f32(&a[r0..], &wide, out, part, s.n, false, threads);
        }
    }
}

/// `out += a @ b` with the `gemm` crate; rows of `out` are `out_stride` apart.
fn gemm_f32(
    a: &[f32],
    b: &[f32],
    out: &mut [f32],
    s: Shape,
    out_stride: usize,
    b_transposed: bool,
    threads: usize,
) {
    let (b_rows, b_cols) = if b_transposed { (s.n, s.k) } else { (s.k, s.n) };
    let span = |rows: usize, cols: usize, stride: usize| (rows - 1) * stride + cols;
    assert!(
        a.len() >= span(s.m, s.k, s.xs)
            && b.len() >= span(b_rows, b_cols, s.ws)
            && out.len() >= span(s.m, s.n, out_stride),
        "gemm shapes"
    );
    // Element (i, j) of the (k, n) right-hand side sits at b[i * ws + j], or at b[j * ws + i]
    // when b is stored transposed.
    let (rhs_rs, rhs_cs) = if b_transposed { (1, s.ws) } else { (s.ws, 1) };
    let parallelism = match threads {
        1 => Parallelism::None,
        t => Parallelism::Rayon(t),
    };
    // SAFETY: the assert above keeps every element gemm reads or writes inside the slices
    // for these strides, and `out` is a unique borrow so it aliases neither input.
    unsafe {
        gemm::gemm(
            s.m,
            s.n,
            s.k,
            out.as_mut_ptr(),
            1,
            out_stride as isize,
            true,
            a.as_ptr(),
            1,
            s.xs as isize,
            b.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::buf::{Buf, DType};

    /// A 16-bit matrix of more than WIDEN_VALUES values is widened in pieces (rows of b, or
    /// output columns when transposed); the product must equal the one of its f32 values.
    #[test]
    fn sixteen_bit_products_in_pieces_match_f32() {
        let (m, k, n) = (20, 64, 70_000); // 4.48M values: two pieces either way
        let value = |i: usize| ((i * 2_654_435_761) % 1000) as f32 / 1000.0 - 0.5;
        let a: Vec<f32> = (0..m * k).map(value).collect();
        for transposed in [false, true] {
            let values: Vec<f32> = (0..k * n).map(|i| value(i + 7)).collect();
            let b = Buf::from_f32(&values, DType::F16);
            let mut wide = vec![0.0; k * n];
            b.data().to_f32(&mut wide);
            let (mut got, mut want) = (vec![0.0; m * n], vec![0.0; m * n]);
            matmul(&a, b.data(), &mut got, m, k, n, transposed);
            matmul(&a, Data::F32(&wide), &mut want, m, k, n, transposed);
            let diff = got
                .iter()
                .zip(&want)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f32::max);
            assert!(diff <= 1e-4, "transposed {transposed}: {diff:e}");
        }
    }
}

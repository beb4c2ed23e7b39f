//! Matrix products on the pool's threads, through [`super::kernels`]: the threads split the
//! output columns, never a sum, so every element is computed with the same arithmetic
//! whatever the number of threads, of rows in the pass (one decode step or a batch of prompts)
//! or of tokens run before.
//!
//! A GEMM library would be faster to write but picks its order of summation by shape and
//! thread count: with the `gemm` crate a sequence's logits had other bits in a batch of 21
//! rows than alone, and other bits on 1, 2, 3 or 8 threads.

use crate::compute::buf::Data;
use crate::compute::kernels::{self, Path, Shape};
use crate::compute::pool;

/// How a matrix of weights is stored, which decides each output's order of summation (see
/// [`kernels`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// (k, n), a row per input, as GPT-2's `Conv1D` stores f32 weights: the axpy order.
    InOut,
    /// (n, k), a row per output (`wte`, the keys, Llama's `nn.Linear` weights): the dot order.
    OutIn,
    /// (k, n) in slabs of columns ([`kernels::slabs`], 16-bit `Conv1D` weights converted at
    /// load): the axpy order, as `InOut`, each thread reading its columns in long runs.
    Slabs,
}

/// `out (m, n) = a (m, k) @ b`, with b stored as `layout`; split across the pool's threads.
pub fn matmul(a: &[f32], b: Data, out: &mut [f32], m: usize, k: usize, n: usize, layout: Layout) {
    let ws = match layout {
        Layout::InOut | Layout::Slabs => n,
        Layout::OutIn => k,
    };
    product(
        a,
        b,
        out,
        Shape::dense(m, k, n, ws),
        layout,
        pool::threads(),
    );
}

/// Like [`matmul`] on the calling thread, with the strides of `s`: a head's slice of the
/// queries, keys or values, while the heads run in parallel.
pub fn matmul_strided(a: &[f32], b: Data, out: &mut [f32], s: Shape, layout: Layout) {
    product(a, b, out, s, layout, 1);
}

fn product(a: &[f32], b: Data, out: &mut [f32], s: Shape, layout: Layout, threads: usize) {
    match layout {
        Layout::InOut => kernels::axpy(Path::active(), a, b, out, s, threads),
        Layout::OutIn => kernels::dot(Path::active(), a, b, out, s, threads),
        Layout::Slabs => kernels::slabs::axpy_slabs(Path::active(), a, b, out, s, threads),
    }
}

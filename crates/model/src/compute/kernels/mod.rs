//! Hand-written matrix-vector products for decoding, where a GEMM library falls short: with one
//! (or a few) rows of activations the work is streaming the weights, so the kernels read each
//! weight once, widen 16-bit weights to f32 in registers, and run on one thread each (the
//! caller splits the matrix across the pool).
//!
//! The CPU is checked at run time: AVX-512F uses [`avx512`], any other machine the portable
//! loops below (compiled a second time with AVX2 + FMA for x86 CPUs that have them).

#[cfg(target_arch = "x86_64")]
mod avx512;
pub mod gelu;
pub mod softmax;

use half::{bf16, f16};

use crate::compute::buf::Data;

/// Rows of x one kernel call handles together; more are done in groups of this many.
pub const MAX_ROWS: usize = 8;

/// An operation on a row of values, written as plain loops for the compiler to vectorise;
/// [`best`] runs it compiled for the widest vectors the CPU has.
pub(crate) trait RowOp {
    /// Must be `#[inline(always)]`, so each of [`best`]'s targets gets its own compiled copy.
    fn run(x: &mut [f32]);
}

/// Runs `O` on `x` compiled for AVX-512F, else AVX2 + FMA, else the baseline, whichever the
/// CPU has.
pub(crate) fn best<O: RowOp>(x: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F.
            return unsafe { on_avx512::<O>(x) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA.
            return unsafe { on_avx2::<O>(x) };
        }
    }
    O::run(x)
}

/// # Safety
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn on_avx512<O: RowOp>(x: &mut [f32]) {
    O::run(x)
}

/// # Safety
/// The CPU must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn on_avx2<O: RowOp>(x: &mut [f32]) {
    O::run(x)
}

/// A stored weight type the kernels read.
pub trait Elem: Copy + Send + Sync {
    fn to_f32(self) -> f32;
}

impl Elem for f32 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self
    }
}

impl Elem for bf16 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        f32::from_bits((self.to_bits() as u32) << 16)
    }
}

impl Elem for f16 {
    #[cfg(not(target_family = "wasm"))]
    #[inline(always)]
    fn to_f32(self) -> f32 {
        f16::to_f32(self)
    }

    #[cfg(target_family = "wasm")]
    #[inline(always)]
    fn to_f32(self) -> f32 {
        f16_to_f32(self.to_bits())
    }
}

/// f16 to f32 without branches, for WebAssembly: it has no conversion instruction, and
/// `half`'s software one branches per value, which kept 16-bit decoding at a sixth of f32's
/// speed. The exponent and mantissa bits moved to f32's places are the value times 2^-112
/// (subnormals included), which one multiply rescales; infinities and NaNs (exponent 31) take
/// f32's all-ones exponent instead. Exact for every value (tested against `half`).
#[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
#[inline(always)]
pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let two_pow_112 = f32::from_bits((127 + 112) << 23);
    let h = h as u32;
    let magnitude = (h & 0x7fff) << 13;
    let finite = (f32::from_bits(magnitude) * two_pow_112).to_bits();
    let bits = if h & 0x7c00 == 0x7c00 {
        magnitude | 0x7f80_0000
    } else {
        finite
    };
    f32::from_bits(bits | (h & 0x8000) << 16)
}

/// The shape of one product: x (m, k) with rows `xs` apart, w with rows `ws` apart, y (m, n).
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub xs: usize,
    pub ws: usize,
}

/// `y (m, n) += x (m, k) @ w (k, n)`.
pub fn gemv(x: &[f32], w: Data, y: &mut [f32], s: Shape) {
    check(x, w.len(), y, s, s.k, s.n);
    match w {
        Data::F32(w) => run(x, w, y, s, Product::Plain),
        Data::Bf16(w) => run(x, w, y, s, Product::Plain),
        Data::F16(w) => run(x, w, y, s, Product::Plain),
    }
}

/// `y (m, n) += x (m, k) @ wᵀ` for w (n, k): a dot product with every row of w.
pub fn gemv_t(x: &[f32], w: Data, y: &mut [f32], s: Shape) {
    check(x, w.len(), y, s, s.n, s.k);
    match w {
        Data::F32(w) => run(x, w, y, s, Product::Transposed),
        Data::Bf16(w) => run(x, w, y, s, Product::Transposed),
        Data::F16(w) => run(x, w, y, s, Product::Transposed),
    }
}

/// Panics unless every index the kernels touch is inside the slices; the kernels rely on it.
fn check(x: &[f32], w_len: usize, y: &[f32], s: Shape, w_rows: usize, w_cols: usize) {
    let span = |rows: usize, cols: usize, stride: usize| match rows {
        0 => 0,
        r => (r - 1) * stride + cols,
    };
    assert!(
        s.xs >= s.k && s.ws >= w_cols,
        "kernel strides shorter than rows"
    );
    assert!(
        x.len() >= span(s.m, s.k, s.xs)
            && w_len >= span(w_rows, w_cols, s.ws)
            && y.len() == s.m * s.n,
        "kernel shapes: x {} w {} y {} for {s:?}",
        x.len(),
        w_len,
        y.len()
    );
}

#[derive(Clone, Copy)]
enum Product {
    Plain,
    Transposed,
}

/// With more rows of x than one kernel call takes, the weights are walked in blocks of about
/// this many bytes, each used by every group of `MAX_ROWS` rows in turn: the groups after the
/// first find the block in L2, so the weights are read from memory once for all rows (a
/// batch of sequences decoding together).
const BLOCK_BYTES: usize = 256 << 10;

/// Runs the best kernel for this CPU on groups of up to `MAX_ROWS` rows of x.
fn run<E: Kernel>(x: &[f32], w: &[E], y: &mut [f32], s: Shape, p: Product) {
    if s.m == 0 || s.n == 0 {
        return; // nothing to write, and the SIMD kernels assume rows to read
    }
    if s.m <= MAX_ROWS {
        return E::kernel(x, w, y, s, p);
    }
    let size = std::mem::size_of::<E>();
    match p {
        Product::Plain => {
            // Blocks of k rows of w, a multiple of the 8 rows the kernels take per pass.
            let block = (BLOCK_BYTES / (s.n * size)).next_multiple_of(8).max(8);
            for k0 in (0..s.k).step_by(block) {
                let k = block.min(s.k - k0);
                for (g, y) in y.chunks_mut(MAX_ROWS * s.n).enumerate() {
                    let (x, m) = (&x[g * MAX_ROWS * s.xs + k0..], y.len() / s.n);
                    E::kernel(x, &w[k0 * s.ws..], y, Shape { m, k, ..s }, p);
                }
            }
        }
        Product::Transposed => {
            // Blocks of rows of w, each an output column: y's rows are n apart, so a
            // group's columns of the block go through a small tile.
            let block = (BLOCK_BYTES / (s.k * size)).max(1);
            let mut tile = Vec::new();
            for j0 in (0..s.n).step_by(block) {
                let n = block.min(s.n - j0);
                for (g, y) in y.chunks_mut(MAX_ROWS * s.n).enumerate() {
                    let (x, m) = (&x[g * MAX_ROWS * s.xs..], y.len() / s.n);
                    tile.clear();
                    tile.resize(m * n, 0.0); // (m, n)
                    E::kernel(x, &w[j0 * s.ws..], &mut tile, Shape { m, n, ..s }, p);
                    for (y, t) in y.chunks_exact_mut(s.n).zip(tile.chunks_exact(n)) {
                        y[j0..j0 + n].iter_mut().zip(t).for_each(|(y, t)| *y += t);
                    }
                }
            }
        }
    }
}

/// Dispatch of one weight type to the kernels the CPU supports.
trait Kernel: Elem + Sized {
    fn kernel(x: &[f32], w: &[Self], y: &mut [f32], s: Shape, p: Product);
}

#[cfg(target_arch = "x86_64")]
impl<E: avx512::Load16> Kernel for E {
    fn kernel(x: &[f32], w: &[E], y: &mut [f32], s: Shape, p: Product) {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F, `check` proved every index in bounds, and
            // `run` passes at most MAX_ROWS rows, each matched below.
            unsafe { avx512_rows(x, w, y, s, p) }
        } else if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA.
            unsafe { portable_avx2(x, w, y, s, p) }
        } else {
            portable(x, w, y, s, p)
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
impl<E: Elem> Kernel for E {
    fn kernel(x: &[f32], w: &[E], y: &mut [f32], s: Shape, p: Product) {
        portable(x, w, y, s, p)
    }
}

/// # Safety
/// AVX-512F, shapes checked, `s.m` in 1..=MAX_ROWS.
#[cfg(target_arch = "x86_64")]
unsafe fn avx512_rows<E: avx512::Load16>(x: &[f32], w: &[E], y: &mut [f32], s: Shape, p: Product) {
    let (xp, wp, yp) = (x.as_ptr(), w.as_ptr(), y.as_mut_ptr());
    let f = match (p, s.m) {
        (Product::Plain, 1) => avx512::gemv::<E, 1>,
        (Product::Plain, 2) => avx512::gemv::<E, 2>,
        (Product::Plain, 3) => avx512::gemv::<E, 3>,
        (Product::Plain, 4) => avx512::gemv::<E, 4>,
        (Product::Plain, 5) => avx512::gemv::<E, 5>,
        (Product::Plain, 6) => avx512::gemv::<E, 6>,
        (Product::Plain, 7) => avx512::gemv::<E, 7>,
        (Product::Plain, _) => avx512::gemv::<E, 8>,
        (Product::Transposed, 1) => avx512::gemv_t::<E, 1>,
        (Product::Transposed, 2) => avx512::gemv_t::<E, 2>,
        (Product::Transposed, 3) => avx512::gemv_t::<E, 3>,
        (Product::Transposed, 4) => avx512::gemv_t::<E, 4>,
        (Product::Transposed, 5) => avx512::gemv_t::<E, 5>,
        (Product::Transposed, 6) => avx512::gemv_t::<E, 6>,
        (Product::Transposed, 7) => avx512::gemv_t::<E, 7>,
        (Product::Transposed, _) => avx512::gemv_t::<E, 8>,
    };
    f(xp, s.xs, wp, s.ws, yp, s.k, s.n);
}

/// The portable loops, compiled with AVX2 and FMA so they vectorise 8 lanes wide.
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn portable_avx2<E: Elem>(x: &[f32], w: &[E], y: &mut [f32], s: Shape, p: Product) {
    portable(x, w, y, s, p)
}

/// Plain loops written so the compiler vectorises them: the reference for the SIMD kernels.
#[inline(always)]
fn portable<E: Elem>(x: &[f32], w: &[E], y: &mut [f32], s: Shape, p: Product) {
    for (b, y) in y.chunks_exact_mut(s.n).enumerate() {
        let x = &x[b * s.xs..][..s.k];
        match p {
            Product::Plain => {
                for (i, &xi) in x.iter().enumerate() {
                    let row = &w[i * s.ws..][..s.n];
                    y.iter_mut()
                        .zip(row)
                        .for_each(|(y, w)| *y += xi * w.to_f32());
                }
            }
            Product::Transposed => {
                for (v, y) in y.iter_mut().enumerate() {
                    *y += dot(x, &w[v * s.ws..][..s.k]);
                }
            }
        }
    }
}

/// A dot product in 16 independent lanes, so the compiler can vectorise it (a plain
/// `sum()` must add in order and cannot).
#[inline(always)]
pub fn dot<E: Elem>(a: &[f32], b: &[E]) -> f32 {
    let mut lanes = [0.0f32; 16];
    let (ac, bc) = (a.chunks_exact(16), b.chunks_exact(16));
    let tail: f32 = ac
        .remainder()
        .iter()
        .zip(bc.remainder())
        .map(|(x, y)| x * y.to_f32())
        .sum();
    for (a, b) in ac.zip(bc) {
        for l in 0..16 {
            lanes[l] += a[l] * b[l].to_f32();
        }
    }
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests;

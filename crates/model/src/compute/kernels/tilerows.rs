//! The `amx` path's bf16 product for a few rows (a decode step) on AVX-512, in the tiles'
//! order to the bit, so a decode step and a prefill on tiles give the same bits while a
//! decode step streams its weights once without padding its row to a tile's 16 or packing.
//!
//! The order, Intel's documented one for `tdpbf16ps` (which the tiles matched in 512,000 of
//! 512,000 random outputs on Sapphire Rapids): activations rounded to bf16; per output, every
//! 32 values of k are one step, whose even values form one chain of products summed from 0
//! and whose odd values another; the step adds the two chains' sum to the output. Each
//! product of two bf16 values is exact in f32, so an FMA gives the tile's sum. Inputs whose
//! exponent is 0 (bf16 subnormals) count as 0, as on the tiles; a tile also flushes chain sums
//! below 2^-126 to zero, which these kernels do not (only products under ~1.2e-38 reach them).

use std::arch::x86_64::*;

use half::bf16;

use super::drive::{split, Out};
use super::Shape;

/// Values of k one tile step takes.
const STEP: usize = 32;

/// Rows of w one pass reads (4 even, 4 odd), each widened once for every row of x.
const PASS: usize = 8;

/// Most rows of x one walk over w takes: the sums of each row's columns sit in L1.
const MR: usize = 8;

/// Bytes of L1 a block of columns' sums take: y and both chains, for every row of x.
const L1_BYTES: usize = 24 << 10;

/// `y = x @ w` for bf16 w (k, n), in the tiles' order. The caller has checked the shape and
/// that the CPU has AVX-512F/BW/VL/BF16.
pub(super) fn axpy(x: &[f32], w: &[bf16], y: &mut [f32], s: Shape, threads: usize) {
    let mut xf = vec![0.0f32; s.m * s.k]; // (m, k): x as the tiles take it
    let mut bits = vec![0u16; s.k];
    for r in 0..s.m {
        // SAFETY: the CPU has AVX-512F/BF16; both rows hold k values.
        unsafe { super::amx::round_row(&x[r * s.xs..][..s.k], &mut bits) };
        for (o, &b) in xf[r * s.k..][..s.k].iter_mut().zip(&bits) {
            let subnormal = b & 0x7f80 == 0;
            *o = f32::from_bits(if subnormal { 0 } else { (b as u32) << 16 });
        }
    }
    let out = Out(y.as_mut_ptr());
    // SAFETY: as above; only this thread writes columns c0..c1.
    split(s.n, s.m, threads, |c0, c1| unsafe {
        columns(&xf, w, out, s, c0, c1)
    });
}

/// Columns c0..c1 of y, for up to [`MR`] rows of x a walk over w.
///
/// # Safety
/// As for [`axpy`].
#[target_feature(enable = "avx512f,avx512bw,avx512vl,fma")]
unsafe fn columns(xf: &[f32], w: &[bf16], out: Out, s: Shape, c0: usize, c1: usize) {
    for r0 in (0..s.m).step_by(MR) {
        let x = xf[r0 * s.k..].as_ptr();
        let y = Out(out.0.add(r0 * s.ys));
        let f = match MR.min(s.m - r0) {
            1 => rows::<1>,
            2 => rows::<2>,
            3 => rows::<3>,
            4 => rows::<4>,
            5 => rows::<5>,
            6 => rows::<6>,
            7 => rows::<7>,
            _ => rows::<8>,
        };
        f(x, w.as_ptr(), y, s, c0, c1);
    }
}

/// M rows of x (rows k apart) on columns c0..c1: blocks of columns whose sums stay in L1,
/// each taking k in steps of [`STEP`], each step in passes of up to [`PASS`] rows of w.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,fma")]
unsafe fn rows<const M: usize>(
    x: *const f32,
    w: *const bf16,
    y: Out,
    s: Shape,
    c0: usize,
    c1: usize,
) {
    let width = (L1_BYTES / (12 * M)) / 16 * 16;
    let mut chains = vec![0.0f32; 2 * M * width]; // (2, M, width): the even, then the odd
    let (e, o) = chains.split_at_mut(M * width);
    for c in (c0..c1).step_by(width) {
        let cols = width.min(c1 - c);
        for r in 0..M {
            std::ptr::write_bytes(y.0.add(r * s.ys + c), 0, cols); // the sums start at 0
        }
        for k0 in (0..s.k).step_by(STEP) {
            let depth = STEP.min(s.k - k0);
            let mut p = 0;
            while p < depth {
                let n = match depth - p {
                    left if left >= PASS => PASS,
                    left if left >= 2 => 2,
                    _ => 1, // an odd k's last value: its odd chain stays 0
                };
                let t = Pass {
                    x: x.add(k0 + p),
                    xs: s.k,
                    w: w.add((k0 + p) * s.ws + c),
                    ws: s.ws,
                    cols,
                    e: e.as_mut_ptr(),
                    o: o.as_mut_ptr(),
                    cs: width,
                    y: y.0.add(c),
                    ys: s.ys,
                    first: p == 0,
                    last: p + n == depth,
                };
                match n {
                    PASS => pass::<M, PASS>(t),
                    2 => pass::<M, 2>(t),
                    _ => pass::<M, 1>(t),
                }
                p += n;
            }
        }
    }
}

/// One pass's operands: rows of x from the pass's first value of k, its rows of w, the chains
/// (rows `cs` apart), y, and whether the pass starts a step's chains or ends them.
#[derive(Clone, Copy)]
struct Pass {
    x: *const f32,
    xs: usize,
    w: *const bf16,
    ws: usize,
    cols: usize,
    e: *mut f32,
    o: *mut f32,
    cs: usize,
    y: *mut f32,
    ys: usize,
    first: bool,
    last: bool,
}

/// R rows of w (from an even value of k) go into the chains of M rows of x: row r of the pass
/// into the even chain for even r, the odd one for odd r, in order. The first pass of a step
/// starts both chains at 0; the last adds their sum to y.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,fma")]
#[allow(clippy::needless_range_loop)] // b and r index several arrays at once
unsafe fn pass<const M: usize, const R: usize>(t: Pass) {
    for j in (0..t.cols).step_by(16) {
        let mask: __mmask16 = match t.cols - j {
            left if left >= 16 => !0,
            left => (1 << left) - 1,
        };
        let mut wv = [_mm512_setzero_ps(); R];
        for r in 0..R {
            wv[r] = load(t.w.add(r * t.ws + j), mask);
        }
        for b in 0..M {
            let (ep, op) = (t.e.add(b * t.cs + j), t.o.add(b * t.cs + j));
            let (mut e, mut o) = match t.first {
                true => (_mm512_setzero_ps(), _mm512_setzero_ps()),
                false => (
                    _mm512_maskz_loadu_ps(mask, ep),
                    _mm512_maskz_loadu_ps(mask, op),
                ),
            };
            for r in 0..R {
                let xv = _mm512_set1_ps(*t.x.add(b * t.xs + r));
                match r % 2 {
                    0 => e = _mm512_fmadd_ps(xv, wv[r], e),
                    _ => o = _mm512_fmadd_ps(xv, wv[r], o),
                }
            }
            if t.last {
                let yp = t.y.add(b * t.ys + j);
                let sum = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, yp), _mm512_add_ps(e, o));
                _mm512_mask_storeu_ps(yp, mask, sum);
            } else {
                _mm512_mask_storeu_ps(ep, mask, e);
                _mm512_mask_storeu_ps(op, mask, o);
            }
        }
    }
}

/// The masked ones of 16 bf16 weights as f32, those with a zero exponent (subnormals) as 0.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
unsafe fn load(p: *const bf16, mask: __mmask16) -> __m512 {
    let v = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask, p.cast()));
    let normal = _mm512_test_epi32_mask(v, _mm512_set1_epi32(0x7f80));
    _mm512_castsi512_ps(_mm512_maskz_slli_epi32::<16>(normal, v))
}

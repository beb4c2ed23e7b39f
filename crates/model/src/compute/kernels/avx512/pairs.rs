//! The AVX-512 rows kernel for bf16 weights, widening 32 weights with two instructions (the
//! AVX2 kernel's trick, `avx2/pairs.rs`, on 16 lanes).
//!
//! Read as 16 32-bit words, 32 bf16 weights are pairs: the low half of word t is weight 2t,
//! the high half weight 2t + 1. A shift left by 16 gives the even weights as f32, a mask of the
//! high halves the odd ones, where zero-extending and shifting 16 at a time takes four
//! instructions for 32. The sums for even and odd columns then sit in separate registers, so
//! each block of 32 columns of y is split into its even and odd columns before the pass and
//! joined after. Each column still gets its FMAs in the order of the rows of w, so the bits
//! are those of every other path.

use std::arch::x86_64::*;

use half::bf16;

/// `y (M, n) += x (M, k) @ w (k, n)` with `w` in bf16; see `avx512::axpy_rows`.
///
/// # Safety
/// AVX-512F and FMA; every index in bounds.
#[target_feature(enable = "avx512f,fma")]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn axpy_m<const M: usize>(
    x: *const f32,
    xs: usize,
    w: *const bf16,
    ws: usize,
    k: usize,
    n: usize,
    y: *mut f32,
    ys: usize,
) {
    let n32 = n - n % 32;
    for b in 0..M {
        for j in (0..n32).step_by(32) {
            split(y.add(b * ys + j));
        }
    }
    let mut i = 0;
    while i + 8 <= k {
        pass::<M, 8>(x.add(i), xs, w.add(i * ws), ws, n32, y, ys);
        i += 8;
    }
    while i < k {
        pass::<M, 1>(x.add(i), xs, w.add(i * ws), ws, n32, y, ys);
        i += 1;
    }
    for b in 0..M {
        for j in (0..n32).step_by(32) {
            join(y.add(b * ys + j));
        }
    }
    if n32 < n {
        let (wt, yt) = (w.add(n32), y.add(n32));
        super::axpy_m::<bf16, M>(x, xs, wt, ws, k, n - n32, yt, ys);
    }
}

/// Adds R rows of w, each scaled by its x value, to the first `n32` columns of every row of y
/// (split), one FMA after another, in the order of the rows.
#[inline]
#[target_feature(enable = "avx512f,fma")]
#[allow(clippy::needless_range_loop)] // b and q index several arrays at once
unsafe fn pass<const M: usize, const R: usize>(
    x: *const f32,
    xs: usize,
    w: *const bf16,
    ws: usize,
    n32: usize,
    y: *mut f32,
    ys: usize,
) {
    let high = _mm512_set1_epi32(0xffff_0000u32 as i32);
    let mut xb = [[_mm512_setzero_ps(); R]; M];
    for b in 0..M {
        for q in 0..R {
            xb[b][q] = _mm512_set1_ps(*x.add(b * xs + q));
        }
    }
    for j in (0..n32).step_by(32) {
        super::super::avx2::prefetch_ahead::<bf16, R>(w, ws, j); // 32 columns a cache line
        let mut even = [_mm512_setzero_ps(); R];
        let mut odd = [_mm512_setzero_ps(); R];
        for q in 0..R {
            let pairs = _mm512_loadu_si512(w.add(q * ws + j).cast());
            even[q] = _mm512_castsi512_ps(_mm512_slli_epi32::<16>(pairs));
            odd[q] = _mm512_castsi512_ps(_mm512_and_si512(pairs, high));
        }
        for b in 0..M {
            let yp = y.add(b * ys + j);
            let (mut ye, mut yo) = (_mm512_loadu_ps(yp), _mm512_loadu_ps(yp.add(16)));
            for q in 0..R {
                ye = _mm512_fmadd_ps(xb[b][q], even[q], ye);
                yo = _mm512_fmadd_ps(xb[b][q], odd[q], yo);
            }
            _mm512_storeu_ps(yp, ye);
            _mm512_storeu_ps(yp.add(16), yo);
        }
    }
}

/// Columns 0..32 at `p` rearranged as the even ones, then the odd ones.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn split(p: *mut f32) {
    let (lo, hi) = (_mm512_loadu_ps(p), _mm512_loadu_ps(p.add(16)));
    let even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    let odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    _mm512_storeu_ps(p, _mm512_permutex2var_ps(lo, even, hi));
    _mm512_storeu_ps(p.add(16), _mm512_permutex2var_ps(lo, odd, hi));
}

/// The inverse of [`split`]: the even and odd columns at `p` back in order.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn join(p: *mut f32) {
    let (even, odd) = (_mm512_loadu_ps(p), _mm512_loadu_ps(p.add(16)));
    // Index i < 16 takes `even`'s lane i, 16 + i `odd`'s.
    let lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    let hi = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
    _mm512_storeu_ps(p, _mm512_permutex2var_ps(even, lo, odd));
    _mm512_storeu_ps(p.add(16), _mm512_permutex2var_ps(even, hi, odd));
}

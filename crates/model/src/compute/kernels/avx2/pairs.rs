//! The AVX2 rows kernel for bf16 weights, widening 16 weights with two instructions.
//!
//! A bf16 is the top half of an f32. Read as 8 32-bit words, 16 bf16 weights are pairs: the
//! low half of word t is weight 2t, the high half weight 2t + 1. A shift left by 16 gives the
//! even weights as f32, a mask of the high halves the odd ones: two instructions for 16
//! weights where zero-extending and shifting 8 at a time takes four. The sums for even and
//! odd columns then sit in separate registers, so each block of 16 columns of y is split into
//! its even and odd columns before the pass and joined after. Each column still gets its FMAs
//! in the order of the rows of w, so the bits are those of every other path.

use std::arch::x86_64::*;

use half::bf16;

/// `y (M, n) += x (M, k) @ w (k, n)` with `w` in bf16; see `avx512::axpy_rows`.
///
/// # Safety
/// AVX2 and FMA; every index in bounds.
#[target_feature(enable = "avx2,fma,f16c")]
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
    let n16 = n - n % 16;
    for b in 0..M {
        for j in (0..n16).step_by(16) {
            split(y.add(b * ys + j));
        }
    }
    let mut i = 0;
    while i + 8 <= k {
        pass::<M, 8>(x.add(i), xs, w.add(i * ws), ws, n16, y, ys);
        i += 8;
    }
    while i < k {
        pass::<M, 1>(x.add(i), xs, w.add(i * ws), ws, n16, y, ys);
        i += 1;
    }
    for b in 0..M {
        for j in (0..n16).step_by(16) {
            join(y.add(b * ys + j));
        }
    }
    if n16 < n {
        let (wt, yt) = (w.add(n16), y.add(n16));
        super::axpy_m::<bf16, M>(x, xs, wt, ws, k, n - n16, yt, ys);
    }
}

/// Adds R rows of w, each scaled by its x value, to the first `n16` columns of every row of y
/// (split), one FMA after another, in the order of the rows.
#[inline]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::needless_range_loop)] // b and q index several arrays at once
unsafe fn pass<const M: usize, const R: usize>(
    x: *const f32,
    xs: usize,
    w: *const bf16,
    ws: usize,
    n16: usize,
    y: *mut f32,
    ys: usize,
) {
    let high = _mm256_set1_epi32(0xffff_0000u32 as i32);
    let mut xb = [[_mm256_setzero_ps(); R]; M];
    for b in 0..M {
        for q in 0..R {
            xb[b][q] = _mm256_set1_ps(*x.add(b * xs + q));
        }
    }
    for j in (0..n16).step_by(16) {
        if j % 32 == 0 {
            super::prefetch_ahead::<bf16, R>(w, ws, j); // 32 columns a cache line
        }
        let mut even = [_mm256_setzero_ps(); R];
        let mut odd = [_mm256_setzero_ps(); R];
        for q in 0..R {
            let pairs = _mm256_loadu_si256(w.add(q * ws + j).cast());
            even[q] = _mm256_castsi256_ps(_mm256_slli_epi32::<16>(pairs));
            odd[q] = _mm256_castsi256_ps(_mm256_and_si256(pairs, high));
        }
        for b in 0..M {
            let yp = y.add(b * ys + j);
            let (mut ye, mut yo) = (_mm256_loadu_ps(yp), _mm256_loadu_ps(yp.add(8)));
            for q in 0..R {
                ye = _mm256_fmadd_ps(xb[b][q], even[q], ye);
                yo = _mm256_fmadd_ps(xb[b][q], odd[q], yo);
            }
            _mm256_storeu_ps(yp, ye);
            _mm256_storeu_ps(yp.add(8), yo);
        }
    }
}

/// Columns 0..16 at `p` rearranged as the even ones, then the odd ones.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn split(p: *mut f32) {
    let (lo, hi) = (_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8)));
    // Per 128-bit half: 0 2 8 10 | 4 6 12 14, and 1 3 9 11 | 5 7 13 15.
    let even = _mm256_shuffle_ps::<0b10_00_10_00>(lo, hi);
    let odd = _mm256_shuffle_ps::<0b11_01_11_01>(lo, hi);
    _mm256_storeu_ps(p, swap_middle(even));
    _mm256_storeu_ps(p.add(8), swap_middle(odd));
}

/// The inverse of [`split`]: the even and odd columns at `p` back in order.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn join(p: *mut f32) {
    // Swapping the middle quarters again leaves 0 2 8 10 | 4 6 12 14, and 1 3 9 11 | ….
    let even = swap_middle(_mm256_loadu_ps(p));
    let odd = swap_middle(_mm256_loadu_ps(p.add(8)));
    _mm256_storeu_ps(p, _mm256_unpacklo_ps(even, odd));
    _mm256_storeu_ps(p.add(8), _mm256_unpackhi_ps(even, odd));
}

/// Quarters (64 bits each) 0 2 1 3 of `v`: its own inverse.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn swap_middle(v: __m256) -> __m256 {
    _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(v)))
}

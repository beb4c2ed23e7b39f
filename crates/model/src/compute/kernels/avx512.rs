//! AVX-512 kernels: 16 lanes, weights widened to f32 as they are loaded. Each computes the
//! orders of [`super::portable`] exactly (see the module root).
//!
//! Callers ([`super::drive`]) have checked the shapes and that the CPU has AVX-512F; these
//! functions only walk raw pointers inside those bounds.

use std::any::TypeId;
use std::arch::x86_64::*;

use half::{bf16, f16};

use super::Elem;

mod pairs;
mod panel;

pub(super) use panel::{axpy_panel, PANEL_MR, PANEL_NR};

/// Loads 16 weights as f32.
pub(crate) trait Load16: Elem {
    /// # Safety
    /// `p..p + 16` must be readable and the CPU must have AVX-512F.
    unsafe fn load16(p: *const Self) -> __m512;
}

impl Load16 for f32 {
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn load16(p: *const f32) -> __m512 {
        _mm512_loadu_ps(p)
    }
}

impl Load16 for bf16 {
    /// bf16 is the top half of an f32: widen to 32 bits and shift into place.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn load16(p: *const bf16) -> __m512 {
        let raw = _mm256_loadu_si256(p.cast());
        _mm512_castsi512_ps(_mm512_slli_epi32::<16>(_mm512_cvtepu16_epi32(raw)))
    }
}

impl Load16 for f16 {
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn load16(p: *const f16) -> __m512 {
        _mm512_cvtph_ps(_mm256_loadu_si256(p.cast()))
    }
}

/// Rows of x one dot tile takes at most, and rows of w it always takes.
pub(super) const DOT_MR: usize = 4;
pub(super) const DOT_NR: usize = 4;

/// The dot tile: `y[r][c] = dot(x row r, w row c)` for `rows` ≤ DOT_MR rows of x and `cols`
/// ≤ DOT_NR rows of w, over the whole of k.
///
/// # Safety
/// AVX-512F and FMA; `rows` and `cols` at least 1; every index in bounds.
#[target_feature(enable = "avx512f,fma")]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn dot_tile<E: Load16>(
    x: *const f32,
    xs: usize,
    rows: usize,
    w: *const E,
    ws: usize,
    cols: usize,
    k: usize,
    y: *mut f32,
    ys: usize,
) {
    let t = Tile {
        x,
        xs,
        w,
        ws,
        cols,
        k,
        y,
        ys,
    };
    match rows {
        1 => dot_rows::<E, 1>(t),
        2 => dot_rows::<E, 2>(t),
        3 => dot_rows::<E, 3>(t),
        _ => dot_rows::<E, 4>(t),
    }
}

/// A dot tile's operands.
#[derive(Clone, Copy)]
struct Tile<E> {
    x: *const f32,
    xs: usize,
    w: *const E,
    ws: usize,
    cols: usize,
    k: usize,
    y: *mut f32,
    ys: usize,
}

#[inline]
#[target_feature(enable = "avx512f,fma")]
#[allow(clippy::needless_range_loop)] // r and c index several arrays at once
unsafe fn dot_rows<E: Load16, const MR: usize>(t: Tile<E>) {
    // Columns past `cols` repeat the last one: computed, never stored.
    let mut wr = [t.w; DOT_NR];
    for (c, p) in wr.iter_mut().enumerate() {
        *p = t.w.add(c.min(t.cols - 1) * t.ws);
    }
    let mut acc = [[_mm512_setzero_ps(); DOT_NR]; MR];
    let kv = t.k - t.k % 16;
    let line = 64 / std::mem::size_of::<E>(); // weights in a cache line
    let mut i = 0;
    while i < kv {
        if MR < DOT_MR && i % line == 0 {
            super::avx2::prefetch_tile::<E, DOT_NR>(t.w, t.ws, i); // see there
        }
        let mut wv = [_mm512_setzero_ps(); DOT_NR];
        for c in 0..DOT_NR {
            wv[c] = E::load16(wr[c].add(i));
        }
        for r in 0..MR {
            let xv = _mm512_loadu_ps(t.x.add(r * t.xs + i));
            for c in 0..DOT_NR {
                acc[r][c] = _mm512_fmadd_ps(xv, wv[c], acc[r][c]);
            }
        }
        i += 16;
    }
    for r in 0..MR {
        let x = t.x.add(r * t.xs);
        for c in 0..t.cols {
            let mut sum = fold(acc[r][c]);
            for j in kv..t.k {
                sum = (*x.add(j)).mul_add((*wr[c].add(j)).to_f32(), sum);
            }
            *t.y.add(r * t.ys + c) = sum;
        }
    }
}

/// The dot order's fold of 16 lanes: `l + (l + 8)`, then `+ 4`, `+ 2`, `+ 1`.
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn fold(v: __m512) -> f32 {
    let hi = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(v)));
    let s8 = _mm256_add_ps(_mm512_castps512_ps256(v), hi);
    let s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps::<1>(s8));
    let s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps::<1>(s2, s2)))
}

/// `y (m, n) += x (m, k) @ w (k, n)` for `m` ≤ 8 rows, in the axpy order when y starts at 0:
/// rows of w stream past once, 8 at a time, each widened once for all rows of x, while y (a
/// few KiB, in L1) holds the sums. bf16 weights take [`pairs::axpy_m`].
///
/// # Safety
/// AVX-512F and FMA; `m` in 1..=8; every index in bounds.
#[target_feature(enable = "avx512f,fma")]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn axpy_rows<E: Load16>(
    x: *const f32,
    xs: usize,
    m: usize,
    w: *const E,
    ws: usize,
    k: usize,
    n: usize,
    y: *mut f32,
    ys: usize,
) {
    if TypeId::of::<E>() == TypeId::of::<bf16>() {
        let f = match m {
            1 => pairs::axpy_m::<1>,
            2 => pairs::axpy_m::<2>,
            3 => pairs::axpy_m::<3>,
            4 => pairs::axpy_m::<4>,
            5 => pairs::axpy_m::<5>,
            6 => pairs::axpy_m::<6>,
            7 => pairs::axpy_m::<7>,
            _ => pairs::axpy_m::<8>,
        };
        return f(x, xs, w.cast(), ws, k, n, y, ys); // E is bf16
    }
    let f = match m {
        1 => axpy_m::<E, 1>,
        2 => axpy_m::<E, 2>,
        3 => axpy_m::<E, 3>,
        4 => axpy_m::<E, 4>,
        5 => axpy_m::<E, 5>,
        6 => axpy_m::<E, 6>,
        7 => axpy_m::<E, 7>,
        _ => axpy_m::<E, 8>,
    };
    f(x, xs, w, ws, k, n, y, ys);
}

#[target_feature(enable = "avx512f,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn axpy_m<E: Load16, const M: usize>(
    x: *const f32,
    xs: usize,
    w: *const E,
    ws: usize,
    k: usize,
    n: usize,
    y: *mut f32,
    ys: usize,
) {
    let nv = n - n % 16;
    let mut i = 0;
    while i + 8 <= k {
        axpy_pass::<E, M, 8>(x.add(i), xs, w.add(i * ws), ws, nv, y, ys);
        i += 8;
    }
    while i < k {
        axpy_pass::<E, M, 1>(x.add(i), xs, w.add(i * ws), ws, nv, y, ys);
        i += 1;
    }
    for b in 0..M {
        for j in nv..n {
            let mut acc = *y.add(b * ys + j);
            for i in 0..k {
                acc = (*x.add(b * xs + i)).mul_add((*w.add(i * ws + j)).to_f32(), acc);
            }
            *y.add(b * ys + j) = acc;
        }
    }
}

/// Adds R rows of w, each scaled by its x value, to the first `nv` columns of every row of y,
/// one FMA after another, in the order of the rows.
#[inline]
#[target_feature(enable = "avx512f,fma")]
#[allow(clippy::needless_range_loop)] // b and q index several arrays at once
unsafe fn axpy_pass<E: Load16, const M: usize, const R: usize>(
    x: *const f32,
    xs: usize,
    w: *const E,
    ws: usize,
    nv: usize,
    y: *mut f32,
    ys: usize,
) {
    let mut xb = [[_mm512_setzero_ps(); R]; M];
    for b in 0..M {
        for q in 0..R {
            xb[b][q] = _mm512_set1_ps(*x.add(b * xs + q));
        }
    }
    let line = 64 / std::mem::size_of::<E>(); // columns of w in a cache line
    for j in (0..nv).step_by(16) {
        if j % line == 0 {
            super::avx2::prefetch_ahead::<E, R>(w, ws, j); // see there
        }
        let mut wv = [_mm512_setzero_ps(); R];
        for (q, v) in wv.iter_mut().enumerate() {
            *v = E::load16(w.add(q * ws + j));
        }
        for b in 0..M {
            let yp = y.add(b * ys + j);
            let mut acc = _mm512_loadu_ps(yp);
            for q in 0..R {
                acc = _mm512_fmadd_ps(xb[b][q], wv[q], acc);
            }
            _mm512_storeu_ps(yp, acc);
        }
    }
}

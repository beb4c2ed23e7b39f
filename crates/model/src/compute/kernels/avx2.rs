//! AVX2 kernels (with FMA and F16C): the AVX-512 kernels' arithmetic on 8 lanes. A dot
//! product's 16 lanes are two registers, folded first into one (`l + (l + 8)`), so the sums
//! are those of every other path.
//!
//! Callers ([`super::drive`]) have checked the shapes and that the CPU has AVX2, FMA and F16C.

use std::any::TypeId;
use std::arch::x86_64::*;

use half::{bf16, f16};

use super::Elem;

mod pairs;
mod panel;

pub(super) use panel::{axpy_panel, PANEL_MR, PANEL_NR};

/// Loads 8 weights as f32.
pub(crate) trait Load8: Elem {
    /// # Safety
    /// `p..p + 8` must be readable and the CPU must have AVX2 and F16C.
    unsafe fn load8(p: *const Self) -> __m256;
}

impl Load8 for f32 {
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn load8(p: *const f32) -> __m256 {
        _mm256_loadu_ps(p)
    }
}

impl Load8 for bf16 {
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn load8(p: *const bf16) -> __m256 {
        let raw = _mm_loadu_si128(p.cast());
        _mm256_castsi256_ps(_mm256_slli_epi32::<16>(_mm256_cvtepu16_epi32(raw)))
    }
}

impl Load8 for f16 {
    #[inline]
    #[target_feature(enable = "avx2,f16c")]
    unsafe fn load8(p: *const f16) -> __m256 {
        _mm256_cvtph_ps(_mm_loadu_si128(p.cast()))
    }
}

/// Rows of x one dot tile takes at most, and rows of w it always takes.
pub(super) const DOT_MR: usize = 2;
pub(super) const DOT_NR: usize = 4;

/// The dot tile; see `avx512::dot_tile`. One row of x (a decode step) takes 4 rows of w at
/// once, each x load serving 4 (8 sums in 16 registers); two rows take 2 rows of w at a
/// time, twice.
///
/// # Safety
/// AVX2, FMA and F16C; `rows` and `cols` at least 1; every index in bounds.
#[target_feature(enable = "avx2,fma,f16c")]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn dot_tile<E: Load8>(
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
    if rows == 1 {
        return dot_rows::<E, 1, 4>(x, xs, w, ws, cols, k, y, ys);
    }
    dot_rows::<E, 2, 2>(x, xs, w, ws, cols.min(2), k, y, ys);
    if cols > 2 {
        dot_rows::<E, 2, 2>(x, xs, w.add(2 * ws), ws, cols - 2, k, y.add(2), ys);
    }
}

#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
unsafe fn dot_rows<E: Load8, const MR: usize, const NR: usize>(
    x: *const f32,
    xs: usize,
    w: *const E,
    ws: usize,
    cols: usize,
    k: usize,
    y: *mut f32,
    ys: usize,
) {
    // Columns past `cols` repeat the last one: computed, never stored.
    let mut wr = [w; NR];
    for (c, p) in wr.iter_mut().enumerate() {
        *p = w.add(c.min(cols - 1) * ws);
    }
    // Lanes 0..8 and 8..16 of each sum.
    let mut acc = [[[_mm256_setzero_ps(); 2]; NR]; MR];
    let kv = k - k % 16;
    let line = 64 / std::mem::size_of::<E>(); // weights in a cache line
    let mut i = 0;
    while i < kv {
        if MR < DOT_MR && i % line == 0 {
            prefetch_tile::<E, NR>(w, ws, i);
        }
        let mut wv = [[_mm256_setzero_ps(); 2]; NR];
        for c in 0..NR {
            wv[c] = [E::load8(wr[c].add(i)), E::load8(wr[c].add(i + 8))];
        }
        for r in 0..MR {
            let xp = x.add(r * xs + i);
            let xv = [_mm256_loadu_ps(xp), _mm256_loadu_ps(xp.add(8))];
            for c in 0..NR {
                for h in 0..2 {
                    acc[r][c][h] = _mm256_fmadd_ps(xv[h], wv[c][h], acc[r][c][h]);
                }
            }
        }
        i += 16;
    }
    for r in 0..MR {
        let xr = x.add(r * xs);
        for c in 0..cols {
            let mut sum = fold(acc[r][c]);
            for j in kv..k {
                sum = (*xr.add(j)).mul_add((*wr[c].add(j)).to_f32(), sum);
            }
            *y.add(r * ys + c) = sum;
        }
    }
}

/// The dot order's fold of lanes 0..8 and 8..16: `l + (l + 8)`, then `+ 4`, `+ 2`, `+ 1`.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn fold(v: [__m256; 2]) -> f32 {
    let s8 = _mm256_add_ps(v[0], v[1]);
    let s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps::<1>(s8));
    let s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps::<1>(s2, s2)))
}

/// The rows kernel; see `avx512::axpy_rows`. bf16 weights take [`pairs::axpy_m`].
///
/// # Safety
/// AVX2, FMA and F16C; `m` in 1..=8; every index in bounds.
#[target_feature(enable = "avx2,fma,f16c")]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn axpy_rows<E: Load8>(
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

#[target_feature(enable = "avx2,fma,f16c")]
#[allow(clippy::too_many_arguments)]
unsafe fn axpy_m<E: Load8, const M: usize>(
    x: *const f32,
    xs: usize,
    w: *const E,
    ws: usize,
    k: usize,
    n: usize,
    y: *mut f32,
    ys: usize,
) {
    let nv = n - n % 8;
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
/// one FMA after another, in the order of the rows. The x values are broadcast once a pass,
/// not once a vector (y's stores could alias them, so the compiler would reload them).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
#[allow(clippy::needless_range_loop)] // b and q index several arrays at once
unsafe fn axpy_pass<E: Load8, const M: usize, const R: usize>(
    x: *const f32,
    xs: usize,
    w: *const E,
    ws: usize,
    nv: usize,
    y: *mut f32,
    ys: usize,
) {
    let mut xb = [[_mm256_setzero_ps(); R]; M];
    for b in 0..M {
        for q in 0..R {
            xb[b][q] = _mm256_set1_ps(*x.add(b * xs + q));
        }
    }
    let line = 64 / std::mem::size_of::<E>(); // columns of w in a cache line
    for j in (0..nv).step_by(8) {
        if j % line == 0 {
            prefetch_ahead::<E, R>(w, ws, j);
        }
        let mut wv = [_mm256_setzero_ps(); R];
        for (q, v) in wv.iter_mut().enumerate() {
            *v = E::load8(w.add(q * ws + j));
        }
        for b in 0..M {
            let yp = y.add(b * ys + j);
            let mut acc = _mm256_loadu_ps(yp);
            for q in 0..R {
                acc = _mm256_fmadd_ps(xb[b][q], wv[q], acc);
            }
            _mm256_storeu_ps(yp, acc);
        }
    }
}

/// Passes of the rows kernels ahead of the one running whose rows of w are prefetched.
const PREFETCH_PASSES: usize = 2;

/// Asks for the cache line at column `j` of the R rows of w [`PREFETCH_PASSES`] passes ahead,
/// into L2. A thread reads its columns of each row, a few KiB of 16-bit weights, and the
/// hardware prefetcher learns each row anew; on one thread of this Xeon, under load, the
/// AVX2 rows kernel took ~25% less time with this (BENCHMARKS.md). One pass of one row
/// (the tail of k) asks for nothing.
///
/// # Safety
/// None in fact: a prefetch never faults, and the address is never read, so it may lie past
/// the end of w.
#[inline(always)]
pub(super) unsafe fn prefetch_ahead<E, const R: usize>(w: *const E, ws: usize, j: usize) {
    if R == 1 {
        return;
    }
    for q in 0..R {
        let p = w.wrapping_add((PREFETCH_PASSES * R + q) * ws + j);
        _mm_prefetch::<_MM_HINT_T1>(p.cast());
    }
}

/// Asks for the cache line at column `i` of the NR rows of w after those of the dot tile
/// running, into L2: the next tile's, read one tile's time later. Tile rows lie end to end,
/// so the hardware prefetcher sees NR short streams weaving through the same pages and
/// learns each anew. Only tiles with fewer rows of x than the most take it (a decode step
/// has one): they are the last to read their rows of w, so the next tile is due next.
///
/// # Safety
/// None in fact, as for [`prefetch_ahead`].
#[inline(always)]
pub(super) unsafe fn prefetch_tile<E, const NR: usize>(w: *const E, ws: usize, i: usize) {
    for c in 0..NR {
        _mm_prefetch::<_MM_HINT_T1>(w.wrapping_add((NR + c) * ws + i).cast());
    }
}

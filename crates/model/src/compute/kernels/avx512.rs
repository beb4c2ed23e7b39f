//! AVX-512 matrix-vector kernels: 16 lanes, weights widened to f32 as they are loaded.
//!
//! Callers ([`super::gemv`], [`super::gemv_t`]) have checked the shapes and that the CPU has
//! AVX-512F; these functions only walk raw pointers inside those bounds.

use std::arch::x86_64::*;
use std::mem::size_of;

use half::{bf16, f16};

use super::Elem;

/// Loads 16 weights as f32.
pub trait Load16: Elem {
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

/// `y (M, n) += x (M, k) @ w (k, n)`; rows of x and w are `xs` and `ws` apart, y is dense.
///
/// # Safety
/// AVX-512F, and every index below in bounds (checked by the caller).
#[target_feature(enable = "avx512f")]
pub unsafe fn gemv<E: Load16, const M: usize>(
    x: *const f32,
    xs: usize,
    w: *const E,
    ws: usize,
    y: *mut f32,
    k: usize,
    n: usize,
) {
    // Eight rows per pass: measured faster than four (y is loaded and stored half as often)
    // and still within the 32 vector registers.
    let mut i = 0;
    while i + 8 <= k {
        rows::<E, M, 8>(x.add(i), xs, w.add(i * ws), ws, y, n);
        i += 8;
    }
    while i < k {
        rows::<E, M, 1>(x.add(i), xs, w.add(i * ws), ws, y, n);
        i += 1;
    }
}

/// Adds R rows of w, each scaled by its x value, to every row of y: the R rows are widened
/// once and used for all M rows of x, and y (a few KiB) stays in L1 while w streams past.
#[inline]
#[target_feature(enable = "avx512f")]
#[allow(clippy::needless_range_loop)] // b and q index several arrays at once
unsafe fn rows<E: Load16, const M: usize, const R: usize>(
    x: *const f32,
    xs: usize,
    w: *const E,
    ws: usize,
    y: *mut f32,
    n: usize,
) {
    let mut xf = [[0.0f32; R]; M];
    let mut xb = [[_mm512_setzero_ps(); R]; M];
    for b in 0..M {
        for q in 0..R {
            xf[b][q] = *x.add(b * xs + q);
            xb[b][q] = _mm512_set1_ps(xf[b][q]);
        }
    }
    let nv = n - n % 16;
    for j in (0..nv).step_by(16) {
        let mut wv = [_mm512_setzero_ps(); R];
        for (q, v) in wv.iter_mut().enumerate() {
            *v = E::load16(w.add(q * ws + j));
        }
        for b in 0..M {
            // Two chains of FMAs, even and odd rows, so each waits on half as many before it.
            let yp = y.add(b * n + j);
            let mut acc = [_mm512_loadu_ps(yp), _mm512_setzero_ps()];
            for q in 0..R {
                acc[q % 2] = _mm512_fmadd_ps(xb[b][q], wv[q], acc[q % 2]);
            }
            _mm512_storeu_ps(yp, _mm512_add_ps(acc[0], acc[1]));
        }
    }
    for j in nv..n {
        for b in 0..M {
            let mut acc = *y.add(b * n + j);
            for q in 0..R {
                acc += xf[b][q] * (*w.add(q * ws + j)).to_f32();
            }
            *y.add(b * n + j) = acc;
        }
    }
}

/// How far ahead `gemv_t` prefetches rows of w.
const PREFETCH_ROWS: usize = 4;

/// `y (M, n) += x (M, k) @ wᵀ` for w (n, k): one dot product per row of w (a vocabulary row,
/// for the unembedding), each row widened once for all M rows of x.
///
/// # Safety
/// AVX-512F, and every index below in bounds (checked by the caller).
#[target_feature(enable = "avx512f")]
pub unsafe fn gemv_t<E: Load16, const M: usize>(
    x: *const f32,
    xs: usize,
    w: *const E,
    ws: usize,
    y: *mut f32,
    k: usize,
    n: usize,
) {
    let kv = k - k % 32;
    for v in 0..n {
        let row = w.add(v * ws);
        // With several rows of x (a batch) each w row takes long enough that the hardware
        // prefetchers alone fall behind, so rows PREFETCH_ROWS ahead are asked for now. With
        // one or two they keep up, and the hints only take load slots (measured slower).
        let ahead = row.add(PREFETCH_ROWS.min(n - 1 - v) * ws).cast::<i8>();
        // Two accumulators per x row, so consecutive FMAs do not wait on each other.
        let mut acc = [[_mm512_setzero_ps(); 2]; M];
        for j in (0..kv).step_by(32) {
            if M > 2 {
                // One hint per 64-byte line of the 32 weights this pass reads.
                for line in (0..32 * size_of::<E>()).step_by(64) {
                    _mm_prefetch::<_MM_HINT_T0>(ahead.add(j * size_of::<E>() + line));
                }
            }
            let w0 = E::load16(row.add(j));
            let w1 = E::load16(row.add(j + 16));
            for (b, a) in acc.iter_mut().enumerate() {
                let xp = x.add(b * xs + j);
                a[0] = _mm512_fmadd_ps(_mm512_loadu_ps(xp), w0, a[0]);
                a[1] = _mm512_fmadd_ps(_mm512_loadu_ps(xp.add(16)), w1, a[1]);
            }
        }
        for (b, a) in acc.iter().enumerate() {
            let mut sum = _mm512_reduce_add_ps(_mm512_add_ps(a[0], a[1]));
            for j in kv..k {
                sum += *x.add(b * xs + j) * (*row.add(j)).to_f32();
            }
            *y.add(b * n + v) += sum;
        }
    }
}

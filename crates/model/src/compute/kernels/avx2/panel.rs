//! The packed panels of a prefill's GEMM on AVX2: a tile of rows of x by a panel of
//! columns of w, summed in the axpy order (see the module root).

use std::arch::x86_64::*;

/// Rows one axpy panel takes at most, and its width (2 vectors).
pub(in crate::compute::kernels) const PANEL_MR: usize = 6;
pub(in crate::compute::kernels) const PANEL_NR: usize = 16;

/// One packed panel; see `avx512::axpy_panel`.
///
/// # Safety
/// AVX2 and FMA; `rows` in 1..=PANEL_MR; every index in bounds.
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
pub(in crate::compute::kernels) unsafe fn axpy_panel(
    a: *const f32,
    xs: usize,
    rows: usize,
    b: *const f32,
    kc: usize,
    y: *mut f32,
    ys: usize,
    first: bool,
) {
    let f = match rows {
        1 => panel::<1>,
        2 => panel::<2>,
        3 => panel::<3>,
        4 => panel::<4>,
        5 => panel::<5>,
        _ => panel::<6>,
    };
    f(a, xs, b, kc, y, ys, first);
}

#[target_feature(enable = "avx2,fma")]
#[allow(clippy::needless_range_loop)] // r and v index several arrays at once
unsafe fn panel<const MR: usize>(
    a: *const f32,
    xs: usize,
    b: *const f32,
    kc: usize,
    y: *mut f32,
    ys: usize,
    first: bool,
) {
    const V: usize = PANEL_NR / 8;
    let mut acc = [[_mm256_setzero_ps(); V]; MR];
    if !first {
        for r in 0..MR {
            for v in 0..V {
                acc[r][v] = _mm256_loadu_ps(y.add(r * ys + 8 * v));
            }
        }
    }
    for i in 0..kc {
        let row = b.add(i * PANEL_NR);
        let mut bv = [_mm256_setzero_ps(); V];
        for v in 0..V {
            bv[v] = _mm256_loadu_ps(row.add(8 * v));
        }
        for r in 0..MR {
            let av = _mm256_set1_ps(*a.add(r * xs + i));
            for v in 0..V {
                acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]);
            }
        }
    }
    for r in 0..MR {
        for v in 0..V {
            _mm256_storeu_ps(y.add(r * ys + 8 * v), acc[r][v]);
        }
    }
}

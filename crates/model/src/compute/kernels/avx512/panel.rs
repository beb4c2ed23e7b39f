//! The packed panels of a prefill's GEMM on AVX-512: a tile of rows of x by a panel of
//! columns of w, summed in the axpy order (see the module root).

use std::arch::x86_64::*;

/// Rows one axpy panel takes at most, and its width (4 vectors).
pub(in crate::compute::kernels) const PANEL_MR: usize = 6;
pub(in crate::compute::kernels) const PANEL_NR: usize = 64;

/// One panel of a GEMM in the axpy order: `y (rows, 64)` gets `a (rows, kc) @ b (kc, 64)`,
/// continuing from the sums y holds (or from 0 when `first`), so a product taken in blocks of
/// k sums exactly as one taken whole. `b` is packed: row i of the panel at `b + 64 i`.
///
/// # Safety
/// AVX-512F and FMA; `rows` in 1..=PANEL_MR; every index in bounds.
#[target_feature(enable = "avx512f,fma")]
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

#[target_feature(enable = "avx512f,fma")]
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
    const V: usize = PANEL_NR / 16;
    let mut acc = [[_mm512_setzero_ps(); V]; MR];
    if !first {
        for r in 0..MR {
            for v in 0..V {
                acc[r][v] = _mm512_loadu_ps(y.add(r * ys + 16 * v));
            }
        }
    }
    for i in 0..kc {
        let row = b.add(i * PANEL_NR);
        let mut bv = [_mm512_setzero_ps(); V];
        for v in 0..V {
            bv[v] = _mm512_loadu_ps(row.add(16 * v));
        }
        for r in 0..MR {
            let av = _mm512_set1_ps(*a.add(r * xs + i));
            for v in 0..V {
                acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
            }
        }
    }
    for r in 0..MR {
        for v in 0..V {
            _mm512_storeu_ps(y.add(r * ys + 16 * v), acc[r][v]);
        }
    }
}

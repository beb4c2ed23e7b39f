//! The f32 panels of a prefill's axpy products ([`super::super::panels`] packs them): each
//! product rounded, then added, in the order of k, as in the other SIMD128 kernels.

use core::arch::wasm32::*;

use super::Load8;

/// Rows one axpy panel takes at most, and its width (2 vectors).
pub(in super::super) const PANEL_MR: usize = 4;
pub(in super::super) const PANEL_NR: usize = 8;

/// One packed panel: `y (rows, PANEL_NR) += a (rows, kc) @ b (kc, PANEL_NR)`, the sums
/// starting at 0 when `first`, else continuing from y.
///
/// # Safety
/// `rows` in 1..=PANEL_MR; every index in bounds.
#[allow(clippy::too_many_arguments)]
pub(in super::super) unsafe fn axpy_panel(
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
        _ => panel::<4>,
    };
    f(a, xs, b, kc, y, ys, first);
}

#[allow(clippy::needless_range_loop)] // r and h index several arrays at once
unsafe fn panel<const MR: usize>(
    a: *const f32,
    xs: usize,
    b: *const f32,
    kc: usize,
    y: *mut f32,
    ys: usize,
    first: bool,
) {
    let mut acc = [[f32x4_splat(0.0); 2]; MR];
    if !first {
        for r in 0..MR {
            for h in 0..2 {
                acc[r][h] = v128_load(y.add(r * ys + 4 * h).cast());
            }
        }
    }
    for i in 0..kc {
        let bv = f32::load8(b.add(i * PANEL_NR), f32::mask());
        for r in 0..MR {
            let ai = f32x4_splat(*a.add(r * xs + i));
            for h in 0..2 {
                acc[r][h] = f32x4_add(acc[r][h], f32x4_mul(ai, bv[h]));
            }
        }
    }
    for r in 0..MR {
        for h in 0..2 {
            v128_store(y.add(r * ys + 4 * h).cast(), acc[r][h]);
        }
    }
}

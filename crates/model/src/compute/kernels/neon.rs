//! AArch64 Advanced SIMD kernels (Apple silicon, Raspberry Pi 4 and 5, Graviton): the
//! AVX-512 kernels' arithmetic on 4 lanes. A dot product's 16 lanes are four registers,
//! folded `l + (l + 8)`, then `+ 4`, `+ 2`, `+ 1` as on every path, and NEON's FMA rounds
//! once like x86's, so the sums are bit for bit those of the x86 kernels. Their speed has not
//! been measured on ARM hardware; the tests run under qemu-user.
//!
//! Callers ([`super::drive`]) have checked the shapes; Advanced SIMD is part of AArch64.

use std::arch::aarch64::*;

use half::{bf16, f16};

use super::Elem;

/// Loads 4 weights as f32.
pub(crate) trait Load4: Elem {
    /// # Safety
    /// `p..p + 4` must be readable.
    unsafe fn load4(p: *const Self) -> float32x4_t;
}

impl Load4 for f32 {
    #[inline(always)]
    unsafe fn load4(p: *const f32) -> float32x4_t {
        vld1q_f32(p)
    }
}

impl Load4 for bf16 {
    /// bf16 is the top half of an f32.
    #[inline(always)]
    unsafe fn load4(p: *const bf16) -> float32x4_t {
        vreinterpretq_f32_u32(vshll_n_u16::<16>(vld1_u16(p.cast())))
    }
}

impl Load4 for f16 {
    /// Exact, in integer steps (the half-precision vector types are not stable Rust): the
    /// exponent and mantissa move into an f32's places and a multiply by 2^112 rebiases the
    /// exponent (subnormals come out normal); infinities and NaNs keep an all-ones exponent.
    #[inline(always)]
    unsafe fn load4(p: *const f16) -> float32x4_t {
        let h = vmovl_u16(vld1_u16(p.cast()));
        let sign = vshlq_n_u32::<16>(vandq_u32(h, vdupq_n_u32(0x8000)));
        let body = vshlq_n_u32::<13>(vandq_u32(h, vdupq_n_u32(0x7fff)));
        let scaled = vmulq_f32(
            vreinterpretq_f32_u32(body),
            vdupq_n_f32(f32::from_bits(0x7780_0000)),
        );
        let special = vceqq_u32(vandq_u32(h, vdupq_n_u32(0x7c00)), vdupq_n_u32(0x7c00));
        let inf_nan = vorrq_u32(body, vdupq_n_u32(0x7f80_0000));
        let bits = vbslq_u32(special, inf_nan, vreinterpretq_u32_f32(scaled));
        vreinterpretq_f32_u32(vorrq_u32(bits, sign))
    }
}

/// Rows of x one dot tile takes at most, and rows of w it always takes.
pub(super) const DOT_MR: usize = 2;
pub(super) const DOT_NR: usize = 2;

/// Rows one axpy panel takes at most, and its width (4 vectors).
pub(super) const PANEL_MR: usize = 6;
pub(super) const PANEL_NR: usize = 16;

/// The dot tile; see `avx512::dot_tile`.
///
/// # Safety
/// `rows` and `cols` at least 1; every index in bounds.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn dot_tile<E: Load4>(
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
    match rows {
        1 => dot_rows::<E, 1>(x, xs, w, ws, cols, k, y, ys),
        _ => dot_rows::<E, 2>(x, xs, w, ws, cols, k, y, ys),
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
unsafe fn dot_rows<E: Load4, const MR: usize>(
    x: *const f32,
    xs: usize,
    w: *const E,
    ws: usize,
    cols: usize,
    k: usize,
    y: *mut f32,
    ys: usize,
) {
    let mut wr = [w; DOT_NR];
    for (c, p) in wr.iter_mut().enumerate() {
        *p = w.add(c.min(cols - 1) * ws);
    }
    // Lanes 0..4, 4..8, 8..12 and 12..16 of each sum.
    let mut acc = [[[vdupq_n_f32(0.0); 4]; DOT_NR]; MR];
    let kv = k - k % 16;
    let mut i = 0;
    while i < kv {
        let mut wv = [[vdupq_n_f32(0.0); 4]; DOT_NR];
        for c in 0..DOT_NR {
            for q in 0..4 {
                wv[c][q] = E::load4(wr[c].add(i + 4 * q));
            }
        }
        for r in 0..MR {
            let xp = x.add(r * xs + i);
            for q in 0..4 {
                let xv = vld1q_f32(xp.add(4 * q));
                for c in 0..DOT_NR {
                    acc[r][c][q] = vfmaq_f32(acc[r][c][q], xv, wv[c][q]);
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

/// The dot order's fold of lanes 0..4, 4..8, 8..12, 12..16.
#[inline(always)]
unsafe fn fold(v: [float32x4_t; 4]) -> f32 {
    let s8 = [vaddq_f32(v[0], v[2]), vaddq_f32(v[1], v[3])];
    let s4 = vaddq_f32(s8[0], s8[1]);
    let s2 = vadd_f32(vget_low_f32(s4), vget_high_f32(s4));
    vget_lane_f32::<0>(s2) + vget_lane_f32::<1>(s2)
}

/// The rows kernel; see `avx512::axpy_rows`.
///
/// # Safety
/// `m` in 1..=8; every index in bounds.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn axpy_rows<E: Load4>(
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

#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
unsafe fn axpy_m<E: Load4, const M: usize>(
    x: *const f32,
    xs: usize,
    w: *const E,
    ws: usize,
    k: usize,
    n: usize,
    y: *mut f32,
    ys: usize,
) {
    let nv = n - n % 4;
    for i in 0..k {
        let row = w.add(i * ws);
        for j in (0..nv).step_by(4) {
            let wv = E::load4(row.add(j));
            for b in 0..M {
                let yp = y.add(b * ys + j);
                vst1q_f32(yp, vfmaq_n_f32(vld1q_f32(yp), wv, *x.add(b * xs + i)));
            }
        }
        for b in 0..M {
            for j in nv..n {
                let yp = y.add(b * ys + j);
                *yp = (*x.add(b * xs + i)).mul_add((*row.add(j)).to_f32(), *yp);
            }
        }
    }
}

/// One packed panel; see `avx512::axpy_panel`.
///
/// # Safety
/// `rows` in 1..=PANEL_MR; every index in bounds.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn axpy_panel(
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
    const V: usize = PANEL_NR / 4;
    let mut acc = [[vdupq_n_f32(0.0); V]; MR];
    if !first {
        for r in 0..MR {
            for v in 0..V {
                acc[r][v] = vld1q_f32(y.add(r * ys + 4 * v));
            }
        }
    }
    for i in 0..kc {
        let row = b.add(i * PANEL_NR);
        let mut bv = [vdupq_n_f32(0.0); V];
        for v in 0..V {
            bv[v] = vld1q_f32(row.add(4 * v));
        }
        for r in 0..MR {
            let av = *a.add(r * xs + i);
            for v in 0..V {
                acc[r][v] = vfmaq_n_f32(acc[r][v], bv[v], av);
            }
        }
    }
    for r in 0..MR {
        for v in 0..V {
            vst1q_f32(y.add(r * ys + 4 * v), acc[r][v]);
        }
    }
}

//! WebAssembly SIMD128 kernels: the portable path's arithmetic on 4 lanes, written with
//! `core::arch::wasm32` instead of left to the compiler. Each product is rounded, then added
//! (WebAssembly has no FMA outside relaxed SIMD, whose results vary by engine), a dot
//! product's 16 lanes are four vectors folded `l + (l + 8)`, then `+ 4`, `+ 2`, `+ 1` as
//! [`super::portable::fold`], and an axpy sum takes its products in the order of k: every
//! output has the portable path's bits (the engine checks it: `nt_check_kernels` in
//! crates/wasm, run by tests/wasm).
//!
//! What they add over the portable loops: 16-bit weights widened 8 at a time by integer
//! steps on vectors, where the portable loops widen one value at a time; a dot tile's x
//! loaded once for all its columns; and an axpy's sums kept in registers across [`KB`] rows
//! of w, where the portable loop reads and writes every sum once per row.
//!
//! Callers ([`super::drive`]) have checked the shapes; the engine is built with `+simd128`.

use core::arch::wasm32::*;

use half::{bf16, f16};

mod panel;
mod placed;

pub(super) use panel::{axpy_panel, PANEL_MR, PANEL_NR};
use placed::TWO_112;
pub(super) use placed::{placed_axpy, placed_dot};

use super::Elem;

/// Loads 8 weights as two vectors of f32: elements 0..4 and 4..8.
pub(crate) trait Load8: Elem {
    /// The type whose kernels take what this one's cannot: x multiplied by [`Load8::UNSCALE`]
    /// and the same weights' bits read as this type.
    type Exact: Load8;
    const UNSCALE: f32 = 1.0;
    /// The most rows of x a kernel takes for this type: [`Placed`]'s callers give one, and
    /// no code is built for more (the engine's download stays as it was).
    const ROWS: usize = 8;

    /// What [`Load8::load8`] takes besides the address, made once per kernel call: a mask
    /// for [`Placed`], nothing for the others.
    #[inline(always)]
    fn mask() -> v128 {
        u16x8_splat(0)
    }

    /// # Safety
    /// `p..p + 8` must be readable.
    unsafe fn load8(p: *const Self, mask: v128) -> [v128; 2];

    /// Notes in `seen` whatever of the 8 values at `p` this type's products cannot take
    /// (see [`Placed`]); [`Load8::strays`] tells whether any was.
    ///
    /// # Safety
    /// As [`Load8::load8`].
    #[inline(always)]
    unsafe fn see(_p: *const Self, _seen: &mut v128) {}

    /// One product `x · w`, rounded: each kernel's tail.
    #[inline(always)]
    fn product(x: f32, w: Self) -> f32 {
        x * w.to_f32()
    }

    #[inline(always)]
    fn strays(_seen: v128) -> bool {
        false
    }
}

impl Load8 for f32 {
    type Exact = f32;

    #[inline(always)]
    unsafe fn load8(p: *const f32, _: v128) -> [v128; 2] {
        [v128_load(p.cast()), v128_load(p.add(4).cast())]
    }
}

impl Load8 for bf16 {
    type Exact = bf16;

    /// bf16 is the top half of an f32: each value interleaved with a zero below it.
    #[inline(always)]
    unsafe fn load8(p: *const bf16, _: v128) -> [v128; 2] {
        let (h, z) = (v128_load(p.cast()), u16x8_splat(0));
        [
            u16x8_shuffle::<0, 8, 1, 9, 2, 10, 3, 11>(z, h),
            u16x8_shuffle::<4, 12, 5, 13, 6, 14, 7, 15>(z, h),
        ]
    }
}

impl Load8 for f16 {
    type Exact = f16;

    #[inline(always)]
    unsafe fn load8(p: *const f16, _: v128) -> [v128; 2] {
        let h = v128_load(p.cast());
        [
            f16_lanes(i32x4_extend_low_i16x8(h)),
            f16_lanes(i32x4_extend_high_i16x8(h)),
        ]
    }
}

/// Four f16 values, sign-extended to 32 bits, as f32: the sign goes to bit 31 and the
/// exponent and mantissa to f32's places, which is the value times 2^-112 (subnormals
/// included) with its sign; one multiply rescales it exactly. Exponent 31 (infinities and
/// NaNs) takes f32's all-ones exponent instead, the mantissa kept: the bits of
/// [`super::f16_to_f32`], which the portable path uses, for every value.
#[inline(always)]
fn f16_lanes(s: v128) -> v128 {
    const EXPONENT: i32 = 0x0f80_0000; // an f16's exponent in f32's places
    let placed = v128_and(i32x4_shl(s, 13), i32x4_splat(0x8fff_e000_u32 as i32));
    let scaled = f32x4_mul(placed, f32x4_splat(TWO_112));
    let exponent = v128_and(placed, i32x4_splat(EXPONENT));
    let special = i32x4_eq(exponent, i32x4_splat(EXPONENT));
    v128_or(scaled, v128_and(special, i32x4_splat(0x7f80_0000)))
}

/// Widens `src` into `dst` (of the same length) 8 values at a time.
pub(super) fn widen<E: Load8>(src: &[E], dst: &mut [f32]) {
    let (sc, mut dc, mask) = (src.chunks_exact(8), dst.chunks_exact_mut(8), E::mask());
    let tail = sc.remainder();
    for (s, d) in sc.zip(&mut dc) {
        // SAFETY: both chunks hold 8 values.
        unsafe {
            let [lo, hi] = E::load8(s.as_ptr(), mask);
            v128_store(d.as_mut_ptr().cast(), lo);
            v128_store(d.as_mut_ptr().add(4).cast(), hi);
        }
    }
    for (d, &s) in dc.into_remainder().iter_mut().zip(tail) {
        *d = s.to_f32();
    }
}

/// Rows of x one dot tile takes at most, and rows of w it always takes.
pub(super) const DOT_MR: usize = 2;
pub(super) const DOT_NR: usize = 2;

/// Rows of w whose products an axpy adds to sums held in registers before storing them.
const KB: usize = 8;

/// The dot tile: `y[r][c] = dot(x row r, w row c)` for `rows` × `cols` outputs over k.
///
/// # Safety
/// `rows` and `cols` at least 1, `rows` at most `E::ROWS`; every index in bounds.
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
    match rows.min(E::ROWS) {
        1 => dot_rows::<E, 1>(x, xs, w, ws, cols, k, y, ys),
        _ => dot_rows::<E, 2>(x, xs, w, ws, cols, k, y, ys),
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
unsafe fn dot_rows<E: Load8, const MR: usize>(
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
        *p = w.add(c.min(cols - 1) * ws); // a missing column repeats the last: read, not kept
    }
    // Lanes 0..4, 4..8, 8..12 and 12..16 of each sum.
    let mut acc = [[[f32x4_splat(0.0); 4]; DOT_NR]; MR];
    let (mut seen, mask) = (u16x8_splat(0), E::mask());
    let kv = k - k % 16;
    for i in (0..kv).step_by(16) {
        let mut wv = [[f32x4_splat(0.0); 4]; DOT_NR];
        for c in 0..DOT_NR {
            E::see(wr[c].add(i), &mut seen);
            E::see(wr[c].add(i + 8), &mut seen);
            [wv[c][0], wv[c][1]] = E::load8(wr[c].add(i), mask);
            [wv[c][2], wv[c][3]] = E::load8(wr[c].add(i + 8), mask);
        }
        for r in 0..MR {
            let xp = x.add(r * xs + i);
            for q in 0..4 {
                let xv = v128_load(xp.add(4 * q).cast());
                for c in 0..DOT_NR {
                    acc[r][c][q] = f32x4_add(acc[r][c][q], f32x4_mul(xv, wv[c][q]));
                }
            }
        }
    }
    if E::strays(seen) {
        return exact::<E, MR>(x, xs, k, |xe| {
            dot_rows::<E::Exact, MR>(xe, k, w.cast(), ws, cols, k, y, ys)
        });
    }
    for r in 0..MR {
        let xr = x.add(r * xs);
        for c in 0..cols {
            let mut sum = fold(acc[r][c]);
            for j in kv..k {
                sum += E::product(*xr.add(j), *wr[c].add(j));
            }
            *y.add(r * ys + c) = sum;
        }
    }
}

/// Runs `f` on x's first `k` values of MR rows times [`Load8::UNSCALE`], dense: a tile again
/// with [`Load8::Exact`]'s kernel (whose weights, cast, are the same bits).
#[cold]
unsafe fn exact<E: Load8, const MR: usize>(
    x: *const f32,
    xs: usize,
    k: usize,
    f: impl FnOnce(*const f32),
) {
    let xe: Vec<f32> = (0..MR * k) // (MR, k)
        .map(|i| *x.add(i / k * xs + i % k) * E::UNSCALE)
        .collect();
    f(xe.as_ptr())
}

/// The dot order's fold of lanes 0..4, 4..8, 8..12, 12..16.
#[inline(always)]
fn fold(v: [v128; 4]) -> f32 {
    let s4 = f32x4_add(f32x4_add(v[0], v[2]), f32x4_add(v[1], v[3]));
    let s2 = f32x4_add(s4, i32x4_shuffle::<2, 3, 2, 3>(s4, s4));
    f32x4_extract_lane::<0>(s2) + f32x4_extract_lane::<1>(s2)
}

/// The rows kernel: `y += x @ w` for `m` rows of x, w (k, n) read once.
///
/// # Safety
/// `m` in 1..=8 and at most `E::ROWS`; every index in bounds; y's rows do not overlap x or w.
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
    let f = match m.min(E::ROWS) {
        1 => axpy_m::<E, 1, 4>,
        2 => axpy_m::<E, 2, 2>,
        3 => axpy_m::<E, 3, 1>,
        4 => axpy_m::<E, 4, 1>,
        5 => axpy_m::<E, 5, 1>,
        6 => axpy_m::<E, 6, 1>,
        7 => axpy_m::<E, 7, 1>,
        _ => axpy_m::<E, 8, 1>,
    };
    f(x, xs, w, ws, k, n, y, ys);
}

/// [`axpy_rows`] for M rows: strips of 8 × V columns (8 × 1 at the end), each taking the
/// products of [`KB`] rows of w into sums held in registers; the last `n % 8` columns alone.
#[allow(clippy::too_many_arguments)]
unsafe fn axpy_m<E: Load8, const M: usize, const V: usize>(
    x: *const f32,
    xs: usize,
    w: *const E,
    ws: usize,
    k: usize,
    n: usize,
    y: *mut f32,
    ys: usize,
) {
    let (wide, narrow) = (n - n % (8 * V), n - n % 8);
    for i0 in (0..k).step_by(KB) {
        let depth = KB.min(k - i0);
        let (x, w) = (x.add(i0), w.add(i0 * ws));
        for j in (0..wide).step_by(8 * V) {
            strip::<E, M, V>(x, xs, w, ws, depth, y.add(j), ys, j);
        }
        for j in (wide..narrow).step_by(8) {
            strip::<E, M, 1>(x, xs, w, ws, depth, y.add(j), ys, j);
        }
        for r in 0..M {
            for j in narrow..n {
                let yp = y.add(r * ys + j);
                for i in 0..depth {
                    *yp += E::product(*x.add(r * xs + i), *w.add(i * ws + j));
                }
            }
        }
    }
}

/// `depth` rows of products into the 8 × V columns of y at `y`, w's at column `j`.
#[inline(always)]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
unsafe fn strip<E: Load8, const M: usize, const V: usize>(
    x: *const f32,
    xs: usize,
    w: *const E,
    ws: usize,
    depth: usize,
    y: *mut f32,
    ys: usize,
    j: usize,
) {
    let (mut acc, mask) = ([[[f32x4_splat(0.0); 2]; V]; M], E::mask());
    for r in 0..M {
        for v in 0..V {
            for h in 0..2 {
                acc[r][v][h] = v128_load(y.add(r * ys + 8 * v + 4 * h).cast());
            }
        }
    }
    // Pointers stepped, not an index multiplied each turn: the engine is built without LLVM's
    // loop strength reduction (.cargo/config.toml), which leaves addresses as written here.
    let (mut seen, mut row, mut xi) = (u16x8_splat(0), w.add(j), x);
    for _ in 0..depth {
        for v in 0..V {
            E::see(row.add(8 * v), &mut seen);
            let wv = E::load8(row.add(8 * v), mask);
            for r in 0..M {
                let xr = f32x4_splat(*xi.add(r * xs));
                for h in 0..2 {
                    acc[r][v][h] = f32x4_add(acc[r][v][h], f32x4_mul(xr, wv[h]));
                }
            }
        }
        (row, xi) = (row.add(ws), xi.add(1));
    }
    if E::strays(seen) {
        // y still holds the sums before these rows.
        return exact::<E, M>(x, xs, depth, |xe| {
            strip::<E::Exact, M, V>(xe, depth, w.cast(), ws, depth, y, ys, j)
        });
    }
    for r in 0..M {
        for v in 0..V {
            for h in 0..2 {
                v128_store(y.add(r * ys + 8 * v + 4 * h).cast(), acc[r][v][h]);
            }
        }
    }
}

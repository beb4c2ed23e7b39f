//! The two orders of summation, written out plainly: the reference every SIMD kernel matches
//! bit for bit (with the multiply-add fused, [`Fused`]), and the portable path itself (rounded
//! apart, [`Apart`]: a CPU without FMA, or WebAssembly, would call a slow software FMA).

use super::Elem;
#[cfg(test)]
use super::Shape;

/// Lanes of the dot order.
pub(crate) const LANES: usize = 16;

/// A multiply-add `a * b + c`, fused or not.
pub(crate) trait Mad {
    fn mad(a: f32, b: f32, c: f32) -> f32;
}

/// One rounding, as the FMA instructions of the SIMD paths: the reference the tests hold
/// them to.
#[cfg(test)]
pub(crate) struct Fused;

/// The product rounded, then the sum.
pub(crate) struct Apart;

#[cfg(test)]
impl Mad for Fused {
    #[inline(always)]
    fn mad(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
}

impl Mad for Apart {
    #[inline(always)]
    fn mad(a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
}

/// The dot order: lane `l` sums elements `l, l + 16, …` of the whole chunks of 16, the lanes
/// fold in halves, then the last `k % 16` elements follow in order.
#[inline(always)]
pub(crate) fn dot<M: Mad, E: Elem>(x: &[f32], w: &[E]) -> f32 {
    let mut lanes = [0.0f32; LANES];
    let (xc, wc) = (x.chunks_exact(LANES), w.chunks_exact(LANES));
    let (x_tail, w_tail) = (xc.remainder(), wc.remainder());
    for (x, w) in xc.zip(wc) {
        for l in 0..LANES {
            lanes[l] = M::mad(x[l], w[l].to_f32(), lanes[l]);
        }
    }
    let mut sum = fold(lanes);
    for (&x, w) in x_tail.iter().zip(w_tail) {
        sum = M::mad(x, w.to_f32(), sum);
    }
    sum
}

/// 16 lanes to one: `l + (l + 8)`, then `+ 4`, `+ 2`, `+ 1`, the tree every path follows.
#[inline(always)]
pub(crate) fn fold(mut v: [f32; LANES]) -> f32 {
    let mut half = LANES / 2;
    while half > 0 {
        for l in 0..half {
            v[l] += v[l + half];
        }
        half /= 2;
    }
    v[0]
}

/// `y = x @ wᵀ` for w (n, k) in the dot order: the reference the kernels are tested against.
#[cfg(test)]
pub(crate) fn dot_product<M: Mad, E: Elem>(x: &[f32], w: &[E], y: &mut [f32], s: Shape) {
    for r in 0..s.m {
        let x = &x[r * s.xs..][..s.k];
        for (c, y) in y[r * s.ys..][..s.n].iter_mut().enumerate() {
            *y = dot::<M, E>(x, &w[c * s.ws..][..s.k]);
        }
    }
}

/// `y = x @ w` for w (k, n) in the axpy order: every element of y starts at 0 and takes the
/// products in the order of k. The reference the kernels are tested against.
#[cfg(test)]
pub(crate) fn axpy_product<M: Mad, E: Elem>(x: &[f32], w: &[E], y: &mut [f32], s: Shape) {
    const GROUP: usize = 4;
    for r0 in (0..s.m).step_by(GROUP) {
        let rows = GROUP.min(s.m - r0);
        for r in r0..r0 + rows {
            y[r * s.ys..][..s.n].fill(0.0);
        }
        for i in 0..s.k {
            let w = &w[i * s.ws..][..s.n];
            for r in r0..r0 + rows {
                let xi = x[r * s.xs + i];
                let y = &mut y[r * s.ys..][..s.n];
                y.iter_mut()
                    .zip(w)
                    .for_each(|(y, w)| *y = M::mad(xi, w.to_f32(), *y));
            }
        }
    }
}

// The portable path's kernels, for the loops of [`super::drive`] (which tile, pack and block
// them as every path's): plain loops over fixed-size arrays that the compiler vectorises for
// the target (SIMD128 in WebAssembly), each computing the orders above rounded apart.

/// Rows of x and of w one dot tile takes at most.
pub(super) const DOT_MR: usize = 4;
pub(super) const DOT_NR: usize = 4;

/// Rows one axpy panel takes at most, and its width: 4 × 16 sums kept in locals.
pub(super) const PANEL_MR: usize = 6;
pub(super) const PANEL_NR: usize = 8;

/// The dot tile: `y[r][c] = dot(x row r, w row c)` for `rows` × `cols` outputs over k.
///
/// # Safety
/// Every index of the tile in bounds.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn dot_tile<E: Elem>(
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
    for r in 0..rows {
        let x = std::slice::from_raw_parts(x.add(r * xs), k);
        for c in 0..cols {
            let w = std::slice::from_raw_parts(w.add(c * ws), k);
            *y.add(r * ys + c) = dot::<Apart, E>(x, w);
        }
    }
}

/// `y += x @ w` for m rows of x, w (k, n) read once: each row of w is used whole, for every
/// row of x, in the order of k.
///
/// # Safety
/// Every index in bounds; y's rows do not overlap x or w.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn axpy_rows<E: Elem>(
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
    for i in 0..k {
        let w = std::slice::from_raw_parts(w.add(i * ws), n);
        for r in 0..m {
            let xi = *x.add(r * xs + i);
            let y = std::slice::from_raw_parts_mut(y.add(r * ys), n);
            y.iter_mut()
                .zip(w)
                .for_each(|(y, w)| *y = Apart::mad(xi, w.to_f32(), *y));
        }
    }
}

/// One packed panel: `y (rows, PANEL_NR) += a (rows, kc) @ b (kc, PANEL_NR)`, the sums
/// starting at 0 when `first`, else continuing from y.
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
    f(
        a,
        xs,
        std::slice::from_raw_parts(b, kc * PANEL_NR),
        y,
        ys,
        first,
    );
}

/// [`axpy_panel`] for MR rows, a constant, so the sums stay in registers.
#[inline(always)]
unsafe fn panel<const MR: usize>(
    a: *const f32,
    xs: usize,
    b: &[f32],
    y: *mut f32,
    ys: usize,
    first: bool,
) {
    let mut acc = [[0.0f32; PANEL_NR]; MR];
    if !first {
        for (r, acc) in acc.iter_mut().enumerate() {
            acc.copy_from_slice(std::slice::from_raw_parts(y.add(r * ys), PANEL_NR));
        }
    }
    for (i, b) in b.chunks_exact(PANEL_NR).enumerate() {
        for (r, acc) in acc.iter_mut().enumerate() {
            let ai = *a.add(r * xs + i);
            for (acc, &b) in acc.iter_mut().zip(b) {
                *acc = Apart::mad(ai, b, *acc);
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        std::ptr::copy_nonoverlapping(acc.as_ptr(), y.add(r * ys), PANEL_NR);
    }
}

//! The two orders of summation, written out plainly: the reference every SIMD kernel matches
//! bit for bit (with the multiply-add fused, [`Fused`]), and the portable path itself (rounded
//! apart, [`Apart`]: a CPU without FMA, or WebAssembly, would call a slow software FMA).

use super::{Elem, Shape};

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

/// `y = x @ wᵀ` for w (n, k) in the dot order.
pub(crate) fn dot_product<M: Mad, E: Elem>(x: &[f32], w: &[E], y: &mut [f32], s: Shape) {
    for r in 0..s.m {
        let x = &x[r * s.xs..][..s.k];
        for (c, y) in y[r * s.ys..][..s.n].iter_mut().enumerate() {
            *y = dot::<M, E>(x, &w[c * s.ws..][..s.k]);
        }
    }
}

/// `y = x @ w` for w (k, n) in the axpy order: every element of y starts at 0 and takes the
/// products in the order of k. Rows of x are taken a few at a time, so w is read once for
/// them, and each row of w is used whole (the compiler vectorises along it).
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

//! f16 weights for a WebAssembly decode step, read without widening: see [`Placed`].

use core::arch::wasm32::*;

use half::f16;

use super::super::drive::{self, Weight};
use super::super::{Elem, Path, Shape};
use super::Load8;
use crate::compute::buf::noted_finite;

/// An f16 weight for decoding: its bits moved to f32's places (the sign to bit 31, exponent
/// and mantissa up 13) are exactly `w · 2^-112`, subnormals included, so with x taken times
/// 2^112 each product `(x · 2^112)(w · 2^-112)` is `x · w` rounded alike, and every sum has
/// the f16 path's bits for three integer steps per 4 weights instead of eight and a multiply.
/// It holds for |x| < 2^16 (no x · 2^112 overflows; [`through_placed`] checks) and finite weights:
/// the kernels note infinities and NaNs as they load ([`Load8::see`]) and take the tile again
/// with f16's exact widening where any was.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub(crate) struct Placed(u16);

/// 2^112, the scale between an f16 and its bits placed as an f32.
pub(super) const TWO_112: f32 = f32::from_bits((127 + 112) << 23);

impl Elem for Placed {
    /// `w · 2^-112` for a finite w.
    #[inline(always)]
    fn to_f32(self) -> f32 {
        let h = self.0 as u32;
        f32::from_bits((h & 0x8000) << 16 | (h & 0x7fff) << 13)
    }

    fn widen(src: &[Placed], dst: &mut [f32]) {
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = s.to_f32();
        }
    }
}

impl Load8 for Placed {
    type Exact = f16;
    const UNSCALE: f32 = 1.0 / TWO_112;
    const ROWS: usize = 1;

    /// 0x8fff in each 16-bit lane, for [`Placed::load8`], hidden from the compiler: as a
    /// constant, V8 builds it anew on every turn of a kernel's loop (`movabs`, `vmovq`,
    /// `vpunpcklqdq`); as a value it stays in a register.
    fn mask() -> v128 {
        std::hint::black_box(u16x8_splat(0x8fff))
    }

    /// Per 8 values: the high halves (sign, exponent, the mantissa's top 7 bits) by a shift
    /// that copies the sign and `mask` ([`Placed::mask`]) that clears the copies, the low
    /// halves (the mantissa's last 3 bits) by a shift, interleaved.
    #[inline(always)]
    unsafe fn load8(p: *const Placed, mask: v128) -> [v128; 2] {
        let h = v128_load(p.cast());
        let high = v128_and(i16x8_shr(h, 3), mask);
        let low = i16x8_shl(h, 13);
        [
            u16x8_shuffle::<0, 8, 1, 9, 2, 10, 3, 11>(low, high),
            u16x8_shuffle::<4, 12, 5, 13, 6, 14, 7, 15>(low, high),
        ]
    }

    /// The largest exponent and mantissa seen, sign dropped: 0xf800 and up is exponent 31.
    #[inline(always)]
    unsafe fn see(p: *const Placed, seen: &mut v128) {
        *seen = u16x8_max(*seen, i16x8_shl(v128_load(p.cast()), 1));
    }

    #[inline(always)]
    fn strays(seen: v128) -> bool {
        v128_any_true(u16x8_ge(seen, u16x8_splat(0xf800)))
    }

    #[inline(always)]
    fn product(x: f32, w: Placed) -> f32 {
        match w.0 & 0x7c00 {
            0x7c00 => x * Self::UNSCALE * super::super::f16_to_f32(w.0),
            _ => x * w.to_f32(),
        }
    }
}

/// [`Placed`] weights that the loader found finite (`Buf::note_finite`): the kernels leave out
/// [`Load8::see`] (per 8 weights a shift and a max, and a register that V8 spilled) and never
/// take a tile again.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub(crate) struct Finite(Placed);

impl Elem for Finite {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self.0.to_f32()
    }

    fn widen(src: &[Finite], dst: &mut [f32]) {
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = s.to_f32();
        }
    }
}

impl Load8 for Finite {
    type Exact = f16;
    const UNSCALE: f32 = Placed::UNSCALE;
    const ROWS: usize = Placed::ROWS;

    fn mask() -> v128 {
        Placed::mask()
    }

    #[inline(always)]
    unsafe fn load8(p: *const Finite, mask: v128) -> [v128; 2] {
        Placed::load8(p.cast(), mask)
    }
}

/// `y = x @ wᵀ` in the dot order through placed weights where it pays and holds: see
/// [`through_placed`].
pub(in super::super) fn placed_dot(
    x: &[f32],
    w: &[f16],
    y: &mut [f32],
    s: Shape,
    t: usize,
) -> bool {
    through_placed(Order::Dot, x, w, y, s, t)
}

/// `y = x @ w` in the axpy order through placed weights where it pays and holds: see
/// [`through_placed`].
pub(in super::super) fn placed_axpy(
    x: &[f32],
    w: &[f16],
    y: &mut [f32],
    s: Shape,
    t: usize,
) -> bool {
    through_placed(Order::Axpy, x, w, y, s, t)
}

/// A product's order: [`drive::dot`] or [`drive::axpy`].
#[derive(Clone, Copy)]
enum Order {
    Dot,
    Axpy,
}

/// `y = x @ wᵀ` or `y = x @ w` (as `order` takes it) through [`Placed`] weights, or
/// [`Finite`] ones where the loader found w finite, where it pays and holds: one row of x (a
/// decode step), all below 2^16 in magnitude. False, with nothing written, elsewhere.
fn through_placed(
    order: Order,
    x: &[f32],
    w: &[f16],
    y: &mut [f32],
    s: Shape,
    threads: usize,
) -> bool {
    let Some(scaled) = (s.m <= Placed::ROWS).then(|| scaled(x, s)).flatten() else {
        return false;
    };
    let dense = Shape { xs: s.k, ..s };
    match noted_finite(w) {
        true => run(order, &scaled, as_bits::<Finite>(w), y, dense, threads),
        false => run(order, &scaled, as_bits::<Placed>(w), y, dense, threads),
    }
    true
}

fn run<E: Weight>(order: Order, x: &[f32], w: &[E], y: &mut [f32], s: Shape, threads: usize) {
    match order {
        Order::Dot => drive::dot(Path::Simd128, x, w, y, s, threads),
        Order::Axpy => drive::axpy(Path::Simd128, x, w, y, s, threads),
    }
}

/// x's m rows of k, dense, times 2^112; `None` where one is 2^16 or more in magnitude, or NaN.
fn scaled(x: &[f32], s: Shape) -> Option<Vec<f32>> {
    let mut out = Vec::with_capacity(s.m * s.k); // (m, k)
    for row in x.chunks(s.xs).take(s.m) {
        for &v in &row[..s.k] {
            if v.is_nan() || v.abs() >= 65536.0 {
                return None;
            }
            out.push(v * TWO_112);
        }
    }
    Some(out)
}

/// w's bits as `E`, a transparent u16 as f16 is.
fn as_bits<E: Load8>(w: &[f16]) -> &[E] {
    debug_assert_eq!(size_of::<E>(), size_of::<f16>());
    // SAFETY: E is Placed or Finite, both a transparent u16, as f16 is.
    unsafe { std::slice::from_raw_parts(w.as_ptr().cast(), w.len()) }
}

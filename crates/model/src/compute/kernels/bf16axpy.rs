//! bf16 weights (k, n) multiplied with the CPU's own bf16 dot product (`vdpbf16ps`,
//! AVX512_BF16), in the axpy order taken two rows at a time: the activations are rounded to
//! bf16, and each output adds `x[2q]·w[2q] + x[2q+1]·w[2q+1]` for q = 0, 1, … in order, as
//! the instruction does (an odd k's last row is paired with a zero). A decode step's rows
//! kernel and a prefill's packed panels do exactly this, so they give the same bits.

use std::arch::x86_64::*;

use half::bf16;

use super::drive::{split, Out, ROWS};
use super::Shape;

/// Rows one panel takes at most, and its width (4 vectors of 16 outputs).
const MR: usize = 6;
const NR: usize = 64;

/// Rows of w in a packed block: a block of panels stays in L2, one panel in L1.
const KC: usize = 256;
const NC: usize = 256;

/// `y = x @ w` for bf16 w (k, n). The caller has checked the shape and that the CPU has
/// AVX-512F, BW, VL and BF16.
pub(super) fn axpy(x: &[f32], w: &[bf16], y: &mut [f32], s: Shape, threads: usize) {
    let pairs = s.k.div_ceil(2);
    let mut xp = vec![0u32; s.m * pairs]; // (m, pairs): two bf16 activations in each
    for (r, row) in xp.chunks_exact_mut(pairs).enumerate() {
        let x = &x[r * s.xs..][..s.k];
        for (q, p) in row.iter_mut().enumerate() {
            let hi = x.get(2 * q + 1).map_or(0, |&v| bf16::from_f32(v).to_bits());
            *p = bf16::from_f32(x[2 * q]).to_bits() as u32 | (hi as u32) << 16;
        }
    }
    let out = Out(y.as_mut_ptr());
    split(s.n, s.m, threads, |c0, c1| match s.m <= ROWS {
        // SAFETY: `kernels::axpy` checked the shape and chose this path only where the CPU
        // has the features; only this thread writes columns c0..c1.
        true => unsafe { rows(&xp, pairs, w, out, s, c0, c1) },
        false => panels(&xp, pairs, w, out, s, c0, c1),
    });
}

/// Up to 8 rows of x: the rows of w stream past once, 8 at a time (4 pairs), each pair
/// interleaved in registers and used for every row of x; y holds the sums.
///
/// # Safety
/// AVX-512F/BW/VL/BF16; the shape checked; columns c0..c1 this thread's.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
unsafe fn rows(xp: &[u32], pairs: usize, w: &[bf16], out: Out, s: Shape, c0: usize, c1: usize) {
    for r in 0..s.m {
        std::ptr::write_bytes(out.0.add(r * s.ys + c0), 0, c1 - c0);
    }
    let wp = w.as_ptr();
    for q0 in (0..pairs).step_by(4) {
        let group = 4.min(pairs - q0);
        for j in (c0..c1).step_by(16) {
            let mask: __mmask16 = ((1u32 << (c1 - j).min(16)) - 1) as u16;
            let mut wv = [_mm512_setzero_si512(); 4];
            for (g, v) in wv.iter_mut().enumerate().take(group) {
                let i = 2 * (q0 + g);
                let even = _mm256_maskz_loadu_epi16(mask, wp.add(i * s.ws + j).cast());
                let odd = match i + 1 < s.k {
                    true => _mm256_maskz_loadu_epi16(mask, wp.add((i + 1) * s.ws + j).cast()),
                    false => _mm256_setzero_si256(),
                };
                let hi = _mm512_slli_epi32::<16>(_mm512_cvtepu16_epi32(odd));
                *v = _mm512_or_si512(_mm512_cvtepu16_epi32(even), hi);
            }
            for b in 0..s.m {
                let yp = out.0.add(b * s.ys + j);
                let mut acc = _mm512_maskz_loadu_ps(mask, yp);
                for (g, v) in wv.iter().enumerate().take(group) {
                    let a = _mm512_set1_epi32(xp[b * pairs + q0 + g] as i32);
                    acc = _mm512_dpbf16_ps(acc, bh(a), bh(*v));
                }
                _mm512_mask_storeu_ps(yp, mask, acc);
            }
        }
    }
}

/// More rows: blocks of w packed into panels of 64 columns, pairs of rows interleaved, each
/// panel used for every row of x while it sits in L1.
fn panels(xp: &[u32], pairs: usize, w: &[bf16], out: Out, s: Shape, c0: usize, c1: usize) {
    let mut pack = vec![0u32; KC / 2 * NC]; // panels of (KC / 2, NR) pairs
    let mut edge = [0.0f32; MR * NR];
    for b0 in (c0..c1).step_by(NC) {
        let cols = NC.min(c1 - b0);
        for k0 in (0..s.k).step_by(KC) {
            let depth = KC.min(s.k - k0).div_ceil(2); // pairs in this block
            pack_pairs(w, s, k0, depth, b0, cols, &mut pack);
            for (p, panel) in pack
                .chunks_exact(depth * NR)
                .take(cols.div_ceil(NR))
                .enumerate()
            {
                let (j0, width) = (b0 + p * NR, NR.min(cols - p * NR));
                for r in (0..s.m).step_by(MR) {
                    let t = Tile {
                        a: xp[r * pairs + k0 / 2..].as_ptr(),
                        pairs,
                        rows: MR.min(s.m - r),
                        b: panel.as_ptr(),
                        depth,
                        first: k0 == 0,
                    };
                    // SAFETY: as in `axpy`; a tile narrower than a panel goes through `edge`.
                    unsafe {
                        let yp = out.0.add(r * s.ys + j0);
                        if width == NR {
                            tile(t, yp, s.ys);
                            continue;
                        }
                        for i in 0..t.rows {
                            std::ptr::copy_nonoverlapping(
                                yp.add(i * s.ys),
                                edge[i * NR..].as_mut_ptr(),
                                width,
                            );
                        }
                        tile(t, edge.as_mut_ptr(), NR);
                        for i in 0..t.rows {
                            std::ptr::copy_nonoverlapping(
                                edge[i * NR..].as_ptr(),
                                yp.add(i * s.ys),
                                width,
                            );
                        }
                    }
                }
            }
        }
    }
}

/// Rows k0..k0 + 2·depth (zeros past k), columns c0..c0 + cols (zeros past them) of w, as
/// panels of (depth, NR) pairs: pair q of column j holds rows 2q and 2q + 1 of the block.
fn pack_pairs(
    w: &[bf16],
    s: Shape,
    k0: usize,
    depth: usize,
    c0: usize,
    cols: usize,
    pack: &mut [u32],
) {
    let zeros = [bf16::ZERO; NR];
    for (p, panel) in pack
        .chunks_exact_mut(depth * NR)
        .take(cols.div_ceil(NR))
        .enumerate()
    {
        let (j, width) = (c0 + p * NR, NR.min(cols - p * NR));
        let row = |i: usize| match i < s.k {
            true => &w[i * s.ws + j..][..width],
            false => &zeros[..width],
        };
        for (q, out) in panel.chunks_exact_mut(NR).enumerate() {
            let (even, odd) = (row(k0 + 2 * q), row(k0 + 2 * q + 1));
            for ((o, a), b) in out.iter_mut().zip(even).zip(odd) {
                *o = a.to_bits() as u32 | (b.to_bits() as u32) << 16;
            }
            out[width..].fill(0);
        }
    }
}

/// One panel's operands: `rows` rows of paired activations (`pairs` apart), the panel, and
/// whether the sums start at 0 or continue from y.
#[derive(Clone, Copy)]
struct Tile {
    a: *const u32,
    pairs: usize,
    rows: usize,
    b: *const u32,
    depth: usize,
    first: bool,
}

/// # Safety
/// AVX-512F/BF16; `t.rows` in 1..=MR; y has `t.rows` rows of NR values, `ys` apart.
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn tile(t: Tile, y: *mut f32, ys: usize) {
    match t.rows {
        1 => panel::<1>(t, y, ys),
        2 => panel::<2>(t, y, ys),
        3 => panel::<3>(t, y, ys),
        4 => panel::<4>(t, y, ys),
        5 => panel::<5>(t, y, ys),
        _ => panel::<6>(t, y, ys),
    }
}

#[inline]
#[target_feature(enable = "avx512f,avx512bf16")]
#[allow(clippy::needless_range_loop)] // r and v index several arrays at once
unsafe fn panel<const M: usize>(t: Tile, y: *mut f32, ys: usize) {
    const V: usize = NR / 16;
    let mut acc = [[_mm512_setzero_ps(); V]; M];
    if !t.first {
        for r in 0..M {
            for v in 0..V {
                acc[r][v] = _mm512_loadu_ps(y.add(r * ys + 16 * v));
            }
        }
    }
    for q in 0..t.depth {
        let row = t.b.add(q * NR);
        let mut bv = [_mm512_setzero_si512(); V];
        for v in 0..V {
            bv[v] = _mm512_loadu_si512(row.add(16 * v).cast());
        }
        for r in 0..M {
            let a = bh(_mm512_set1_epi32(*t.a.add(r * t.pairs + q) as i32));
            for v in 0..V {
                acc[r][v] = _mm512_dpbf16_ps(acc[r][v], a, bh(bv[v]));
            }
        }
    }
    for r in 0..M {
        for v in 0..V {
            _mm512_storeu_ps(y.add(r * ys + 16 * v), acc[r][v]);
        }
    }
}

/// 32 bf16 values, as the dot product's operand.
#[inline(always)]
fn bh(v: __m512i) -> __m512bh {
    // SAFETY: both are 512 bits of plain data.
    unsafe { std::mem::transmute::<__m512i, __m512bh>(v) }
}

//! A prefill's GEMM in the axpy order: blocks of w (k, n) packed into panels of `nr` columns,
//! each kept in L1 while every row of x passes through the path's panel kernel. Nothing here
//! changes an element's order of summation: each block of k continues the sums the block
//! before left in y, from k = 0 upward, so any split of the columns gives the same bits.
//!
//! What this file decides is the time around the kernel's FMAs, which on the 2-core Xeon
//! (BENCHMARKS.md) ran near the FMA peak on one thread while a 256-token f32 prefill took
//! 1.28× the `gemm` crate's time on two:
//! - Packing copies a strip of each row of a block of w: for f32 that was a `memcpy` call
//!   per panel row (16 values on AVX2), now copies of a length the compiler knows.
//! - The strips come from memory a few cache lines at a time with a jump of a row between,
//!   which the hardware prefetchers learn little from; the rows of the next block are asked
//!   for (into L2) a few at a time while the kernel works on the current one.
//! - The threads take whole panels in blocks as even as panels allow: GPT-2's 2,304 query,
//!   key and value columns went 1,280 / 1,024 to the two threads in blocks of 320.

use std::any::TypeId;

use rayon::prelude::*;

use super::drive::{Out, Weight};
use super::Shape;

/// `(a, xs, rows, b, kc, y, ys, first)`: one packed panel of `nr` columns; see
/// `avx512::axpy_panel`.
pub(super) type Kernel =
    unsafe fn(*const f32, usize, usize, *const f32, usize, *mut f32, usize, bool);

/// A path's panel kernel and its tile: at most `mr` rows by `nr` columns.
#[derive(Clone, Copy)]
pub(super) struct Panel {
    pub(super) mr: usize,
    pub(super) nr: usize,
    pub(super) kernel: Kernel,
}

/// A packed panel's bytes, kept in L1 while every row of x passes by: its depth in k.
const L1_PANEL_BYTES: usize = 32 << 10;

/// Most bytes of packed panels at once (one block of columns by one block of k), kept in L2.
const L2_PACK_BYTES: usize = 256 << 10;

/// Blocks of columns per thread: two, so a thread held up by the machine holds up half a
/// share, while each block's rows stay long enough for the prefetchers.
const PARTS_PER_THREAD: usize = 2;

/// `y = x @ w` for w (k, n), on up to `threads` threads of the current rayon pool.
pub(super) fn axpy<E: Weight>(p: Panel, x: &[f32], w: &[E], out: Out, s: Shape, threads: usize) {
    let panels = s.n.div_ceil(p.nr);
    let parts = (threads * PARTS_PER_THREAD).min(panels).max(1);
    let bounds = |i: usize| (i * panels / parts * p.nr).min(s.n); // whole panels, as even as can be
    if threads == 1 || parts == 1 {
        return columns(p, x, w, out, s, 0, s.n);
    }
    (0..parts)
        .into_par_iter()
        .for_each(|i| columns(p, x, w, out, s, bounds(i), bounds(i + 1)));
}

/// [`axpy`] for output columns c0..c1, in blocks of columns whose packed panels fit in L2.
#[allow(clippy::too_many_arguments)]
fn columns<E: Weight>(p: Panel, x: &[f32], w: &[E], out: Out, s: Shape, c0: usize, c1: usize) {
    let kc = L1_PANEL_BYTES / (4 * p.nr);
    let most = (L2_PACK_BYTES / (4 * kc)).max(p.nr); // columns a block may have
    let panels = (c1 - c0).div_ceil(p.nr);
    let blocks = (c1 - c0).div_ceil(most);
    let block = |i: usize| (c0 + i * panels / blocks * p.nr).min(c1); // as even as can be
    let widest = panels.div_ceil(blocks) * p.nr;
    // Every (block of columns, block of k), in the order they run.
    let steps: Vec<(usize, usize, usize)> = (0..blocks)
        .flat_map(|b| {
            (0..s.k)
                .step_by(kc)
                .map(move |k0| (block(b), block(b + 1), k0))
        })
        .collect();
    let mut pack = vec![0.0f32; kc.min(s.k) * widest]; // panels of (kc, nr)
    let mut edge = vec![0.0f32; p.mr * p.nr]; // (mr, nr): a tile whose columns run past c1
    let mut row = vec![0.0f32; widest]; // (cols,): a row of the block, widened
    for (i, &(b0, b1, k0)) in steps.iter().enumerate() {
        let depth = kc.min(s.k - k0);
        pack_panels(w, s.ws, k0, depth, b0, b1 - b0, p.nr, &mut pack, &mut row);
        let ahead = steps.get(i + 1).map(|&(n0, n1, nk)| Ahead {
            w: w[nk * s.ws + n0..].as_ptr(),
            ws: s.ws,
            rows: kc.min(s.k - nk),
            bytes: (n1 - n0) * std::mem::size_of::<E>(),
        });
        let tile = Block {
            x,
            s,
            k0,
            depth,
            b0,
            b1,
        };
        tiles(p, &tile, &pack, &mut edge, out, ahead);
    }
}

/// One block of columns b0..b1 by one block of k, packed.
struct Block<'a> {
    x: &'a [f32],
    s: Shape,
    k0: usize,
    depth: usize,
    b0: usize,
    b1: usize,
}

/// The rows of w the next block packs, asked for while this one runs (on x86-64: elsewhere
/// [`prefetch`] has no stable instruction to ask with).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
struct Ahead<E> {
    w: *const E,
    ws: usize,
    rows: usize,
    bytes: usize,
}

/// Every tile of a packed block: for each panel, every row of x; between tiles, a share of
/// the next block's rows of w is prefetched.
fn tiles<E>(
    p: Panel,
    t: &Block,
    pack: &[f32],
    edge: &mut [f32],
    out: Out,
    ahead: Option<Ahead<E>>,
) {
    let (s, cols) = (t.s, t.b1 - t.b0);
    let row_tiles = s.m.div_ceil(p.mr);
    let calls = cols.div_ceil(p.nr) * row_tiles;
    let panels = pack.chunks_exact(t.depth * p.nr).take(cols.div_ceil(p.nr));
    for (q, panel) in panels.enumerate() {
        let (j0, width) = (t.b0 + q * p.nr, p.nr.min(cols - q * p.nr));
        for (ti, r) in (0..s.m).step_by(p.mr).enumerate() {
            if let Some(a) = &ahead {
                let call = q * row_tiles + ti;
                prefetch(a, call * a.rows / calls, (call + 1) * a.rows / calls);
            }
            let rows = p.mr.min(s.m - r);
            let a = t.x[r * s.xs + t.k0..].as_ptr();
            let (bp, first) = (panel.as_ptr(), t.k0 == 0);
            // SAFETY: `kernels::axpy` checked every index of the shape inside the slices, the
            // path is one the CPU supports, and this thread alone writes columns b0..b1 of y.
            // The panel holds depth × nr values; a tile narrower than a panel goes through
            // `edge`, a whole (mr, nr) tile.
            unsafe {
                let yp = out.0.add(r * s.ys + j0);
                if width == p.nr {
                    (p.kernel)(a, s.xs, rows, bp, t.depth, yp, s.ys, first);
                    continue;
                }
                for i in 0..rows {
                    let e = edge.as_mut_ptr().add(i * p.nr);
                    std::ptr::copy_nonoverlapping(yp.add(i * s.ys), e, width);
                }
                (p.kernel)(a, s.xs, rows, bp, t.depth, edge.as_mut_ptr(), p.nr, first);
                for i in 0..rows {
                    let e = edge.as_ptr().add(i * p.nr);
                    std::ptr::copy_nonoverlapping(e, yp.add(i * s.ys), width);
                }
            }
        }
    }
}

/// Asks for rows r0..r1 of the next block, every cache line of each, into L2.
#[inline]
fn prefetch<E>(a: &Ahead<E>, r0: usize, r1: usize) {
    #[cfg(target_arch = "x86_64")]
    for r in r0..r1 {
        let row = a.w.wrapping_add(r * a.ws).cast::<u8>();
        // Every line the row's bytes touch: one per 64 bytes, and the last.
        let lines = (0..a.bytes).step_by(64).chain(std::iter::once(a.bytes - 1));
        for b in lines {
            // SAFETY: a prefetch never faults, and the addresses lie in w's rows anyway.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T1 }>(
                    row.wrapping_add(b).cast(),
                )
            };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (a, r0, r1);
}

/// Copies rows k0..k0 + depth, columns c0..c0 + cols of w (rows `ws` apart) into panels of
/// (depth, nr) f32 values, the last one padded with zeros. Copies have a length the compiler
/// knows (for f32 a `memcpy` call per panel row of 16 values cost more than the copy); 16-bit
/// rows are widened whole into `row` first, one call a row, not one a panel.
#[allow(clippy::too_many_arguments)]
fn pack_panels<E: Weight>(
    w: &[E],
    ws: usize,
    k0: usize,
    depth: usize,
    c0: usize,
    cols: usize,
    nr: usize,
    pack: &mut [f32],
    row: &mut [f32],
) {
    for i in 0..depth {
        let src = &w[(k0 + i) * ws + c0..][..cols];
        let src: &[f32] = if TypeId::of::<E>() == TypeId::of::<f32>() {
            // SAFETY: E is f32.
            unsafe { std::slice::from_raw_parts(src.as_ptr().cast(), cols) }
        } else {
            E::widen(src, &mut row[..cols]);
            &row[..cols]
        };
        for (p, values) in src.chunks(nr).enumerate() {
            let dst = &mut pack[(p * depth + i) * nr..][..nr];
            match (nr, values.len()) {
                (8, 8) => dst[..8].copy_from_slice(&values[..8]),
                (16, 16) => dst[..16].copy_from_slice(&values[..16]),
                (64, 64) => dst[..64].copy_from_slice(&values[..64]),
                (_, len) => {
                    dst[..len].copy_from_slice(values);
                    dst[len..].fill(0.0); // the last panel's padding
                }
            }
        }
    }
}

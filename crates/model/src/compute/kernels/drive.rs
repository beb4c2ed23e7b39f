//! The loops around the kernels, the same for every path: tiles of a dot product, the rows
//! kernel or the packed panels of an axpy product, and the cache blocks both walk. None of
//! them changes an element's order of summation, which the kernels fix.

use rayon::prelude::*;

use super::panels::Panel;
use super::slabs::SLAB;
use super::{Elem, Path, Shape};

/// A weight type every path's kernels can load.
#[cfg(target_arch = "x86_64")]
pub(crate) trait Weight: Elem + super::avx512::Load16 + super::avx2::Load8 {}
#[cfg(target_arch = "x86_64")]
impl<T: Elem + super::avx512::Load16 + super::avx2::Load8> Weight for T {}

#[cfg(target_arch = "aarch64")]
pub(crate) trait Weight: Elem + super::neon::Load4 {}
#[cfg(target_arch = "aarch64")]
impl<T: Elem + super::neon::Load4> Weight for T {}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) trait Weight: Elem + super::simd128::Load8 {}
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
impl<T: Elem + super::simd128::Load8> Weight for T {}

#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
pub(crate) trait Weight: Elem {}
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
impl<T: Elem> Weight for T {}

/// `(x, xs, rows, w, ws, cols, k, y, ys)`: a dot tile of `rows` ≤ `dot_mr` rows of x and
/// `cols` ≤ `dot_nr` rows of w.
type DotTile<E> =
    unsafe fn(*const f32, usize, usize, *const E, usize, usize, usize, *mut f32, usize);

/// `(x, xs, m, w, ws, k, n, y, ys)`: y += x @ w for m ≤ `ROWS` rows, streaming w once.
type AxpyRows<E> =
    unsafe fn(*const f32, usize, usize, *const E, usize, usize, usize, *mut f32, usize);

/// One path's kernels for weights of type E, and the sizes of their tiles.
struct Kit<E> {
    dot_mr: usize,
    dot_nr: usize,
    dot_tile: DotTile<E>,
    dot_tile_f32: DotTile<f32>,
    axpy_rows: AxpyRows<E>,
    panel: Panel,
}

/// The kernels of module `$k` (every path's module has the same items).
macro_rules! kit_of {
    ($k:ident) => {
        Kit {
            dot_mr: super::$k::DOT_MR,
            dot_nr: super::$k::DOT_NR,
            dot_tile: super::$k::dot_tile::<E>,
            dot_tile_f32: super::$k::dot_tile::<f32>,
            axpy_rows: super::$k::axpy_rows::<E>,
            panel: Panel {
                mr: super::$k::PANEL_MR,
                nr: super::$k::PANEL_NR,
                kernel: super::$k::axpy_panel,
            },
        }
    };
}

/// The kernels of `path`.
fn kit<E: Weight>(path: Path) -> Kit<E> {
    match path {
        #[cfg(target_arch = "x86_64")]
        Path::Amx | Path::Avx512Bf16 | Path::Avx512 => kit_of!(avx512),
        #[cfg(target_arch = "x86_64")]
        Path::Avx2 => kit_of!(avx2),
        #[cfg(target_arch = "aarch64")]
        Path::Neon => kit_of!(neon),
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        Path::Simd128 => kit_of!(simd128),
        _ => kit_of!(portable),
    }
}

/// Rows of x kept in L2 while the rest passes by.
const L2_BLOCK_BYTES: usize = 256 << 10;

/// Most rows of x the axpy rows kernel takes; more go through packed panels.
pub(super) const ROWS: usize = 8;

/// Threads split the output columns in blocks of a multiple of this many: every tile and
/// panel width divides it.
const ALIGN: usize = 64;

/// The same for a few rows (at most [`ROWS`]: no packed panels), one vector of columns: each
/// thread streams its block of weights once and the last to finish sets the pace, so the
/// blocks are as even as a vector allows (SmolLM2's 576 columns 288/288, not 320/256; its
/// 192 key columns 96/96, not 128/64).
const ROWS_ALIGN: usize = 16;

/// y's values, written by several threads at once, each in its own columns.
#[derive(Clone, Copy)]
pub(super) struct Out(pub(super) *mut f32);

// SAFETY: the threads that share an `Out` write disjoint columns of it (see `split`), and the
// borrow it came from outlives them.
unsafe impl Send for Out {}
unsafe impl Sync for Out {}

impl Out {
    /// y from column `c` of its first row on (a method, so closures share the whole `Out`).
    ///
    /// # Safety
    /// Column `c` must lie inside y's first row.
    unsafe fn at_column(self, c: usize) -> Out {
        Out(self.0.add(c))
    }
}

/// Runs `f(c0, c1)` on blocks of the n output columns across `threads` threads: one block
/// each for a few rows (decoding streams each thread's weights once), more for many (a
/// prefill), so a thread held up by the machine holds up less.
pub(super) fn split(n: usize, m: usize, threads: usize, f: impl Fn(usize, usize) + Sync) {
    let per_thread = if m <= 16 { 1 } else { 4 };
    let align = if m <= ROWS { ROWS_ALIGN } else { ALIGN };
    let parts = (threads * per_thread).min(n.div_ceil(align)).max(1);
    if parts == 1 || threads == 1 {
        return f(0, n);
    }
    let width = n.div_ceil(parts).next_multiple_of(align);
    let starts: Vec<usize> = (0..n).step_by(width).collect();
    starts
        .into_par_iter()
        .for_each(|c0| f(c0, n.min(c0 + width)));
}

/// y = x @ wᵀ in the dot order, tiled so each group of w rows is read from memory once per
/// block of x rows. 16-bit weights are widened one group at a time when many rows use them
/// (a prefill), so the conversion is paid once per group, not once per tile.
pub(super) fn dot<E: Weight>(
    path: Path,
    x: &[f32],
    w: &[E],
    y: &mut [f32],
    s: Shape,
    threads: usize,
) {
    let (out, kit) = (Out(y.as_mut_ptr()), kit::<E>(path));
    split(s.n, s.m, threads, |c0, c1| {
        dot_columns(&kit, x, w, out, s, c0, c1)
    });
}

/// [`dot`] for output columns c0..c1.
fn dot_columns<E: Weight>(
    kit: &Kit<E>,
    x: &[f32],
    w: &[E],
    out: Out,
    s: Shape,
    c0: usize,
    c1: usize,
) {
    let (mr, nr) = (kit.dot_mr, kit.dot_nr);
    let block = (L2_BLOCK_BYTES / (4 * s.k)).next_multiple_of(mr).max(mr);
    let widen = std::mem::size_of::<E>() != 4 && s.m > 2 * mr;
    let mut wide = vec![0.0f32; if widen { nr * s.k } else { 0 }]; // (cols, k)
    for r0 in (0..s.m).step_by(block) {
        let r1 = s.m.min(r0 + block);
        for c in (c0..c1).step_by(nr) {
            let cols = nr.min(c1 - c);
            if widen {
                for (j, row) in wide.chunks_exact_mut(s.k).take(cols).enumerate() {
                    E::widen(&w[(c + j) * s.ws..][..s.k], row);
                }
            }
            for r in (r0..r1).step_by(mr) {
                let rows = mr.min(r1 - r);
                let xp = x[r * s.xs..].as_ptr();
                // SAFETY: `kernels::dot` checked every index of the shape inside the slices,
                // `path` is one the CPU supports (only then is it chosen), and this thread
                // alone writes columns c0..c1 of y.
                unsafe {
                    let yp = out.0.add(r * s.ys + c);
                    if widen {
                        let wp = wide.as_ptr();
                        (kit.dot_tile_f32)(xp, s.xs, rows, wp, s.k, cols, s.k, yp, s.ys)
                    } else {
                        let wp = w[c * s.ws..].as_ptr();
                        (kit.dot_tile)(xp, s.xs, rows, wp, s.ws, cols, s.k, yp, s.ys)
                    }
                }
            }
        }
    }
}

/// y = x @ w in the axpy order: up to [`ROWS`] rows stream w once through the rows kernel,
/// more go through blocks of w packed into panels ([`super::panels`], a GEMM), each
/// continuing the sums the block before left in y.
pub(super) fn axpy<E: Weight>(
    path: Path,
    x: &[f32],
    w: &[E],
    y: &mut [f32],
    s: Shape,
    threads: usize,
) {
    let (out, kit) = (Out(y.as_mut_ptr()), kit::<E>(path));
    if s.m > ROWS {
        return super::panels::axpy(kit.panel, x, w, out, s, threads);
    }
    split(s.n, s.m, threads, |c0, c1| {
        axpy_rows(&kit, x, w, out, s, c0, c1)
    });
}

/// [`axpy`] for w stored in slabs (see [`super::slabs`]), through the same kernels, each slab
/// a (k, width) matrix of its own: for a few rows each thread takes its columns a slab at a
/// time; more rows take the packed panels slab by slab, each split across the threads.
pub(super) fn axpy_slabs<E: Weight>(
    path: Path,
    x: &[f32],
    w: &[E],
    y: &mut [f32],
    s: Shape,
    threads: usize,
) {
    let (out, kit) = (Out(y.as_mut_ptr()), kit::<E>(path));
    // Slab `base / SLAB`: its columns of w, its shape, and y from its first column.
    let slab = |base: usize| {
        let width = SLAB.min(s.n - base);
        let one = Shape {
            n: width,
            ws: width,
            ..s
        };
        // SAFETY: base < n, so column `base` of every row of y lies inside y.
        let y = unsafe { out.at_column(base) };
        (&w[base * s.k..][..width * s.k], one, y) // (k, width)
    };
    if s.m > ROWS {
        for base in (0..s.n).step_by(SLAB) {
            let (w, one, y) = slab(base);
            super::panels::axpy(kit.panel, x, w, y, one, threads);
        }
        return;
    }
    split(s.n, s.m, threads, |c0, c1| {
        let mut c = c0;
        while c < c1 {
            let base = c - c % SLAB;
            let (w, one, y) = slab(base);
            let end = c1.min(base + one.n);
            axpy_rows(&kit, x, w, y, one, c - base, end - base);
            c = end;
        }
    });
}

/// The rows kernel on output columns c0..c1, in blocks narrow enough that y's rows stay in
/// L1 (32 KiB) while w streams past.
fn axpy_rows<E: Weight>(
    kit: &Kit<E>,
    x: &[f32],
    w: &[E],
    out: Out,
    s: Shape,
    c0: usize,
    c1: usize,
) {
    let width = ((32 << 10) / (4 * s.m) / 16 * 16).max(16);
    for c in (c0..c1).step_by(width) {
        let cols = width.min(c1 - c);
        // SAFETY: as in `dot_columns`: columns c..c + cols of every row lie inside w and y,
        // and only this thread writes them.
        unsafe {
            for r in 0..s.m {
                std::ptr::write_bytes(out.0.add(r * s.ys + c), 0, cols); // the sums start at 0
            }
            let (wp, yp) = (w[c..].as_ptr(), out.0.add(c));
            (kit.axpy_rows)(x.as_ptr(), s.xs, s.m, wp, s.ws, s.k, cols, yp, s.ys);
        }
    }
}

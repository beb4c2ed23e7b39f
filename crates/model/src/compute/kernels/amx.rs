//! bf16 weights (k, n) multiplied on AMX tiles (AMX-BF16: Intel Sapphire Rapids and later).
//! One `tdpbf16ps` multiplies 16 rows of 32 bf16 activations by 32 × 16 bf16 weights: 8,192
//! products, against 16 for one AVX-512 f32 FMA, so a prefill's products stop being the work.
//!
//! The order, the same for a decode step and a prefill: activations are rounded to bf16 (k
//! padded with zeros to a multiple of 32), and every output starts at 0 and takes one
//! `tdpbf16ps` step per 32 values of k, in order. Inside a step the CPU adds the 32 products
//! as Intel documents (two chains of 16, even and odd, from 0, then their sum added; matched
//! in 512,000 of 512,000 random outputs on this Xeon): one function of that output's
//! activations, weights and sum, whatever other rows share the tile (padded with zeros) and
//! whatever columns a thread took. Blocks of k only pause a sum in f32 memory, exactly,
//! between steps. Up to 8 rows (decode steps) take that order on AVX-512 instead
//! ([`super::tilerows`]): a tile would pad a row to 16 and pack the weights it reads once.
//!
//! Tile instructions are written with `asm!` (Rust has no stable AMX intrinsics). Linux hands
//! a process the tile registers only on request (`arch_prctl`), asked once in [`supported`].

use std::arch::asm;
use std::arch::x86_64::*;
use std::sync::OnceLock;

use half::bf16;

use super::drive::{split, Out, ROWS};
use super::Shape;

/// Rows of a tile, and the bf16 values of k one step takes (a tile row of 64 bytes).
const TR: usize = 16;
const TK: usize = 32;

/// Output columns of a panel: four tiles of 16 f32, the registers tmm0..tmm3.
const NR: usize = 64;

/// A packed block of weights, kept in L2 while every row of x passes.
const BLOCK_BYTES: usize = 256 << 10;

/// Most output columns of a block: a decode step's block spans a thread's columns, so its
/// rows of w are read whole, one after the other.
const MAX_NC: usize = 2048;

/// Whether this CPU and OS run AMX-BF16 tiles (and the AVX-512 that packs their operands). Asks Linux
/// for the tile registers once; false elsewhere.
pub(super) fn supported() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| {
        use std::arch::is_x86_feature_detected as has;
        // Leaf 7, sub-leaf 0: EDX bit 22 is AMX-BF16, bit 24 AMX-TILE.
        let edx = __cpuid_count(7, 0).edx;
        let amx = edx & (1 << 22) != 0 && edx & (1 << 24) != 0;
        let avx512 = has!("avx512f") && has!("avx512bw") && has!("avx512vl") && has!("avx512bf16");
        amx && avx512 && tiles_granted()
    })
}

/// Asks Linux for the tile data state (`ARCH_REQ_XCOMP_PERM`, `XFEATURE_XTILEDATA`); without
/// it the first tile instruction kills the process.
#[cfg(target_os = "linux")]
fn tiles_granted() -> bool {
    const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
    const XFEATURE_XTILEDATA: libc::c_long = 18;
    // SAFETY: a plain system call on integers; it changes only what the process may use.
    unsafe {
        libc::syscall(
            libc::SYS_arch_prctl,
            ARCH_REQ_XCOMP_PERM,
            XFEATURE_XTILEDATA,
        ) == 0
    }
}

#[cfg(not(target_os = "linux"))]
fn tiles_granted() -> bool {
    false
}

/// `y = x @ w` for bf16 w (k, n) in the order above: a few rows on AVX-512, more on tiles.
/// The caller has checked the shape and that [`supported`] holds.
pub(super) fn axpy(x: &[f32], w: &[bf16], y: &mut [f32], s: Shape, threads: usize) {
    match s.m <= ROWS {
        true => super::tilerows::axpy(x, w, y, s, threads),
        false => tiles(x, w, y, s, threads),
    }
}

/// [`axpy`] on tiles, for any number of rows.
pub(super) fn tiles(x: &[f32], w: &[bf16], y: &mut [f32], s: Shape, threads: usize) {
    let kp = s.k.next_multiple_of(TK);
    let mp = s.m.next_multiple_of(TR);
    let mut xb = vec![0u16; mp * kp]; // (mp, kp): x as bf16 bits, zeros past m and k
    for (r, row) in xb.chunks_exact_mut(kp).take(s.m).enumerate() {
        // SAFETY: `supported` holds; both rows hold k values.
        unsafe { round_row(&x[r * s.xs..][..s.k], &mut row[..s.k]) };
    }
    let out = Out(y.as_mut_ptr());
    // SAFETY: `kernels::axpy` checked the shape and chose this path only where `supported`
    // holds; only this thread writes columns c0..c1.
    split(s.n, s.m, threads, |c0, c1| unsafe {
        columns(&xb, kp, w, out, s, c0, c1)
    });
}

/// Output columns c0..c1, in blocks of w packed into panels of pairs.
///
/// # Safety
/// As for [`axpy`].
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn columns(xb: &[u16], kp: usize, w: &[bf16], out: Out, s: Shape, c0: usize, c1: usize) {
    let nc = (c1 - c0).next_multiple_of(NR).min(MAX_NC);
    let kc = (BLOCK_BYTES / (2 * nc)).max(TK) / TK * TK; // k values a block holds
    let mut pack = vec![0u32; kc / 2 * nc]; // panels of (kc / 2, NR) pairs
    let mut edge = vec![0.0f32; TR * NR]; // (TR, NR): outputs past m or c1
    let _tiles = Tiles::configure();
    for b0 in (c0..c1).step_by(nc) {
        let cols = nc.min(c1 - b0);
        for k0 in (0..kp).step_by(kc) {
            let depth = kc.min(kp - k0);
            pack_pairs(w, s, k0, depth, b0, cols, &mut pack);
            for p in 0..cols.div_ceil(NR) {
                let (j0, width) = (b0 + p * NR, NR.min(cols - p * NR));
                let panel = pack.as_ptr().add(p * depth / 2 * NR);
                for r in (0..s.m).step_by(TR) {
                    let rows = TR.min(s.m - r);
                    let a = xb.as_ptr().add(r * kp + k0);
                    let yp = out.0.add(r * s.ys + j0);
                    let first = k0 == 0;
                    if rows == TR && width == NR {
                        panel_steps(a, kp, panel, depth / TK, yp, s.ys, first);
                        continue;
                    }
                    let e = edge.as_mut_ptr();
                    if !first {
                        for i in 0..rows {
                            std::ptr::copy_nonoverlapping(yp.add(i * s.ys), e.add(i * NR), width);
                        }
                    }
                    panel_steps(a, kp, panel, depth / TK, e, NR, first);
                    for i in 0..rows {
                        std::ptr::copy_nonoverlapping(e.add(i * NR), yp.add(i * s.ys), width);
                    }
                }
            }
        }
    }
}

/// Every tile 16 rows of 64 bytes, held for the life of a value: `ldtilecfg` on creation,
/// `tilerelease` on drop, so the thread gives the tile state back to the OS.
struct Tiles;

/// The tile configuration's 64 bytes: palette 1, then each tile's bytes per row and rows.
#[repr(C, align(64))]
struct Config([u8; 64]);

impl Tiles {
    /// # Safety
    /// [`supported`] must hold.
    unsafe fn configure() -> Tiles {
        let mut c = [0u8; 64];
        c[0] = 1; // palette 1: 8 tiles of up to 16 rows × 64 bytes
        for t in 0..8 {
            c[16 + 2 * t..18 + 2 * t].copy_from_slice(&64u16.to_le_bytes());
            c[48 + t] = TR as u8;
        }
        let config = Config(c);
        asm!("ldtilecfg [{}]", in(reg) config.0.as_ptr(), options(nostack, readonly));
        Tiles
    }
}

impl Drop for Tiles {
    fn drop(&mut self) {
        // SAFETY: a configuration was loaded by `configure` on this thread.
        unsafe { asm!("tilerelease", options(nostack, nomem)) }
    }
}

/// One panel's outputs, `y (16, 64)` (rows `ys` apart), take `steps` steps of k: from 0 when
/// `first`, else continuing from the sums y holds. `a` is 16 rows of bf16 activations (`kp`
/// apart), `b` a panel of pairs: step q's tile v at `b + 16 (NR q + v)`, rows NR apart.
///
/// The tile registers live between these `asm!` blocks: nothing the compiler emits uses them,
/// and only this thread's `Tiles` configured them.
///
/// # Safety
/// Tiles configured on this thread; a, b and y hold what is read and written.
#[inline]
unsafe fn panel_steps(
    a: *const u16,
    kp: usize,
    b: *const u32,
    steps: usize,
    y: *mut f32,
    ys: usize,
    first: bool,
) {
    let ys = 4 * ys; // bytes
    if first {
        asm!(
            "tilezero tmm0",
            "tilezero tmm1",
            "tilezero tmm2",
            "tilezero tmm3",
            options(nostack, nomem)
        );
    } else {
        asm!(
            "tileloadd tmm0, [{y} + {s}]",
            "tileloadd tmm1, [{y} + {s} + 64]",
            "tileloadd tmm2, [{y} + {s} + 128]",
            "tileloadd tmm3, [{y} + {s} + 192]",
            y = in(reg) y, s = in(reg) ys, options(nostack, readonly)
        );
    }
    for q in 0..steps {
        asm!(
            "tileloadd tmm4, [{a} + {sa}]",
            "tileloadd tmm5, [{b} + {sb}]",
            "tdpbf16ps tmm0, tmm4, tmm5",
            "tileloadd tmm6, [{b} + {sb} + 64]",
            "tdpbf16ps tmm1, tmm4, tmm6",
            "tileloadd tmm7, [{b} + {sb} + 128]",
            "tdpbf16ps tmm2, tmm4, tmm7",
            "tileloadd tmm5, [{b} + {sb} + 192]",
            "tdpbf16ps tmm3, tmm4, tmm5",
            a = in(reg) a.add(q * TK),
            sa = in(reg) 2 * kp,
            b = in(reg) b.add(q * TR * NR),
            sb = in(reg) 4 * NR,
            options(nostack, readonly)
        );
    }
    asm!(
        "tilestored [{y} + {s}], tmm0",
        "tilestored [{y} + {s} + 64], tmm1",
        "tilestored [{y} + {s} + 128], tmm2",
        "tilestored [{y} + {s} + 192], tmm3",
        y = in(reg) y, s = in(reg) ys, options(nostack)
    );
}

/// Rows k0..k0 + depth of w (zeros past k), columns c0..c0 + cols (zeros past them), as
/// panels of (depth / 2, NR) pairs: pair q of column j holds rows k0 + 2q (low half) and
/// k0 + 2q + 1, the layout `tdpbf16ps` takes. Rows are read whole, one after the other.
///
/// # Safety
/// AVX-512F/BW; `pack` holds `cols.div_ceil(NR)` panels of that size.
#[target_feature(enable = "avx512f,avx512bw")]
#[allow(clippy::too_many_arguments)]
unsafe fn pack_pairs(
    w: &[bf16],
    s: Shape,
    k0: usize,
    depth: usize,
    c0: usize,
    cols: usize,
    pack: &mut [u32],
) {
    // Lane 2j takes element j of the even row, lane 2j + 1 element j of the odd row (32 + j).
    let order: [u16; 64] = std::array::from_fn(|l| (l / 2 + 32 * (l % 2)) as u16);
    let lo = _mm512_loadu_si512(order.as_ptr().cast()); // columns 0..16 of 32
    let hi = _mm512_loadu_si512(order[32..].as_ptr().cast()); // columns 16..32
    let panel_len = depth / 2 * NR;
    for q in 0..depth / 2 {
        for j in (0..cols.div_ceil(NR) * NR).step_by(32) {
            let valid = cols.saturating_sub(j).min(32);
            let mask = match valid {
                32 => !0,
                v => (1u32 << v) - 1,
            };
            let (even, odd) = match valid {
                0 => (_mm512_setzero_si512(), _mm512_setzero_si512()),
                _ => (
                    load_row(w, s, k0 + 2 * q, c0 + j, mask),
                    load_row(w, s, k0 + 2 * q + 1, c0 + j, mask),
                ),
            };
            let o = pack.as_mut_ptr().add(j / NR * panel_len + q * NR + j % NR);
            _mm512_storeu_si512(o.cast(), _mm512_permutex2var_epi16(even, lo, odd));
            _mm512_storeu_si512(o.add(16).cast(), _mm512_permutex2var_epi16(even, hi, odd));
        }
    }
}

/// The masked columns j.. of row i of w, or zeros past k.
///
/// # Safety
/// AVX-512F/BW; the masked columns of a row below k lie inside w.
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn load_row(w: &[bf16], s: Shape, i: usize, j: usize, mask: __mmask32) -> __m512i {
    match i < s.k {
        true => _mm512_maskz_loadu_epi16(mask, w.as_ptr().add(i * s.ws + j).cast()),
        false => _mm512_setzero_si512(),
    }
}

/// x rounded to bf16 (to nearest, ties to even), 16 values an instruction: a prefill rounds
/// every row of every product's input.
///
/// # Safety
/// AVX-512F/BF16; `b` as long as `x`.
#[target_feature(enable = "avx512f,avx512bf16")]
pub(super) unsafe fn round_row(x: &[f32], b: &mut [u16]) {
    let (xs, tail) = x.split_at(x.len() / 16 * 16);
    for (i, chunk) in xs.chunks_exact(16).enumerate() {
        let v = _mm512_cvtneps_pbh(_mm512_loadu_ps(chunk.as_ptr()));
        // 16 bf16 values are 256 bits of plain data either way.
        let v = std::mem::transmute::<__m256bh, __m256i>(v);
        _mm256_storeu_si256(b.as_mut_ptr().add(16 * i).cast(), v);
    }
    for (o, &v) in b[xs.len()..].iter_mut().zip(tail) {
        *o = bf16::from_f32(v).to_bits();
    }
}

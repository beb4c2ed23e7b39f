//! Hand-written matrix kernels, each output element summed in one fixed order.
//!
//! A float sum depends on its order. A GEMM library picks the order by shape, thread count and
//! cache blocking, so one sequence's logits came out with other bits alone, in a batch, after a
//! different split of its tokens, or on another number of threads. Here every product is one of
//! two sums, each in an order fixed by `k` alone ([`portable`] writes both out plainly):
//!
//! - **dot**, for weights stored (n, k) — a row per output: 16 lanes, lane `l` summing elements
//!   `l, l + 16, …` with one FMA each; the lanes folded in halves (`l + l+8`, then `+4`, `+2`,
//!   `+1`); then the `k % 16` last elements in order, one FMA each.
//! - **axpy**, for weights stored (k, n) — a row per input: the elements in order from 0, one
//!   FMA each.
//!
//! However many rows share a pass, however the work is tiled or split across threads, and
//! whatever the vector width, each kernel computes exactly these sums: the AVX-512, AVX2 and
//! NEON kernels give the same bits as each other. The portable loops (no FMA) round each
//! product apart, and WebAssembly's SIMD128 kernels give their bits; `avx512bf16` and `amx`
//! multiply bf16 weights (k, n) by activations rounded to bf16 with the CPU's own dot-product
//! instructions (`vdpbf16ps`, AMX tiles, whose order `amx` decode steps follow on AVX-512):
//! each is invariant in the same way, with other bits.
//!
//! The path is chosen once: `NEXTTOKEN_KERNELS` (see [`Path`]) or [`Path::preferred`].

#[cfg(target_arch = "x86_64")]
mod amx;
#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(target_arch = "x86_64")]
mod bf16axpy;
mod drive;
pub mod gelu;
#[cfg(target_arch = "aarch64")]
mod neon;
mod panels;
pub(crate) mod portable;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128;
pub mod slabs;
pub mod softmax;
#[cfg(target_arch = "x86_64")]
mod tilerows;

use std::sync::OnceLock;

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use half::slice::HalfFloatSliceExt;
use half::{bf16, f16};

use crate::compute::buf::Data;

/// A set of kernels, by the CPU features it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// AVX-512F, with bf16 weights (k, n) multiplied on AMX-BF16 tiles.
    Amx,
    /// AVX-512F, with bf16 weights multiplied by `vdpbf16ps` (AVX512_BF16, with BW and VL).
    Avx512Bf16,
    /// AVX-512F.
    Avx512,
    /// AVX2 with FMA and F16C.
    Avx2,
    /// AArch64's Advanced SIMD.
    Neon,
    /// WebAssembly's 128-bit SIMD: the portable path's bits, on vectors written by hand.
    Simd128,
    /// Plain loops for the compiler to vectorise; any CPU, WebAssembly too.
    Portable,
}

impl Path {
    /// Every path, fastest first.
    pub const ALL: [Path; 7] = [
        Path::Amx,
        Path::Avx512Bf16,
        Path::Avx512,
        Path::Avx2,
        Path::Neon,
        Path::Simd128,
        Path::Portable,
    ];

    /// The name `NEXTTOKEN_KERNELS` takes.
    pub fn name(self) -> &'static str {
        match self {
            Path::Amx => "amx",
            Path::Avx512Bf16 => "avx512bf16",
            Path::Avx512 => "avx512",
            Path::Avx2 => "avx2",
            Path::Neon => "neon",
            Path::Simd128 => "simd128",
            Path::Portable => "portable",
        }
    }

    /// Whether this CPU can run the path.
    pub fn supported(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            match self {
                Path::Amx => has!("avx512f") && amx::supported(),
                Path::Avx512Bf16 => {
                    has!("avx512f") && has!("avx512bw") && has!("avx512vl") && has!("avx512bf16")
                }
                Path::Avx512 => has!("avx512f"),
                Path::Avx2 => has!("avx2") && has!("fma") && has!("f16c"),
                Path::Neon | Path::Simd128 => false,
                Path::Portable => true,
            }
        }
        #[cfg(target_arch = "aarch64")]
        {
            matches!(self, Path::Neon | Path::Portable)
        }
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        {
            let simd128 = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));
            self == Path::Portable || (self == Path::Simd128 && simd128)
        }
    }

    /// The paths this CPU can run, fastest first.
    pub fn available() -> Vec<Path> {
        Path::ALL.into_iter().filter(|p| p.supported()).collect()
    }

    /// The path taken when `NEXTTOKEN_KERNELS` is unset: the first this CPU can run (`amx`
    /// where the CPU has tiles), but `avx512bf16` only on AMD. On Intel's Sapphire Rapids
    /// `vdpbf16ps` (32 products) measured one every 2 cycles against two 16-lane f32 FMAs a
    /// cycle: half the products, and twice the rounding. AMD's Zen 4 issues it at the rate of
    /// its one 512-bit FMA a cycle, so there it doubles the products (not measured on these
    /// machines).
    pub fn preferred() -> Path {
        let paths = Path::available();
        let native_bf16_pays = cpu_is_amd();
        let mut usable = paths
            .iter()
            .filter(|&&p| p != Path::Avx512Bf16 || native_bf16_pays);
        *usable.next().unwrap_or(&Path::Portable)
    }

    /// The path `NEXTTOKEN_KERNELS` names, or [`Path::preferred`] when it is unset; an error
    /// for a name that is unknown or that this CPU cannot run.
    pub fn from_env() -> Result<Path, String> {
        Path::choose(std::env::var("NEXTTOKEN_KERNELS").ok().as_deref())
    }

    /// The path a value of `NEXTTOKEN_KERNELS` names (`None` or blank: the preferred one).
    pub fn choose(value: Option<&str>) -> Result<Path, String> {
        let fastest = Path::preferred();
        let Some(name) = value else {
            return Ok(fastest);
        };
        let names = || {
            let names: Vec<&str> = Path::available().iter().map(|p| p.name()).collect();
            names.join(", ")
        };
        match Path::ALL.into_iter().find(|p| p.name() == name.trim()) {
            Some(p) if p.supported() => Ok(p),
            Some(p) => Err(format!(
                "NEXTTOKEN_KERNELS={}: this CPU cannot run it; it can run {}",
                p.name(),
                names()
            )),
            None if name.trim().is_empty() => Ok(fastest),
            None => Err(format!(
                "NEXTTOKEN_KERNELS={name:?} is not a kernel path; this CPU can run {}",
                names()
            )),
        }
    }

    /// The path every product takes, chosen once: [`Path::from_env`], or the preferred one
    /// when that is an error (binaries report the error before any work).
    pub fn active() -> Path {
        static ACTIVE: OnceLock<Path> = OnceLock::new();
        *ACTIVE.get_or_init(|| Path::from_env().unwrap_or_else(|_| Path::preferred()))
    }
}

/// Whether the CPU's vendor string is AMD's.
fn cpu_is_amd() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        let id = std::arch::x86_64::__cpuid(0); // leaf 0: the vendor string

        let vendor = [id.ebx, id.edx, id.ecx].map(u32::to_le_bytes).concat();
        vendor == *b"AuthenticAMD"
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// A stored weight type the kernels read.
pub trait Elem: Copy + Send + Sync + 'static {
    fn to_f32(self) -> f32;

    /// Widens `src` into `dst` (of the same length) with the CPU's conversions where it has
    /// them (F16C): a prefill widens each 16-bit weight a few times.
    fn widen(src: &[Self], dst: &mut [f32]);
}

impl Elem for f32 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self
    }

    fn widen(src: &[f32], dst: &mut [f32]) {
        dst.copy_from_slice(src);
    }
}

impl Elem for bf16 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        f32::from_bits((self.to_bits() as u32) << 16)
    }

    /// A shift per value, which the compiler vectorises: `half`'s loop checks every value for
    /// a NaN to quieten, which cost a bf16 prefill a fifth more time than an f16 one.
    fn widen(src: &[bf16], dst: &mut [f32]) {
        for (d, &v) in dst.iter_mut().zip(src) {
            *d = Elem::to_f32(v);
        }
    }
}

impl Elem for f16 {
    #[cfg(not(target_family = "wasm"))]
    #[inline(always)]
    fn to_f32(self) -> f32 {
        f16::to_f32(self)
    }

    #[cfg(target_family = "wasm")]
    #[inline(always)]
    fn to_f32(self) -> f32 {
        f16_to_f32(self.to_bits())
    }

    /// With F16C, 8 values an instruction inline: `half`'s slice conversion calls a function
    /// for every 8 values, which a prefill's packing (a call per panel row of 16 or 64
    /// weights) paid ~10 million times. In WebAssembly, 8 values at a time in integer steps.
    fn widen(src: &[f16], dst: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("f16c") {
            // SAFETY: the CPU has F16C (and so AVX).
            return unsafe { widen_f16c(src, dst) };
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        simd128::widen(src, dst);
        #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
        src.convert_to_f32_slice(dst);
    }
}

/// [`Elem::widen`] for f16 with F16C's conversion: exact, as every f16 is an f32.
///
/// # Safety
/// The CPU must have F16C.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx,f16c")]
unsafe fn widen_f16c(src: &[f16], dst: &mut [f32]) {
    use std::arch::x86_64::*;
    let n = src.len().min(dst.len());
    let n8 = n - n % 8;
    for i in (0..n8).step_by(8) {
        let v = _mm256_cvtph_ps(_mm_loadu_si128(src.as_ptr().add(i).cast()));
        _mm256_storeu_ps(dst.as_mut_ptr().add(i), v);
    }
    for (d, s) in dst[n8..n].iter_mut().zip(&src[n8..n]) {
        *d = s.to_f32();
    }
}

/// f16 to f32 without branches, for WebAssembly: it has no conversion instruction, and
/// `half`'s software one branches per value, which kept 16-bit decoding at a sixth of f32's
/// speed. The exponent and mantissa bits moved to f32's places are the value times 2^-112
/// (subnormals included), which one multiply rescales; infinities and NaNs (exponent 31) take
/// f32's all-ones exponent instead. Exact for every value (tested against `half`).
#[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
#[inline(always)]
pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let two_pow_112 = f32::from_bits((127 + 112) << 23);
    let h = h as u32;
    let magnitude = (h & 0x7fff) << 13;
    let finite = (f32::from_bits(magnitude) * two_pow_112).to_bits();
    let bits = if h & 0x7c00 == 0x7c00 {
        magnitude | 0x7f80_0000
    } else {
        finite
    };
    f32::from_bits(bits | (h & 0x8000) << 16)
}

/// The shape of one product: x (m, k) with rows `xs` apart, w with rows `ws` apart (n rows of
/// k for [`dot`], k rows of n for [`axpy`]), y (m, n) with rows `ys` apart.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub xs: usize,
    pub ws: usize,
    pub ys: usize,
}

impl Shape {
    /// Dense x (m, k) and y (m, n), with w's rows `ws` apart.
    pub fn dense(m: usize, k: usize, n: usize, ws: usize) -> Shape {
        Shape {
            m,
            k,
            n,
            xs: k,
            ws,
            ys: n,
        }
    }
}

/// `y (m, n) = x (m, k) @ wᵀ` for w (n, k): a dot product of every row of x with every row of
/// w, in the dot order. Blocks of output columns run on up to `threads` threads of the
/// current rayon pool.
pub fn dot(path: Path, x: &[f32], w: Data, y: &mut [f32], s: Shape, threads: usize) {
    check(x, w.len(), y, s, s.n, s.k);
    if s.m == 0 || s.n == 0 {
        return; // nothing to write, and the SIMD kernels assume rows to read
    }
    match w {
        Data::F32(w) => drive::dot(path, x, w, y, s, threads),
        Data::Bf16(w) => drive::dot(path, x, w, y, s, threads),
        Data::F16(w) => {
            // Decoding in WebAssembly: f16 bits placed as f32's, x scaled to match.
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            if path == Path::Simd128 && simd128::placed_dot(x, w, y, s, threads) {
                return;
            }
            drive::dot(path, x, w, y, s, threads)
        }
    }
}

/// `y (m, n) = x (m, k) @ w` for w (k, n), in the axpy order, on up to `threads` threads.
pub fn axpy(path: Path, x: &[f32], w: Data, y: &mut [f32], s: Shape, threads: usize) {
    check(x, w.len(), y, s, s.k, s.n);
    if s.m == 0 || s.n == 0 {
        return;
    }
    match w {
        Data::F32(w) => drive::axpy(path, x, w, y, s, threads),
        #[cfg(target_arch = "x86_64")]
        Data::Bf16(w) if path == Path::Avx512Bf16 => bf16axpy::axpy(x, w, y, s, threads),
        #[cfg(target_arch = "x86_64")]
        Data::Bf16(w) if path == Path::Amx => amx::axpy(x, w, y, s, threads),
        Data::Bf16(w) => drive::axpy(path, x, w, y, s, threads),
        Data::F16(w) => {
            // Decoding in WebAssembly: f16 bits placed as f32's, x scaled to match.
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            if path == Path::Simd128 && simd128::placed_axpy(x, w, y, s, threads) {
                return;
            }
            drive::axpy(path, x, w, y, s, threads)
        }
    }
}

/// Panics unless every index the kernels touch is inside the slices; the kernels rely on it.
fn check(x: &[f32], w_len: usize, y: &[f32], s: Shape, w_rows: usize, w_cols: usize) {
    let span = |rows: usize, cols: usize, stride: usize| match rows {
        0 => 0,
        r => (r - 1) * stride + cols,
    };
    assert!(
        s.xs >= s.k && s.ws >= w_cols && s.ys >= s.n,
        "kernel strides shorter than rows: {s:?}"
    );
    assert!(
        x.len() >= span(s.m, s.k, s.xs)
            && w_len >= span(w_rows, w_cols, s.ws)
            && y.len() >= span(s.m, s.n, s.ys),
        "kernel shapes: x {} w {} y {} for {s:?}",
        x.len(),
        w_len,
        y.len()
    );
}

/// An operation on a row of values, written as plain loops for the compiler to vectorise;
/// [`best`] runs it compiled for the widest vectors of the active path. The loops must not
/// depend on the vector width (no FMA, a fixed order of sums), so every path gives the same
/// bits.
pub(crate) trait RowOp {
    /// Must be `#[inline(always)]`, so each of [`best`]'s targets gets its own compiled copy.
    fn run(x: &mut [f32]);
}

/// Runs `O` on `x` compiled for the active path's vectors.
pub(crate) fn best<O: RowOp>(x: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    match Path::active() {
        // SAFETY: the active path is one the CPU supports.
        Path::Amx | Path::Avx512Bf16 | Path::Avx512 => return unsafe { on_avx512::<O>(x) },
        Path::Avx2 => return unsafe { on_avx2::<O>(x) },
        _ => {}
    }
    O::run(x)
}

/// # Safety
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn on_avx512<O: RowOp>(x: &mut [f32]) {
    O::run(x)
}

/// # Safety
/// The CPU must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn on_avx2<O: RowOp>(x: &mut [f32]) {
    O::run(x)
}

#[cfg(test)]
mod tests;

//! What the machine can stream: the read bandwidth a decode step is bounded by. Each decode
//! step reads every weight once, so `bytes per step × steps per second` over this is the share
//! of the limit the kernels reach (`nexttoken bench` prints it). The same measurement as
//! bench/machine/read_bandwidth.c, in the program's own threads and huge pages.
//!
//! A decode step streams each thread's own weights once with the kernel path's vector loads;
//! so does each round here: every thread of the pool reads its own contiguous part of a
//! buffer several times the last-level cache, so no round is served from cache, with the
//! widest vectors the active path uses. The best round is the limit: on a shared machine a
//! round is only ever slowed by others, never sped up.

use std::time::{Duration, Instant};

use crate::checkpoint::pages;
use crate::compute::kernels::Path;
use crate::compute::pool;

/// The least the probe reads a round: some machines report no cache sizes.
const MIN_BYTES: usize = 1 << 30;

/// The most, whatever the cache: the buffer is held for the probe's second or two.
const MAX_BYTES: usize = 4 << 30;

/// How long the rounds run at least, so a quiet moment on a busy machine is caught.
const MIN_TIME: Duration = Duration::from_millis(1500);

/// The best of at least `rounds` rounds (and of as many as [`MIN_TIME`] holds), each reading
/// a buffer of [`buffer_bytes`] once across the pool's threads, in GB/s (10^9 bytes per
/// second). Allocates the buffer for the call only.
pub fn read_bandwidth(rounds: usize) -> f64 {
    let mut probe = Probe::new();
    let bytes = probe.n * 4;
    probe.read(bytes); // the first read after the pages were written is not the steady state
    let started = Instant::now();
    let mut best = 0.0f64;
    let mut done = 0;
    while done < rounds.max(1) || started.elapsed() < MIN_TIME {
        best = best.max(bytes as f64 / probe.read(bytes) / 1e9);
        done += 1;
    }
    best
}

/// A buffer of [`buffer_bytes`] that the pool's threads read in parts, each part after the
/// last, so that a read between two decode steps streams from memory as they do: the
/// machine's rate at that moment, for a share of the limit that a busy machine's swings
/// between seconds do not move.
pub struct Probe {
    whole: Vec<f32>,
    start: usize,
    n: usize,
    at: usize,
    simd: Simd,
}

impl Probe {
    /// Allocates and writes the buffer (a GiB or more, held until the probe is dropped).
    pub fn new() -> Probe {
        let n = buffer_bytes() / 4;
        // Huge pages, as the weights, from a cache line, as bench/machine's buffer.
        let (mut whole, start) = pages::line_aligned(n, 1.0f32);
        whole.resize(start + n, 1.0);
        let simd = Simd::of(Path::active());
        Probe {
            whole,
            start,
            n,
            at: 0,
            simd,
        }
    }

    /// Seconds the pool's threads take to read the buffer's next `bytes` (at most all of
    /// it), each its own contiguous share, as a decode step reads its weights; after the
    /// buffer's end the reads start again at its beginning.
    pub fn read(&mut self, bytes: usize) -> f64 {
        let len = (bytes / 4).clamp(1, self.n);
        if self.at + len > self.n {
            self.at = 0;
        }
        let buf = &self.whole[self.start + self.at..][..len];
        self.at += len;
        let simd = self.simd;
        pool::install(|| {
            let part = len.div_ceil(pool::threads()).next_multiple_of(64);
            let start = Instant::now();
            // Every thread of the pool, exactly once: its own part, as a decode step.
            let sums = rayon::broadcast(|ctx| {
                let lo = (ctx.index() * part).min(len);
                simd.sum(&buf[lo..len.min(lo + part)])
            });
            let seconds = start.elapsed().as_secs_f64();
            std::hint::black_box(sums);
            seconds
        })
    }
}

impl Default for Probe {
    fn default() -> Probe {
        Probe::new()
    }
}

/// Bytes the probe reads a round: 4× the largest cache, within [`MIN_BYTES`]..[`MAX_BYTES`].
pub fn buffer_bytes() -> usize {
    (4 * largest_cache()).clamp(MIN_BYTES, MAX_BYTES)
}

/// The largest cache Linux reports for the first CPU (the last level, shared), in bytes; 0
/// where none is reported.
fn largest_cache() -> usize {
    let dir = "/sys/devices/system/cpu/cpu0/cache";
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("size")).ok())
        .filter_map(|size| parse_size(size.trim()))
        .max()
        .unwrap_or(0)
}

/// `307200K`, `2M` or `512` as bytes.
fn parse_size(s: &str) -> Option<usize> {
    let (digits, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => s.split_at(i),
        None => (s, ""),
    };
    let scale = match unit {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        _ => return None,
    };
    digits.parse::<usize>().ok().map(|v| v * scale)
}

/// The vector width a round reads with: the active kernel path's.
#[derive(Clone, Copy)]
enum Simd {
    #[cfg(target_arch = "x86_64")]
    Avx512,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    Plain,
}

impl Simd {
    fn of(path: Path) -> Simd {
        match path {
            #[cfg(target_arch = "x86_64")]
            Path::Amx | Path::Avx512Bf16 | Path::Avx512 => Simd::Avx512,
            #[cfg(target_arch = "x86_64")]
            Path::Avx2 => Simd::Avx2,
            _ => Simd::Plain,
        }
    }

    fn sum(self, x: &[f32]) -> f32 {
        match self {
            // SAFETY: the active path is one the CPU supports, and it has these features.
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => unsafe { sum_avx512(x) },
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => unsafe { sum_avx2(x) },
            Simd::Plain => sum(x),
        }
    }
}

/// # Safety
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn sum_avx512(x: &[f32]) -> f32 {
    sum(x)
}

/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sum_avx2(x: &[f32]) -> f32 {
    sum(x)
}

/// A sum in 64 independent lanes: the compiler vectorises it, and the loads, not the adds,
/// set the pace.
#[inline(always)]
fn sum(x: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 64];
    for chunk in x.chunks_exact(64) {
        lanes.iter_mut().zip(chunk).for_each(|(l, v)| *l += v);
    }
    lanes.iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_sizes_parse_as_linux_writes_them() {
        assert_eq!(parse_size("307200K"), Some(300 << 20));
        assert_eq!(parse_size("2M"), Some(2 << 20));
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("12X"), None);
        assert_eq!(parse_size(""), None);
    }

    #[test]
    fn the_buffer_outgrows_every_cache() {
        let bytes = buffer_bytes();
        assert!((MIN_BYTES..=MAX_BYTES).contains(&bytes));
        assert!(bytes >= (4 * largest_cache()).min(MAX_BYTES));
    }
}

//! What the machine can stream: the read bandwidth a decode step is bounded by. Each decode
//! step reads every weight once, so `bytes per step × steps per second` over this is the share
//! of the limit the kernels reach (`nexttoken bench` prints it). The same measurement as
//! bench/machine/read_bandwidth.c, in the program's own threads and huge pages.

use std::time::Instant;

use rayon::prelude::*;

use crate::checkpoint::pages;
use crate::compute::pool;

/// Bytes read per measurement: larger than the last-level caches of the machines we run on,
/// as the weights are.
const BYTES: usize = 512 << 20;

/// The best of `rounds` sequential reads of 512 MiB split across the pool's threads, in
/// GB/s (10^9 bytes per second). Allocates the buffer for the call only.
pub fn read_bandwidth(rounds: usize) -> f64 {
    let n = BYTES / 4;
    let mut buf: Vec<f32> = Vec::with_capacity(n);
    pages::advise(&buf); // huge pages, as the weights
    buf.resize(n, 1.0);
    pool::install(|| {
        let threads = pool::threads();
        let part = n.div_ceil(threads).next_multiple_of(64);
        (0..rounds.max(1))
            .map(|_| {
                let start = Instant::now();
                let total: f32 = buf.par_chunks(part).map(sum).sum();
                let seconds = start.elapsed().as_secs_f64();
                std::hint::black_box(total);
                BYTES as f64 / seconds / 1e9
            })
            .fold(0.0, f64::max)
    })
}

/// A sum in 64 independent lanes: the compiler vectorises it, and the loads, not the adds,
/// set the pace.
fn sum(x: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 64];
    for chunk in x.chunks_exact(64) {
        lanes.iter_mut().zip(chunk).for_each(|(l, v)| *l += v);
    }
    lanes.iter().sum()
}

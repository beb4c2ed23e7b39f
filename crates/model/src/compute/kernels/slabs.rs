//! Weights (k, n) stored in slabs of columns for the axpy order: slab `s` holds columns
//! `SLAB·s ..` of every row as a (k, width) row-major matrix (width [`SLAB`], the last slab
//! what is left of n), the slabs end to end.
//!
//! Threads split a product's output columns. Stored row by row, a thread's columns of one
//! row are a short run (768 bytes of a 16-bit row of 1,536 on 2 threads), the other thread's
//! run comes next, and the hardware prefetcher meets a new short stream every row. In slabs a
//! thread's columns are a few long runs of memory. Only where each weight lies changes: every
//! output is the same sum, in the same order, as from the rows.

use super::{axpy, check, drive, Data, Path, Shape};
use crate::compute::buf::DType;

/// Columns in a slab: a decode step's block of a GPT-2 matrix (768, 2,304 or 3,072 columns)
/// is whole slabs on 2 or 3 threads. Wide enough that the rows kernel keeps 8 sums in flight
/// on AVX-512 (16 on AVX2): slabs of 64 columns (4) read no faster than rows, these ~10%
/// faster, slabs of 384 (a thread's whole block on 2 threads) ~5% (BENCHMARKS.md).
pub const SLAB: usize = 128;

/// Where value (i, j) of a (k, n) matrix lies in slabs.
fn index(i: usize, j: usize, k: usize, n: usize) -> usize {
    let base = j - j % SLAB;
    base * k + i * SLAB.min(n - base) + j % SLAB
}

/// Copies `values`, the row-major values `at..at + values.len()` of a (k, n) matrix, to
/// their places in slabs in `out` (k·n values): a run at a time, one row of one slab.
pub fn scatter<T: Copy>(values: &[T], at: usize, k: usize, n: usize, out: &mut [T]) {
    let mut done = 0;
    while done < values.len() {
        let (i, j) = ((at + done) / n, (at + done) % n);
        let run = (n - j).min(SLAB - j % SLAB).min(values.len() - done);
        let to = index(i, j, k, n);
        out[to..to + run].copy_from_slice(&values[done..done + run]);
        done += run;
    }
}

/// Whether the active path reads 16-bit weights (k, n) of `dtype` faster in slabs: where its
/// products run through [`drive`]'s rows kernel on x86. bf16 on `amx` and `avx512bf16`
/// have kernels of their own that read rows; ARM and WebAssembly were not measured; f32
/// weights are used in place in the loaded file, which is stored in rows.
pub fn pay(dtype: DType) -> bool {
    match (Path::active(), dtype) {
        (_, DType::F32) | (Path::Amx | Path::Avx512Bf16, DType::Bf16) => false,
        (path, _) => matches!(
            path,
            Path::Amx | Path::Avx512Bf16 | Path::Avx512 | Path::Avx2
        ),
    }
}

/// `y (m, n) = x (m, k) @ w` for w (k, n) stored in slabs, in the axpy order: the same bits
/// as [`axpy`] on the rows. `s.ws` is n (the slabs are dense). Paths whose axpy products
/// have kernels of their own take the slabs one at a time.
pub fn axpy_slabs(path: Path, x: &[f32], w: Data, y: &mut [f32], s: Shape, threads: usize) {
    assert_eq!(s.ws, s.n, "slabs are dense: {s:?}");
    check(x, w.len(), y, s, s.k, s.n);
    if s.m == 0 || s.n == 0 {
        return;
    }
    let own_kernels = match w {
        Data::Bf16(_) => matches!(path, Path::Amx | Path::Avx512Bf16),
        Data::F16(_) => path == Path::Simd128,
        Data::F32(_) => false,
    };
    match w {
        _ if own_kernels => {
            for base in (0..s.n).step_by(SLAB) {
                let width = SLAB.min(s.n - base);
                let slab = w.slice(base * s.k, width * s.k);
                let one = Shape {
                    n: width,
                    ws: width,
                    ..s
                };
                axpy(path, x, slab, &mut y[base..], one, threads);
            }
        }
        Data::F32(w) => drive::axpy_slabs(path, x, w, y, s, threads),
        Data::Bf16(w) => drive::axpy_slabs(path, x, w, y, s, threads),
        Data::F16(w) => drive::axpy_slabs(path, x, w, y, s, threads),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::buf::Buf;

    /// Deterministic values in [-1, 1).
    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut state = seed.wrapping_mul(2_654_435_761) | 1;
        (0..n)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / (1 << 23) as f32 - 1.0
            })
            .collect()
    }

    #[test]
    fn slabs_give_the_bits_of_rows_on_every_path_and_thread_count() {
        let shapes = [
            (1, 77, 200),
            (3, 64, 64),
            (8, 130, 300),
            (9, 16, 70),
            (20, 40, 600),
        ];
        for path in Path::available() {
            for (m, k, n) in shapes.into_iter().chain([(1, 768, 768)]) {
                let (x, w) = (values(m * k, 1), values(k * n, 2)); // (m, k), (k, n)
                let mut w_slabs = vec![0.0; k * n];
                scatter(&w, 0, k, n, &mut w_slabs);
                for dtype in [DType::F32, DType::Bf16, DType::F16] {
                    let (rows, slabs) = (Buf::from_f32(&w, dtype), Buf::from_f32(&w_slabs, dtype));
                    let s = Shape::dense(m, k, n, n);
                    let mut want = vec![0.0; m * n]; // (m, n)
                    axpy(path, &x, rows.data(), &mut want, s, 1);
                    for threads in [1, 2, 3, 8] {
                        let mut got = vec![f32::NAN; m * n]; // (m, n)
                        axpy_slabs(path, &x, slabs.data(), &mut got, s, threads);
                        let same = got
                            .iter()
                            .zip(&want)
                            .all(|(a, b)| a.to_bits() == b.to_bits());
                        let what = format!("{} {dtype:?} {s:?} on {threads}", path.name());
                        assert!(same, "{what}: other bits than from rows");
                    }
                }
            }
        }
    }

    /// The slabs of a (k, n) matrix, value by value.
    fn slabbed(w: &[u32], k: usize, n: usize) -> Vec<u32> {
        let mut out = vec![u32::MAX; k * n];
        for i in 0..k {
            for j in 0..n {
                out[index(i, j, k, n)] = w[i * n + j];
            }
        }
        out
    }

    #[test]
    fn slabs_hold_every_value_once_in_runs_of_columns() {
        for (k, n) in [(3, 200), (5, 64), (2, 7), (4, 130)] {
            let w: Vec<u32> = (0..(k * n) as u32).collect();
            let want = slabbed(&w, k, n);
            let mut sorted = want.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, w, "({k}, {n}): a permutation");
            // Slab 0 begins with row 0's first SLAB columns, then row 1's.
            let first = SLAB.min(n);
            assert_eq!(want[first] as usize, n, "({k}, {n})");
            for chunk in [1, 5, 64, 1000] {
                let mut got = vec![u32::MAX; k * n];
                for (c, values) in w.chunks(chunk).enumerate() {
                    scatter(values, c * chunk, k, n, &mut got);
                }
                assert_eq!(got, want, "({k}, {n}) in chunks of {chunk}");
            }
        }
    }
}

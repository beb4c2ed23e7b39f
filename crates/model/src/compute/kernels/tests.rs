//! Every kernel against a plain f64 reference: random values, odd sizes (tails of every
//! length), strided rows and all three weight types. Tolerance 1e-4 absolute: sums of at most
//! 130 products of values in [-1, 1] carry f32 rounding far below that.

use super::*;
use crate::compute::buf::{Buf, DType};

const TOLERANCE: f32 = 1e-4;

/// Deterministic values in [-1, 1).
fn random(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

/// `y += x @ w` (or `x @ wᵀ`) in f64 from the widened weights.
fn reference(x: &[f32], w: &[f32], y: &mut [f32], s: Shape, transposed: bool) {
    for b in 0..s.m {
        for j in 0..s.n {
            let sum: f64 = (0..s.k)
                .map(|i| {
                    let wv = if transposed {
                        w[j * s.ws + i]
                    } else {
                        w[i * s.ws + j]
                    };
                    x[b * s.xs + i] as f64 * wv as f64
                })
                .sum();
            y[b * s.n + j] += sum as f32;
        }
    }
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Runs `f` on every shape and dtype with the weights rounded to that dtype, and compares
/// against the reference on the rounded weights.
fn each_case(transposed: bool, f: impl Fn(&[f32], Data, &mut [f32], Shape)) {
    let sizes = [(1, 1), (5, 3), (17, 16), (33, 31), (64, 50), (130, 47)];
    each_size(transposed, &[1, 2, 3, 4, 5, 9], &sizes, f);
}

/// Like [`each_case`] for the given row counts m and sizes (k, n).
fn each_size(
    transposed: bool,
    ms: &[usize],
    sizes: &[(usize, usize)],
    f: impl Fn(&[f32], Data, &mut [f32], Shape),
) {
    let mut seed = 1;
    for &m in ms {
        for &(k, n) in sizes {
            for dtype in [DType::F32, DType::Bf16, DType::F16] {
                seed += 1;
                let (w_rows, w_cols) = if transposed { (n, k) } else { (k, n) };
                let s = Shape {
                    m,
                    k,
                    n,
                    xs: k + 3,
                    ws: w_cols + 5,
                };
                let x = random(m * s.xs, seed);
                let w = Buf::from_f32(&random(w_rows * s.ws, seed + 1000), dtype);
                let mut wide = vec![0.0; w.len()];
                w.data().to_f32(&mut wide);
                let start = random(m * n, seed + 2000);
                let (mut got, mut want) = (start.clone(), start);
                f(&x, w.data(), &mut got, s);
                reference(&x, &wide, &mut want, s, transposed);
                let diff = max_diff(&got, &want);
                assert!(
                    diff <= TOLERANCE,
                    "{dtype:?} {s:?} transposed={transposed}: {diff:e}"
                );
            }
        }
    }
}

#[test]
fn gemv_matches_the_reference() {
    each_case(false, gemv);
}

#[test]
fn gemv_t_matches_the_reference() {
    each_case(true, gemv_t);
}

/// Batches of more than MAX_ROWS rows walk the weights in blocks of BLOCK_BYTES: these sizes
/// make several blocks and a short last one (k = 70 rows of 3,000 f32 is 3 blocks of 24;
/// n = 150 rows of 600 is 2 blocks of 109).
#[test]
fn batches_walk_the_weights_in_blocks() {
    each_size(false, &[5, 9, 12], &[(70, 3000)], gemv);
    each_size(true, &[5, 9, 12], &[(600, 150)], gemv_t);
}

fn portable_data(x: &[f32], w: Data, y: &mut [f32], s: Shape, p: Product) {
    match w {
        Data::F32(w) => portable(x, w, y, s, p),
        Data::Bf16(w) => portable(x, w, y, s, p),
        Data::F16(w) => portable(x, w, y, s, p),
    }
}

#[test]
fn portable_loops_match_the_reference() {
    each_case(false, |x, w, y, s| {
        portable_data(x, w, y, s, Product::Plain)
    });
    each_case(true, |x, w, y, s| {
        portable_data(x, w, y, s, Product::Transposed)
    });
}

#[test]
#[should_panic(expected = "kernel shapes")]
fn short_buffers_are_refused() {
    let s = Shape {
        m: 1,
        k: 4,
        n: 4,
        xs: 4,
        ws: 4,
    };
    gemv(&[0.0; 4], Data::F32(&[0.0; 15]), &mut [0.0; 4], s);
}

/// No rows (or no columns) is an empty product: nothing is read or written. The 8-row AVX-512
/// kernel once took zero rows for eight and read and wrote past the empty slices.
#[test]
fn empty_products_touch_nothing() {
    let w = [1.0f32; 64];
    for (m, n) in [(0, 8), (0, 0), (3, 0)] {
        let s = Shape {
            m,
            k: 8,
            n,
            xs: 8,
            ws: 8,
        };
        let x = vec![1.0f32; m * 8];
        let mut y = vec![0.0f32; m * n];
        gemv(&x, Data::F32(&w), &mut y, s);
        gemv_t(&x, Data::F32(&w), &mut y, s);
        assert!(y.iter().all(|&v| v == 0.0));
    }
}

/// The branch-free conversion the WebAssembly kernels use gives `half`'s value for every one
/// of the 65,536 bit patterns (NaNs stay NaNs with the same sign).
#[test]
fn branch_free_f16_conversion_is_exact() {
    for bits in 0..=u16::MAX {
        let (got, want) = (super::f16_to_f32(bits), half::f16::from_bits(bits).to_f32());
        if want.is_nan() {
            assert!(
                got.is_nan() && got.is_sign_negative() == want.is_sign_negative(),
                "{bits:#06x}"
            );
        } else {
            assert_eq!(
                got.to_bits(),
                want.to_bits(),
                "{bits:#06x}: {got} vs {want}"
            );
        }
    }
}

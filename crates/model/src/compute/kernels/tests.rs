//! Every path against the orders written out in [`portable`], bit for bit: random values,
//! odd sizes (tails of every length, edges of every tile), strided rows, all three weight
//! types, any number of rows and threads. The orders themselves are checked against an f64
//! sum, and the native bf16 products (whose bits are their own) for invariance and accuracy.

use super::portable::{self, Apart, Fused};
use super::*;
use crate::compute::buf::{Buf, DType};

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

#[derive(Clone, Copy, PartialEq)]
enum Form {
    Dot,
    Axpy,
}

/// One product's operands: x, w in `dtype`, and y's shape.
struct Case {
    x: Vec<f32>,
    w: Buf,
    s: Shape,
}

impl Case {
    fn new(form: Form, m: usize, k: usize, n: usize, dtype: DType, seed: u64) -> Case {
        let (w_rows, w_cols) = match form {
            Form::Dot => (n, k),
            Form::Axpy => (k, n),
        };
        let s = Shape {
            m,
            k,
            n,
            xs: k + 3,
            ws: w_cols + 5,
            ys: n + 2,
        };
        let x = random(m * s.xs, seed);
        let w = Buf::from_f32(&random(w_rows * s.ws, seed + 1000), dtype);
        Case { x, w, s }
    }

    /// y from `path` on `threads` threads, every value outside y's rows left as it was.
    fn run(&self, form: Form, path: Path, threads: usize) -> Vec<f32> {
        let mut y = vec![f32::NAN; self.s.m * self.s.ys];
        let f = match form {
            Form::Dot => dot,
            Form::Axpy => axpy,
        };
        f(path, &self.x, self.w.data(), &mut y, self.s, threads);
        for row in y.chunks_exact(self.s.ys) {
            assert!(
                row[self.s.n..].iter().all(|v| v.is_nan()),
                "wrote past a row"
            );
        }
        y
    }

    /// y from the written-out order, fused or not.
    fn reference<M: portable::Mad>(&self, form: Form) -> Vec<f32> {
        let mut y = vec![f32::NAN; self.s.m * self.s.ys];
        let (x, s) = (&self.x[..], self.s);
        match (form, self.w.data()) {
            (Form::Dot, Data::F32(w)) => portable::dot_product::<M, _>(x, w, &mut y, s),
            (Form::Dot, Data::Bf16(w)) => portable::dot_product::<M, _>(x, w, &mut y, s),
            (Form::Dot, Data::F16(w)) => portable::dot_product::<M, _>(x, w, &mut y, s),
            (Form::Axpy, Data::F32(w)) => portable::axpy_product::<M, _>(x, w, &mut y, s),
            (Form::Axpy, Data::Bf16(w)) => portable::axpy_product::<M, _>(x, w, &mut y, s),
            (Form::Axpy, Data::F16(w)) => portable::axpy_product::<M, _>(x, w, &mut y, s),
        }
        y
    }
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|v| v.to_bits()).collect()
}

/// (m, k, n): one row and many (past the rows kernel's 8, past a panel's rows), sums with
/// tails of every length and across the axpy panels' k blocks (128 on AVX-512), outputs at
/// every tile edge and across the panels' column blocks.
const SHAPES: [(usize, usize, usize); 12] = [
    (1, 1, 1),
    (1, 17, 5),
    (2, 31, 33),
    (3, 64, 50),
    (5, 130, 47),
    (8, 48, 70),
    (9, 16, 64),
    (13, 300, 37),
    (20, 77, 130),
    (7, 768, 200),
    (30, 40, 600),
    (64, 64, 96),
];

/// Whether `path` computes the dot order and the axpy order of `dtype` with one rounding per
/// multiply-add: every path but the portable one (and bf16 weights (k, n) on `avx512bf16` and
/// `amx`).
fn fused(path: Path, dtype: DType, form: Form) -> bool {
    match path {
        Path::Portable | Path::Simd128 => false,
        Path::Avx512Bf16 | Path::Amx => !(dtype == DType::Bf16 && form == Form::Axpy),
        _ => true,
    }
}

#[test]
fn every_path_sums_in_the_written_order_bit_for_bit() {
    for path in Path::available() {
        let mut seed = 1;
        for form in [Form::Dot, Form::Axpy] {
            for (m, k, n) in SHAPES {
                for dtype in [DType::F32, DType::Bf16, DType::F16] {
                    seed += 1;
                    let case = Case::new(form, m, k, n, dtype, seed);
                    let want = match fused(path, dtype, form) {
                        true => case.reference::<Fused>(form),
                        false if !matches!(path, Path::Avx512Bf16 | Path::Amx) => {
                            case.reference::<Apart>(form)
                        }
                        false => continue, // native bf16: see below
                    };
                    for threads in [1, 3] {
                        let got = case.run(form, path, threads);
                        let what =
                            format!("{} {dtype:?} {:?} threads {threads}", path.name(), case.s);
                        assert!(bits(&got) == bits(&want), "{what}: not the written order");
                    }
                }
            }
        }
    }
}

/// The orders themselves: within f32 rounding of an exact sum.
#[test]
fn the_orders_are_sums() {
    for form in [Form::Dot, Form::Axpy] {
        for (i, (m, k, n)) in SHAPES.into_iter().enumerate() {
            let case = Case::new(form, m, k, n, DType::F32, 100 + i as u64);
            let (fused, apart) = (case.reference::<Fused>(form), case.reference::<Apart>(form));
            let w = match case.w.data() {
                Data::F32(w) => w.to_vec(),
                _ => unreachable!(),
            };
            let s = case.s;
            for r in 0..m {
                for c in 0..n {
                    let exact: f64 = (0..k)
                        .map(|i| {
                            let wi = match form {
                                Form::Dot => w[c * s.ws + i],
                                Form::Axpy => w[i * s.ws + c],
                            };
                            case.x[r * s.xs + i] as f64 * wi as f64
                        })
                        .sum();
                    for got in [fused[r * s.ys + c], apart[r * s.ys + c]] {
                        assert!((got as f64 - exact).abs() < 1e-4, "{:?}", case.s);
                    }
                }
            }
        }
    }
}

/// `avx512bf16` and `amx` round activations to bf16 and let the CPU add the products (pairs,
/// or a tile's 32): their bits are their own, but the same for a row alone (a decode step) or
/// among others (a prefill) and on any number of threads, and close to the sum.
#[test]
fn native_bf16_products_are_invariant_and_close() {
    let native = [Path::Avx512Bf16, Path::Amx];
    for path in native.into_iter().filter(|p| p.supported()) {
        native_bf16_path(path);
    }
}

fn native_bf16_path(path: Path) {
    let form = Form::Axpy;
    for (i, (m, k, n)) in SHAPES.into_iter().chain(NATIVE_SHAPES).enumerate() {
        let case = Case::new(form, m, k, n, DType::Bf16, 200 + i as u64);
        let all = case.run(form, path, 1);
        assert_eq!(bits(&all), bits(&case.run(form, path, 3)));
        for r in 0..m {
            let one = Case {
                x: case.x[r * case.s.xs..][..case.s.xs].to_vec(),
                w: Buf::from_f32(&wide(&case.w), DType::Bf16),
                s: Shape { m: 1, ..case.s },
            };
            let alone = one.run(form, path, 1);
            let row = &all[r * case.s.ys..][..case.s.ys];
            let what = format!("{} row {r} of {:?}", path.name(), case.s);
            assert_eq!(bits(&alone), bits(row), "{what}");
        }
        let want = case.reference::<Fused>(form);
        for (g, w) in all.iter().zip(&want).filter(|(_, w)| !w.is_nan()) {
            // Activations in [-1, 1) rounded to 8 significant bits: ≤ 2^-9 relative each.
            assert!((g - w).abs() <= 4e-3 * (k as f32).sqrt(), "{g} vs {w}");
        }
    }
}

/// Past the shapes above: many rows in whole tiles (AMX's 16) and not, k across the packed
/// blocks of pairs, a thread's columns across several blocks.
const NATIVE_SHAPES: [(usize, usize, usize); 3] = [(48, 544, 192), (33, 3000, 70), (17, 40, 4200)];

/// The `amx` path's AVX-512 kernel for a few rows (decode steps) gives the tiles' bits, for
/// every row count a tile pads (1 to 15), odd k within a step and across many, columns at
/// every vector edge; one case holds bf16 subnormals, which both take as 0.
#[test]
#[cfg(target_arch = "x86_64")]
fn amx_rows_on_avx512_give_the_tiles_bits() {
    if !Path::Amx.supported() {
        return;
    }
    let mut seed = 300;
    for m in 1..16 {
        for (k, n) in [(1, 5), (7, 16), (33, 70), (77, 130), (545, 47), (3001, 33)] {
            seed += 1;
            let mut case = Case::new(Form::Axpy, m, k, n, DType::Bf16, seed);
            if k == 77 {
                let mut w = wide(&case.w);
                for v in w.iter_mut().step_by(5) {
                    *v *= 1e-38; // subnormal in bf16 (or 0)
                }
                case.w = Buf::from_f32(&w, DType::Bf16);
                case.x.iter_mut().step_by(7).for_each(|v| *v *= 1e-38);
            }
            let Data::Bf16(w) = case.w.data() else {
                unreachable!()
            };
            type Product = fn(&[f32], &[half::bf16], &mut [f32], Shape, usize);
            let run = |f: Product| {
                let mut y = vec![f32::NAN; m * case.s.ys];
                f(&case.x, w, &mut y, case.s, 2);
                bits(&y)
            };
            assert!(
                run(amx::tiles) == run(tilerows::axpy),
                "m {m}, {:?}",
                case.s
            );
        }
    }
}

fn wide(b: &Buf) -> Vec<f32> {
    let mut v = vec![0.0; b.len()];
    b.data().to_f32(&mut v);
    v
}

#[test]
fn paths_agree_with_each_other_except_the_portable_one() {
    let case = Case::new(Form::Dot, 3, 100, 20, DType::F16, 7);
    let results: Vec<Vec<u32>> = Path::available()
        .into_iter()
        .filter(|&p| p != Path::Portable)
        .map(|p| bits(&case.run(Form::Dot, p, 1)))
        .collect();
    assert!(results.windows(2).all(|w| w[0] == w[1]));
}

/// No rows (or no columns) is an empty product: nothing is read or written. The 8-row AVX-512
/// kernel once took zero rows for eight and read and wrote past the empty slices.
#[test]
fn empty_products_touch_nothing() {
    let w = [1.0f32; 64];
    for path in Path::available() {
        for (m, n) in [(0, 8), (0, 0), (3, 0)] {
            let s = Shape::dense(m, 8, n, 8);
            let x = vec![1.0f32; m * 8];
            let mut y = vec![0.0f32; m * n];
            dot(path, &x, Data::F32(&w), &mut y, s, 2);
            axpy(path, &x, Data::F32(&w), &mut y, s, 2);
            assert!(y.iter().all(|&v| v == 0.0));
        }
    }
}

#[test]
#[should_panic(expected = "kernel shapes")]
fn short_buffers_are_refused() {
    let s = Shape::dense(1, 4, 4, 4);
    axpy(
        Path::active(),
        &[0.0; 4],
        Data::F32(&[0.0; 15]),
        &mut [0.0; 4],
        s,
        1,
    );
}

#[test]
fn the_environment_names_a_path() {
    let fastest = Path::preferred();
    assert_eq!(Path::choose(None), Ok(fastest));
    assert_eq!(Path::choose(Some(" ")), Ok(fastest));
    assert_eq!(Path::choose(Some("portable")), Ok(Path::Portable));
    let err = Path::choose(Some("avx1024")).unwrap_err();
    assert!(
        err.contains("not a kernel path") && err.contains("portable"),
        "{err}"
    );
    for p in Path::ALL.into_iter().filter(|p| !p.supported()) {
        let err = Path::choose(Some(p.name())).unwrap_err();
        assert!(err.contains("cannot run"), "{err}");
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

/// `Elem::widen` for f16 (F16C where the CPU has it) gives `half`'s value for every one of
/// the 65,536 bit patterns, in a slice whose length leaves a tail past the 8-value steps.
#[test]
fn widening_f16_gives_halfs_values() {
    let src: Vec<f16> = (0..=u16::MAX)
        .chain(0x3c00..0x3c05)
        .map(f16::from_bits)
        .collect();
    let mut got = vec![0.0f32; src.len()];
    <f16 as Elem>::widen(&src, &mut got);
    for (s, g) in src.iter().zip(&got) {
        let want = s.to_f32();
        if want.is_nan() {
            assert!(g.is_nan() && g.is_sign_negative() == want.is_sign_negative());
        } else {
            assert_eq!(g.to_bits(), want.to_bits(), "{:#06x}", s.to_bits());
        }
    }
}

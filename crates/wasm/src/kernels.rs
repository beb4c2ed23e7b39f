//! The engine's check of its own kernels: the path it runs (SIMD128, written by hand) against
//! the portable loops compiled into the same engine, bit for bit, on random products of both
//! forms and every weight type, 16-bit specials included. The page promises that the browser
//! computes the server's portable numbers; tests/wasm runs this in Node.js.

use half::{bf16, f16};
use nexttoken_model::kernels::{self, Path, Shape};
use nexttoken_model::Data;

/// (m, k, n): one row (decoding) and many (past the rows kernel's 8 and a panel's rows, into
/// the widened dot tiles), sums with tails of every length and across the axpy panels' k
/// blocks (1,024), outputs at every tile and strip edge, and GPT-2 small's decode shapes.
const SHAPES: [(usize, usize, usize); 15] = [
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
    (12, 1100, 41),
    (1, 768, 2304),
    (4, 3072, 99),
];

/// Compares every case; the path checked and the number of products as JSON, or the first
/// product whose bits differ.
pub fn check(seed: u64) -> Result<String, String> {
    let path = Path::preferred();
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut products = 0;
    for (i, (m, k, n)) in SHAPES.into_iter().enumerate() {
        for dot in [true, false] {
            let specials = i % 3 == 0; // infinities and NaNs now and then, in a third of cases
            let (w_rows, w_cols) = if dot { (n, k) } else { (k, n) };
            let s = Shape {
                m,
                k,
                n,
                xs: k + 3,
                ws: w_cols + 5,
                ys: n + 2,
            };
            // Now and then an x of 2^16 or more (f16 weights then take the exact widening,
            // not their bits placed: see simd128.rs), or all tiny, into f32's subnormal products.
            let scale = [1.0, 1.0, 2f32.powi(-110), 1.0][i % 4];
            let mut x: Vec<f32> = (0..m * s.xs).map(|_| rng.unit() * scale).collect();
            if i % 4 == 1 {
                x[s.xs * (m - 1)] = 70_000.0;
            }
            let w: Vec<f32> = (0..w_rows * s.ws).map(|_| rng.weight(specials)).collect();
            let f16s: Vec<f16> = w.iter().map(|&v| f16::from_f32(v)).collect();
            let bf16s: Vec<bf16> = w.iter().map(|&v| bf16::from_f32(v)).collect();
            for data in [Data::F32(&w), Data::F16(&f16s), Data::Bf16(&bf16s)] {
                same(path, dot, &x, data, s)?;
                products += 1;
            }
        }
    }
    products += every_16_bit_value(path)?;
    Ok(format!(
        r#"{{"path":"{}","products":{products}}}"#,
        path.name()
    ))
}

/// Every f16 and bf16 bit pattern widened by each path: `y = 0 + 1 × w`, one axpy row.
fn every_16_bit_value(path: Path) -> Result<usize, String> {
    let all: Vec<u16> = (0..=u16::MAX).collect();
    let s = Shape::dense(1, 1, all.len(), all.len());
    let f16s: Vec<f16> = all.iter().map(|&b| f16::from_bits(b)).collect();
    let bf16s: Vec<bf16> = all.iter().map(|&b| bf16::from_bits(b)).collect();
    same(path, false, &[1.0], Data::F16(&f16s), s)?;
    same(path, false, &[1.0], Data::Bf16(&bf16s), s)?;
    Ok(2)
}

/// `path` and the portable path give the same bits (NaNs: both NaN; WebAssembly leaves a
/// NaN's payload to the machine).
fn same(path: Path, dot: bool, x: &[f32], w: Data, s: Shape) -> Result<(), String> {
    let run = |p: Path| {
        let mut y = vec![0.0f32; s.m * s.ys];
        match dot {
            true => kernels::dot(p, x, w, &mut y, s, 1),
            false => kernels::axpy(p, x, w, &mut y, s, 1),
        }
        y
    };
    let (got, want) = (run(path), run(Path::Portable));
    let differs = |(a, b): (&f32, &f32)| a.to_bits() != b.to_bits() && !(a.is_nan() && b.is_nan());
    match got.iter().zip(&want).position(differs) {
        None => Ok(()),
        Some(i) => Err(format!(
            "{} {} of {:?} weights {s:?}: y[{i}] = {:e} ({:#010x}), portable {:e} ({:#010x})",
            path.name(),
            if dot { "dot" } else { "axpy" },
            w_type(w),
            got[i],
            got[i].to_bits(),
            want[i],
            want[i].to_bits()
        )),
    }
}

fn w_type(w: Data) -> &'static str {
    match w {
        Data::F32(_) => "f32",
        Data::F16(_) => "f16",
        Data::Bf16(_) => "bf16",
    }
}

/// xorshift64: deterministic values for a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// In [-1, 1).
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }

    /// Mostly in [-1, 1); one in 8 below f16's normal range (its subnormals, and zeros once
    /// narrowed); with `specials`, three in 16,384 an infinity or a NaN (so that most sums
    /// stay finite).
    fn weight(&mut self, specials: bool) -> f32 {
        let (v, pick) = (self.unit(), self.next() >> 50);
        match pick {
            0 if specials => f32::NAN,
            1 | 2 if specials => f32::INFINITY.copysign(v),
            _ if pick % 8 == 3 => v * 2f32.powi(-15),
            _ => v,
        }
    }
}

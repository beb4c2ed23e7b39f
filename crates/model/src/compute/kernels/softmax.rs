//! Softmax of one row with the branch-free `exp` of [`super::gelu`], so the compiler
//! vectorises it: attention takes T × S / 2 exponentials per head and layer, and libm's `expf`
//! one at a time cost ~5% of a 256-token prefill, more for longer prompts.

use super::gelu::exp;

/// Below this (after subtracting the row's maximum) e^x is under f32's normal range: such
/// entries get exactly 0, as libm's `expf` gives them.
const UNDERFLOW: f32 = -87.0;

/// Softmax of `x`, in place, shifted by the maximum so `exp` cannot overflow.
pub fn softmax(x: &mut [f32]) {
    super::best::<Softmax>(x)
}

struct Softmax;

impl super::RowOp for Softmax {
    #[inline(always)]
    fn run(x: &mut [f32]) {
        softmax_portable(x)
    }
}

/// Maximum and sum in 16 lanes each, so both loops vectorise.
#[inline(always)]
fn softmax_portable(x: &mut [f32]) {
    let mut top = [f32::NEG_INFINITY; 16];
    let chunks = x.chunks_exact(16);
    let tail_max = chunks
        .remainder()
        .iter()
        .copied()
        .fold(f32::NEG_INFINITY, f32::max);
    for chunk in chunks {
        top.iter_mut().zip(chunk).for_each(|(t, &v)| *t = t.max(v));
    }
    let max = top.iter().copied().fold(tail_max, f32::max);
    let e = |v: f32| {
        let d = v - max;
        let e = exp(d);
        if d < UNDERFLOW {
            0.0
        } else {
            e
        }
    };
    let mut sums = [0.0f32; 16];
    let mut chunks = x.chunks_exact_mut(16);
    for chunk in &mut chunks {
        for (s, v) in sums.iter_mut().zip(chunk) {
            *v = e(*v);
            *s += *v;
        }
    }
    let tail: f32 = chunks
        .into_remainder()
        .iter_mut()
        .map(|v| {
            *v = e(*v);
            *v
        })
        .sum();
    let inv = 1.0 / (sums.iter().sum::<f32>() + tail);
    x.iter_mut().for_each(|v| *v *= inv);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_libm_softmax() {
        for n in [1, 5, 16, 17, 100, 1000] {
            let row: Vec<f32> = (0..n)
                .map(|i| ((i * 7919) % 211) as f32 / 10.0 - 10.0)
                .collect();
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let sum: f64 = row.iter().map(|&v| ((v - max) as f64).exp()).sum();
            let mut got = row.clone();
            softmax(&mut got);
            for (g, v) in got.iter().zip(&row) {
                let want = ((v - max) as f64).exp() / sum;
                assert!(
                    (*g as f64 - want).abs() <= 1e-6 * want.max(1e-3),
                    "n {n}: {g} vs {want}"
                );
            }
        }
    }
}

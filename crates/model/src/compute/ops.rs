//! The few numerical operations the architectures need, on row-major f32 slices.

use super::buf::Buf;
pub use super::matmul::{matmul, matmul_strided, Layout};
use crate::arch::gpt2::config::Activation;
use crate::arch::gpt2::weights::{Conv1D, LayerNorm};
use crate::arch::llama::weights::Linear;

/// Normalises each row of `x` (T, C) to zero mean and unit variance, then applies gain and bias.
pub fn layer_norm(x: &[f32], ln: &LayerNorm, eps: f32) -> Vec<f32> {
    let c = ln.weight.len();
    let mut out = vec![0.0; x.len()]; // (T, C)
    for (row, out) in x.chunks_exact(c).zip(out.chunks_exact_mut(c)) {
        let mean = sum_lanes(row, |v| v) / c as f32;
        let var = sum_lanes(row, |v| (v - mean) * (v - mean)) / c as f32;
        let inv_std = 1.0 / (var + eps).sqrt();
        let params = ln.weight.iter().zip(ln.bias.iter());
        for ((o, &v), (&w, &b)) in out.iter_mut().zip(row).zip(params) {
            *o = (v - mean) * inv_std * w + b;
        }
    }
    out
}

/// Scales each row of `x` (T, C) to unit root mean square, then applies the gain: LayerNorm
/// without the mean and the bias (Llama's `RMSNorm`).
pub fn rms_norm(x: &[f32], weight: &Buf, eps: f32) -> Vec<f32> {
    let c = weight.len();
    let mut out = vec![0.0; x.len()]; // (T, C)
    for (row, out) in x.chunks_exact(c).zip(out.chunks_exact_mut(c)) {
        let inv_rms = 1.0 / (sum_lanes(row, |v| v * v) / c as f32 + eps).sqrt();
        for ((o, &v), &w) in out.iter_mut().zip(row).zip(weight.iter()) {
            *o = v * inv_rms * w;
        }
    }
    out
}

/// The sum of `f` over `x` in 16 independent lanes, so the compiler can vectorise it (a plain
/// `sum()` must add in order and cannot): layer norms of a long prompt are ~5% of a prefill.
fn sum_lanes(x: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut lanes = [0.0f32; 16];
    let chunks = x.chunks_exact(16);
    let tail: f32 = chunks.remainder().iter().map(|&v| f(v)).sum();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += f(v);
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// `x @ weight + bias` for x (T, n_in), giving (T, n_out): each output's products summed,
/// then its bias added.
pub fn linear(x: &[f32], layer: &Conv1D) -> Vec<f32> {
    let t = x.len() / layer.n_in;
    let mut out = vec![0.0; t * layer.n_out]; // (T, n_out)
    matmul(
        x,
        layer.weight.data(),
        &mut out,
        t,
        layer.n_in,
        layer.n_out,
        match layer.slabs {
            true => Layout::Slabs,
            false => Layout::InOut,
        },
    );
    for row in out.chunks_exact_mut(layer.n_out) {
        add_assign(row, &layer.bias);
    }
    out
}

/// `x @ weightᵀ` for x (T, n_in) and a weight stored (n_out, n_in), as `nn.Linear` keeps it:
/// (T, n_out).
pub fn project(x: &[f32], layer: &Linear) -> Vec<f32> {
    let t = x.len() / layer.n_in;
    let mut out = vec![0.0; t * layer.n_out]; // (T, n_out)
    let w = layer.weight.data();
    matmul(x, w, &mut out, t, layer.n_in, layer.n_out, Layout::OutIn);
    out
}

/// The gated MLP's middle: `silu(gate) * up`, element-wise, into `gate`.
pub fn silu_mul(gate: &mut [f32], up: &[f32]) {
    for (g, u) in gate.iter_mut().zip(up) {
        *g = *g / (1.0 + (-*g).exp()) * u;
    }
}

/// The MLP's non-linearity, in place.
pub fn activate(x: &mut [f32], activation: Activation) {
    match activation {
        Activation::GeluNew => super::kernels::gelu::gelu_new(x),
        Activation::Gelu => x
            .iter_mut()
            .for_each(|v| *v = 0.5 * *v * (1.0 + libm::erff(*v / std::f32::consts::SQRT_2))),
        Activation::Relu => x.iter_mut().for_each(|v| *v = v.max(0.0)),
    }
}

pub use super::kernels::softmax::softmax;

/// `x += y`, element-wise.
pub fn add_assign(x: &mut [f32], y: &[f32]) {
    x.iter_mut().zip(y).for_each(|(a, b)| *a += b);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::buf::Buf;

    #[test]
    fn layer_norm_normalises() {
        let ln = LayerNorm {
            weight: Buf::owned(vec![1.0, 2.0]),
            bias: Buf::owned(vec![0.0, 1.0]),
        };
        let y = layer_norm(&[1.0, 3.0], &ln, 0.0);
        assert!(
            (y[0] + 1.0).abs() < 1e-6 && (y[1] - 3.0).abs() < 1e-6,
            "{y:?}"
        );
    }

    #[test]
    fn matmul_plain_and_transposed() {
        let a = [1.0, 2.0]; // (1, 2)
        let b = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // (2, 3)
        let mut out = vec![0.0; 3];
        matmul(&a, b[..].into(), &mut out, 1, 2, 3, Layout::InOut);
        assert_eq!(out, [9.0, 12.0, 15.0]);
        let bt = [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]; // the same matrix stored (3, 2)
        let mut out = vec![7.0; 3]; // overwritten, not added to
        matmul(&a, bt[..].into(), &mut out, 1, 2, 3, Layout::OutIn);
        assert_eq!(out, [9.0, 12.0, 15.0]);
    }

    #[test]
    fn gelu_values() {
        use crate::compute::kernels::gelu::gelu_one;
        assert_eq!(gelu_one(0.0), 0.0);
        assert!((gelu_one(1.0) - 0.841_192).abs() < 1e-5);
        assert!((gelu_one(-3.0) + 0.003_637_4).abs() < 1e-5);
    }

    #[test]
    fn softmax_sums_to_one_and_survives_large_logits() {
        let mut x = [1000.0, 1000.0, -1000.0];
        softmax(&mut x);
        assert_eq!(x, [0.5, 0.5, 0.0]);
    }
}

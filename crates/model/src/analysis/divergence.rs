//! How far apart two next-token distributions are, from their logits, in f64 so that a tiny
//! divergence is not lost to rounding.

/// log softmax(logits), in f64.
pub fn log_softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = logits.iter().map(|&l| (l as f64 - max).exp()).sum();
    let lse = max + sum.ln();
    logits.iter().map(|&l| l as f64 - lse).collect()
}

/// KL(p || q) = Σ p·ln(p/q) from log-probabilities; terms where p underflows to 0 contribute 0.
pub fn kl(log_p: &[f64], log_q: &[f64]) -> f64 {
    let sum: f64 = log_p
        .iter()
        .zip(log_q)
        .map(|(&lp, &lq)| {
            let p = lp.exp();
            if p == 0.0 {
                0.0
            } else {
                p * (lp - lq)
            }
        })
        .sum();
    // Rounding can leave an identical pair a hair below zero; KL is never negative.
    sum.max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kl_is_zero_for_equal_distributions_and_matches_a_hand_computed_pair() {
        let p = log_softmax(&[1.0, 2.0, 3.0]);
        assert_eq!(kl(&p, &p), 0.0);
        // p = (1/2, 1/2), q = (1/4, 3/4): KL = ½ln2 + ½ln(2/3).
        let (p, q) = ([0.5f64.ln(), 0.5f64.ln()], [0.25f64.ln(), 0.75f64.ln()]);
        let want = 0.5 * 2f64.ln() + 0.5 * (2.0f64 / 3.0).ln();
        assert!((kl(&p, &q) - want).abs() < 1e-15);
    }

    #[test]
    fn log_softmax_is_stable_for_large_logits() {
        let lp = log_softmax(&[1000.0, 1000.0]);
        assert!(lp.iter().all(|&l| (l - 0.5f64.ln()).abs() < 1e-12));
    }
}

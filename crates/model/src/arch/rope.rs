//! Rotary position embeddings: instead of adding a position vector to the residual stream, each
//! head's queries and keys are turned by angles that grow with the position, so a query·key
//! score depends on how far apart the two positions are. Pair i of a head (values i and
//! i + D/2, Hugging Face's `rotate_half` layout) turns by `position × base^(−2i/D)`.

/// The angles' frequencies for one head width.
#[derive(Debug, Clone)]
pub struct Rope {
    inv_freq: Vec<f32>, // (D/2,)
}

impl Rope {
    pub fn new(head_dim: usize, base: f32) -> Rope {
        let half = head_dim / 2;
        let inv_freq = (0..half)
            .map(|i| (1.0 / (base as f64).powf(2.0 * i as f64 / head_dim as f64)) as f32)
            .collect();
        Rope { inv_freq }
    }

    /// Turns every head of every row of `x` (T, width), row r being at position `first + r`.
    /// A row's angles are the same for every head, so they are computed once a row.
    pub fn rotate(&self, x: &mut [f32], width: usize, first: usize) {
        let half = self.inv_freq.len();
        let mut turns = vec![(0.0, 0.0); half]; // (D/2,): each pair's (sin, cos)
        for (r, row) in x.chunks_exact_mut(width).enumerate() {
            let p = (first + r) as f32;
            for (turn, &f) in turns.iter_mut().zip(&self.inv_freq) {
                *turn = (p * f).sin_cos();
            }
            for head in row.chunks_exact_mut(2 * half) {
                let (a, b) = head.split_at_mut(half);
                for ((x1, x2), &(sin, cos)) in a.iter_mut().zip(b).zip(&turns) {
                    let (v1, v2) = (*x1, *x2);
                    *x1 = v1 * cos - v2 * sin;
                    *x2 = v2 * cos + v1 * sin;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rotation keeps lengths, and a query·key score depends only on the distance between
    /// the two positions.
    #[test]
    fn scores_depend_on_distance_only() {
        let rope = Rope::new(8, 10000.0);
        let (q, k): (Vec<f32>, Vec<f32>) = ((0..8).map(|i| i as f32 - 3.5).collect(), vec![0.5; 8]);
        let score = |pq: usize, pk: usize| {
            let (mut q, mut k) = (q.clone(), k.clone());
            rope.rotate(&mut q, 8, pq);
            rope.rotate(&mut k, 8, pk);
            q.iter().zip(&k).map(|(a, b)| a * b).sum::<f32>()
        };
        assert!((score(7, 3) - score(104, 100)).abs() < 1e-3);
        assert!((score(7, 3) - score(7, 5)).abs() > 1e-2, "distance matters");
        let mut r = q.clone();
        rope.rotate(&mut r, 8, 42);
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm(&r) - norm(&q)).abs() < 1e-4);
    }
}

//! The two parts of the residual stream's starting point, measured: how long each prompt
//! token's `wte` row is and how long its position's `wpe` row is. Their sum's norm is
//! `resid_norms[0]`, so the page can show what each part contributes.

use nexttoken_model::Model;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Embedding {
    /// L2 norm of `wte[id]` for each token.
    pub tok_norms: Vec<f32>,
    /// L2 norm of `wpe[position]` for each token's position.
    pub pos_norms: Vec<f32>,
}

impl Embedding {
    /// `ids` must be inside the vocabulary and fit in the context (both checked before).
    pub fn of(model: &Model, ids: &[u32]) -> Embedding {
        Embedding::at(model, ids, 0)
    }

    /// Like [`Embedding::of`] for `ids` at positions `first..`, such as a generated token's.
    pub fn at(model: &Model, ids: &[u32], first: usize) -> Embedding {
        let weights = &model.gpt2.weights;
        let c = model.config().n_embd;
        let row_norm = |matrix: &[f32], row: usize| {
            let values = matrix.get(row * c..(row + 1) * c).unwrap_or_default();
            values.iter().map(|v| v * v).sum::<f32>().sqrt()
        };
        Embedding {
            tok_norms: ids
                .iter()
                .map(|&id| row_norm(&weights.wte, id as usize))
                .collect(),
            pos_norms: (first..first + ids.len())
                .map(|p| row_norm(&weights.wpe, p))
                .collect(),
        }
    }
}

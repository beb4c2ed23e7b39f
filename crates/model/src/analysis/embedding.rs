//! The two parts of the residual stream's starting point, measured: how long each prompt
//! token's embedding row is and, in a family with a learned position table (GPT-2's `wpe`),
//! how long its position's row is. Their sum's norm is `resid_norms[0]`, so the page can show
//! what each part contributes.

use serde::Serialize;

use crate::model::Model;

#[derive(Debug, Clone, Serialize)]
pub struct Embedding {
    /// L2 norm of the token embedding row (`wte[id]`) for each token.
    pub tok_norms: Vec<f32>,
    /// L2 norm of the position's row (`wpe[position]`) for each token's position; empty for
    /// a family without a position table (rotary positions are not added to the residual).
    pub pos_norms: Vec<f32>,
}

impl Embedding {
    /// `ids` must be inside the vocabulary and fit in the context (both checked before).
    pub fn of(model: &Model, ids: &[u32]) -> Embedding {
        Embedding::at(model, ids, 0)
    }

    /// Like [`Embedding::of`] for `ids` at positions `first..`, such as a generated token's.
    pub fn at(model: &Model, ids: &[u32], first: usize) -> Embedding {
        let norm = |row: Vec<f32>| row.iter().map(|v| v * v).sum::<f32>().sqrt();
        let (arch, vocab) = (&model.arch, model.config().vocab_size);
        let token = |&id: &u32| match (id as usize) < vocab {
            true => norm(arch.token_embedding(id)),
            false => 0.0,
        };
        Embedding {
            tok_norms: ids.iter().map(token).collect(),
            pos_norms: (first..first + ids.len())
                .map_while(|p| arch.position_embedding(p))
                .map(norm)
                .collect(),
        }
    }
}

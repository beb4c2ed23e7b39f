//! `POST /api/surprisal`: how surprised the model was by each token of a sequence (−log2 p of
//! it given the tokens before), and the layer where the model committed to its own pick for
//! each slot, for colouring the pipeline's tokens.

use nexttoken_model::surprisal::{surprisal as per_token, Surprise};
use serde::{Deserialize, Serialize};
use serde_json::Number;

use crate::bounds;
use crate::{Engine, Error};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurprisalRequest {
    tokens: Vec<Number>,
}

#[derive(Serialize)]
pub struct SurprisalResponse {
    /// `committed` counts lens rows: 0 is the embedding, `n_layer` the last block's output.
    n_layer: usize,
    tokens: Vec<Surprise>,
}

pub fn surprisal(engine: &Engine, req: SurprisalRequest) -> Result<SurprisalResponse, Error> {
    let model = &engine.model;
    let tokens = bounds::tokens(model, &req.tokens)?;
    Ok(SurprisalResponse {
        n_layer: model.config().n_layer,
        tokens: per_token(model, &tokens)?,
    })
}

//! `POST /api/lens`: the logit lens at one position, what the residual stream would predict if
//! the model stopped after each layer.

use nexttoken_model::lens::{logit_lens, LogitLens};
use serde::Deserialize;
use serde_json::Number;

use crate::bounds::{self, present};
use crate::{Engine, Error};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LensRequest {
    tokens: Vec<Number>,
    #[serde(default, deserialize_with = "present")]
    position: Option<Number>,
    #[serde(default, deserialize_with = "present")]
    top: Option<Number>,
}

pub fn lens(engine: &Engine, req: LensRequest) -> Result<LogitLens, Error> {
    let model = &engine.model;
    let tokens = bounds::tokens(model, &req.tokens)?;
    let position = bounds::position(req.position.as_ref(), tokens.len())?;
    let top = bounds::lens_top(req.top.as_ref())?;
    Ok(logit_lens(model, &tokens, position, top)?)
}

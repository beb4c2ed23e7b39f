//! `POST /api/trace`: a whole run as `nexttoken_model::trace()` records it, plus the
//! embedding norms and the prompt's ids.

use nexttoken_model::embedding::Embedding;
use nexttoken_model::{trace_with, Sampling, Stop, Trace};
use serde::{Deserialize, Serialize};
use serde_json::Number;

use crate::bounds::{self, present};
use crate::{Engine, Error};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceRequest {
    prompt: String,
    #[serde(default, deserialize_with = "present")]
    steps: Option<Number>,
    #[serde(default)]
    sampling: Sampling,
    #[serde(default, deserialize_with = "present")]
    seed: Option<Number>,
    #[serde(default, deserialize_with = "present")]
    top_n: Option<Number>,
}

#[derive(Serialize)]
pub struct TraceResponse {
    #[serde(flatten)]
    trace: Trace,
    embedding: Embedding,
    token_ids: Vec<u32>,
}

/// Runs the prompt and its steps until `stop` is raised (a server stops a run whose client
/// left): its forward passes check it before every layer, the prompt's included, and the run
/// before every step. The state it ends in is kept for the page's next `/api/step`.
pub fn trace(engine: &Engine, req: TraceRequest, stop: Stop) -> Result<TraceResponse, Error> {
    let model = &engine.model;
    let steps = bounds::steps(&engine.bounds, req.steps.as_ref())?;
    let options =
        bounds::generate_options(model, req.sampling, req.seed.as_ref(), req.top_n.as_ref())?;
    let ids = bounds::prompt(model, &req.prompt, steps)?;
    // Decode steps join those of the other traces running now: one read of the weights per
    // step serves them all.
    let session = engine.batcher.session().with_stop(stop.clone());
    let keep_going = || !stop.is_raised();
    let traced = trace_with(
        session,
        &req.prompt,
        ids.clone(),
        steps,
        options,
        keep_going,
    )?;
    engine.cache.put_state(traced.fed, traced.state);
    Ok(TraceResponse {
        trace: traced.trace,
        embedding: Embedding::of(model, &ids),
        token_ids: ids,
    })
}

//! The routes' handlers: parse the body, run nexttoken-api's endpoint on the model pool
//! against the model serving now, and answer with its JSON. `info` and `switch` add what only
//! this server has.

pub mod info;
pub mod switch;

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use nexttoken_api::{self as api, Engine};
use nexttoken_model::Stop;

use crate::server::errors::ApiError;
use crate::server::extract::ApiJson;
use crate::server::state::AppState;

type Answer<T> = Result<Json<T>, ApiError>;

/// Runs `endpoint` on a pool thread against the model serving when the request arrived.
async fn on_pool<T: Send + 'static>(
    state: &AppState,
    endpoint: impl FnOnce(&Engine) -> Result<T, api::Error> + Send + 'static,
) -> Answer<T> {
    let loaded = state.loaded();
    let answer = state.pool.run(move || Ok(endpoint(&loaded)?)).await?;
    Ok(Json(answer))
}

/// Runs `endpoint` on a pool thread with the flag its forward passes check between layers,
/// raised once the request is gone (the client closed the connection, or the deadline passed),
/// so an abandoned long prompt frees its slot within a layer's work.
async fn on_pool_cancellable<T: Send + 'static>(
    state: &AppState,
    endpoint: impl FnOnce(&Engine, Stop) -> Result<T, api::Error> + Send + 'static,
) -> Answer<T> {
    let loaded = state.loaded();
    let answer = state
        .pool
        .run_cancellable(move |cancel| {
            let answer = endpoint(&loaded, cancel.stop());
            match cancel.is_cancelled() {
                true => Err(ApiError::gone()),
                false => Ok(answer?),
            }
        })
        .await?;
    Ok(Json(answer))
}

/// Defines handlers that run their endpoint on the pool with the parsed body, and with the
/// request's stop flag where the endpoint takes one.
macro_rules! pooled {
    ($($name:ident: $request:ty => $response:ty = $endpoint:path $(, $stop:ident)?;)+) => {$(
        pub async fn $name(
            State(state): State<Arc<AppState>>,
            ApiJson(req): ApiJson<$request>,
        ) -> Answer<$response> {
            pooled!(@run state, req, $endpoint $(, $stop)?)
        }
    )+};
    (@run $state:ident, $req:ident, $endpoint:path) => {
        on_pool(&$state, move |engine| $endpoint(engine, $req)).await
    };
    (@run $state:ident, $req:ident, $endpoint:path, stop) => {
        on_pool_cancellable(&$state, move |engine, stop| $endpoint(engine, $req, stop)).await
    };
}

pooled! {
    trace: api::trace::TraceRequest => api::trace::TraceResponse = api::trace::trace, stop;
    tokenize: api::tokenize::TokenizeRequest => api::tokenize::TokenizeResponse
        = api::tokenize::tokenize;
    chat: api::chat::ChatRequest => api::chat::ChatResponse = api::chat::chat;
    step: api::step::StepRequest => api::step::StepResponse = api::step::step;
    distribution: api::distribution::DistributionRequest
        => nexttoken_model::explain::StepExplanation = api::distribution::distribution, stop;
    bpe: api::bpe::BpeRequest => api::bpe::BpeResponse = api::bpe::bpe;
    lookup: api::vocab::LookupRequest => api::vocab::LookupResponse = api::vocab::lookup;
    compare: api::compare::CompareRequest => api::compare::CompareResponse
        = api::compare::compare, stop;
    attention: api::attention::AttentionRequest => api::attention::AttentionResponse
        = api::attention::attention;
    overview: api::attention::OverviewRequest => api::attention::OverviewResponse
        = api::attention::overview;
    heads: api::heads::HeadsRequest => api::heads::HeadsResponse = api::heads::heads;
    lens: api::lens::LensRequest => nexttoken_model::lens::LogitLens = api::lens::lens;
    pair: api::pair::PairRequest => api::lab::PairReport = api::pair::pair;
    patch: api::patch::PatchRequest => api::lab::SweepReport = api::patch::patch;
    surprisal: api::surprisal::SurprisalRequest => api::surprisal::SurprisalResponse
        = api::surprisal::surprisal;
}

/// The id arrives as a path segment; the endpoint parses it, keeping a bad one in the API's
/// error shape.
/// A path whose escapes are not UTF-8 (`/api/vocab/%81`) is the JSON 400, not axum's text.
pub async fn vocab_entry(
    State(state): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
) -> Answer<api::vocab::VocabEntry> {
    let Path(id) =
        id.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_path", e.body_text()))?;
    on_pool(&state, move |engine| api::vocab::entry(engine, &id)).await
}

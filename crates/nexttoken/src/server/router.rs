//! The routes of docs/api.md, the JSON 404/405 answers, the body limit and the headers every
//! response carries.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::middleware::{from_fn_with_state, map_response};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

use super::assets;
use super::errors::ApiError;
use super::guard;
use super::handlers::{self as h, info, switch};
use super::state::AppState;

/// Scripts, styles and data only from this server; inline styles for the page's computed
/// widths; `data:` images for generated icons. No other host is ever contacted.
pub const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'";

pub fn router(state: Arc<AppState>) -> Router {
    let max_body = state.limits.max_body_bytes;
    Router::new()
        .route("/api/health", get(info::health))
        .route("/api/model", get(info::model))
        .route("/api/model/switch", post(switch::switch))
        .route("/api/tokenize", post(h::tokenize))
        .route("/api/chat", post(h::chat))
        .route("/api/trace", post(h::trace))
        .route("/api/step", post(h::step))
        .route("/api/distribution", post(h::distribution))
        .route("/api/bpe", post(h::bpe))
        .route("/api/vocab/lookup", post(h::lookup))
        .route("/api/vocab/{id}", get(h::vocab_entry))
        .route("/api/compare", post(h::compare))
        .route("/api/attention", post(h::attention))
        .route("/api/attention/overview", post(h::overview))
        .route("/api/heads", post(h::heads))
        .route("/api/lens", post(h::lens))
        .route("/api/pair", post(h::pair))
        .route("/api/patch", post(h::patch))
        .route("/api/surprisal", post(h::surprisal))
        .route("/", get(assets::index))
        .route("/web/{*path}", get(assets::asset))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(from_fn_with_state(Arc::clone(&state), guard::check))
        .layer(map_response(security_headers))
        .with_state(state)
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!("no route {}", uri.path()))
}

async fn method_not_allowed(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} does not accept this method", uri.path()),
    )
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let csp = HeaderValue::from_static(CSP);
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    let nosniff = HeaderValue::from_static("nosniff");
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, nosniff);
    response
}

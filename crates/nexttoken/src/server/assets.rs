//! The page, built into the binary from `web/`: `GET /` is `index.html`, `GET /web/{path}`
//! any other file. Lookups go to the embedded set only, so no request reaches the disk.

use axum::extract::rejection::PathRejection;
use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use super::errors::ApiError;

#[derive(RustEmbed)]
#[folder = "../../web/"]
pub struct Web;

pub const INDEX: &str = "index.html";

pub async fn index() -> Result<Response, ApiError> {
    asset_response(INDEX)
}

/// A path axum cannot decode (`/web/%ff`, not UTF-8) gets the JSON error shape too.
pub async fn asset(path: Result<Path<String>, PathRejection>) -> Result<Response, ApiError> {
    let Path(path) =
        path.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_path", e.body_text()))?;
    asset_response(&path)
}

fn asset_response(path: &str) -> Result<Response, ApiError> {
    let file = Web::get(path)
        .ok_or_else(|| ApiError::not_found(format!("no file /web/{path} in this build")))?;
    let content_type = HeaderValue::from_str(&content_type(path))
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok((
        [(header::CONTENT_TYPE, content_type)],
        file.data.into_owned(),
    )
        .into_response())
}

/// The media type browsers need (module scripts are refused under `nosniff` without the
/// right one); text is UTF-8 like everything in `web/`.
pub fn content_type(path: &str) -> String {
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let text =
        mime.type_() == "text" || matches!(mime.subtype().as_str(), "javascript" | "json" | "svg");
    if text {
        format!("{}; charset=utf-8", mime.essence_str())
    } else {
        mime.essence_str().to_string()
    }
}

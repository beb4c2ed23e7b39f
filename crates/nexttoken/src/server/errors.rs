//! Every failure a request can meet, in the one JSON shape the page reads:
//! `{"error": {"code": "<snake_case>", "message": "<one sentence>"}}`.

use axum::extract::rejection::JsonRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// A 400: the request asked for something this endpoint cannot do.
    pub fn bad(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// Every permit taken and the queue full: the client should retry shortly.
    pub fn busy(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message)
    }

    /// What a cancelled job returns; nobody reads it, since its request has gone away.
    pub fn gone() -> Self {
        nexttoken_api::Error::cancelled().into()
    }

    pub fn body_too_large(max_body_bytes: usize) -> Self {
        nexttoken_api::Error::body_too_large(max_body_bytes).into()
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// Maps axum's JSON rejection to our shape; `max_body_bytes` names the limit on a 413.
    pub fn from_json_rejection(rejection: JsonRejection, max_body_bytes: usize) -> Self {
        let detail = std::error::Error::source(&rejection)
            .map(|source| source.to_string())
            .unwrap_or_default();
        match rejection {
            JsonRejection::JsonSyntaxError(_) => Self::bad(
                "bad_request",
                format!("the body is not valid JSON: {detail}"),
            ),
            JsonRejection::JsonDataError(_) => Self::bad(
                "bad_request",
                format!("the body does not match this endpoint: {detail}"),
            ),
            JsonRejection::MissingJsonContentType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with the header Content-Type: application/json",
            ),
            r if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::body_too_large(max_body_bytes)
            }
            r => Self::bad(
                "bad_request",
                format!("the body could not be read: {}", r.body_text()),
            ),
        }
    }
}

/// The endpoints' errors carry their status as a number, having no HTTP library to hand.
impl From<nexttoken_api::Error> for ApiError {
    fn from(e: nexttoken_api::Error) -> Self {
        let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ApiError::new(status, e.code, e.message)
    }
}

impl From<nexttoken_model::Error> for ApiError {
    fn from(e: nexttoken_model::Error) -> Self {
        nexttoken_api::Error::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message } });
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            let retry = HeaderValue::from_static("1");
            response.headers_mut().insert(header::RETRY_AFTER, retry);
        }
        response
    }
}

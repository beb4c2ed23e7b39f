//! Every failure a request can meet, in the one JSON shape the page reads:
//! `{"error": {"code": "<snake_case>", "message": "<one sentence>"}}`, with the HTTP status
//! it goes out with (the browser engine hands the status to the page too).

use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl Error {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Error {
            status,
            code,
            message: message.into(),
        }
    }

    /// A 400: the request asked for something this endpoint cannot do.
    pub fn bad(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "not_found", message)
    }

    pub fn body_too_large(max_body_bytes: usize) -> Self {
        Self::new(
            413,
            "body_too_large",
            format!("the body is larger than the limit of {max_body_bytes} bytes"),
        )
    }

    /// What an abandoned run returns; nobody reads it, since its request has gone away.
    pub fn cancelled() -> Self {
        Self::new(503, "cancelled", "the request went away")
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "internal", message)
    }

    /// The answer's body.
    pub fn to_json(&self) -> Value {
        json!({ "error": { "code": self.code, "message": self.message } })
    }
}

/// The model crate reports bad input as `Error::Input` and an abandoned run as `Cancelled`;
/// the endpoints check first, so any other error is the engine's fault.
impl From<nexttoken_model::Error> for Error {
    fn from(e: nexttoken_model::Error) -> Self {
        match e {
            nexttoken_model::Error::Input(msg) => Self::bad("bad_request", msg),
            nexttoken_model::Error::Cancelled => Self::cancelled(),
            other => Self::internal(other.to_string()),
        }
    }
}

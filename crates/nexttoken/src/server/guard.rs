//! Checks every request meets before any route: the `Host` it was sent to, the content type
//! of anything that changes state, and a declared body size within the limit.
//!
//! The server has no login, so it is protected by who can reach it. A page on another site
//! cannot read its answers (no CORS headers), but through DNS rebinding a hostile name can be
//! pointed at 127.0.0.1 and then read everything as if same-origin; its requests carry that
//! name in `Host`, so only names the server answers to are served. An address literal cannot
//! be rebound, so any is accepted (a LAN visitor of `--host 0.0.0.0` types the address). A
//! cross-site HTML form can still send a POST without reading the answer, but only as a form
//! or text content type, so every state-changing request must say `application/json`.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::errors::ApiError;
use super::state::AppState;

/// Names that always mean this machine.
const LOOPBACK_NAMES: [&str; 2] = ["localhost", "localhost."];

/// The host names a request may be addressed to: loopback names, `--host` when it is a name,
/// and each `--allowed-host`. Stored lower-case, without ports.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts(Vec<String>);

impl AllowedHosts {
    /// From the listening host and the names given with `--allowed-host`.
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> AllowedHosts {
        AllowedHosts(names.into_iter().map(str::to_ascii_lowercase).collect())
    }

    /// Whether a `Host` header value (`name`, `name:port`, `1.2.3.4:port`, `[::1]:port`) is one
    /// this server answers to.
    pub fn allows(&self, host: &str) -> bool {
        let name = strip_port(host).to_ascii_lowercase();
        if name.is_empty() {
            return false;
        }
        let literal = name.trim_start_matches('[').trim_end_matches(']');
        literal.parse::<IpAddr>().is_ok()
            || LOOPBACK_NAMES.contains(&name.as_str())
            || name.ends_with(".localhost")
            || self.0.contains(&name)
    }
}

/// `host` without a trailing `:port` (an IPv6 literal keeps its brackets).
fn strip_port(host: &str) -> &str {
    let host = host.trim();
    if let Some(rest) = host.strip_prefix('[') {
        return rest.find(']').map_or(host, |end| &host[..end + 2]);
    }
    host.split_once(':').map_or(host, |(name, _port)| name)
}

/// Refuses, before any route runs: a `Host` the server does not answer to (421), a
/// POST without a JSON body type (415), and a declared `Content-Length`
/// over the limit (413, before the body is read, so `Expect: 100-continue` gets no 100).
pub async fn check(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    match refusal(&state, request.method(), request.headers()) {
        Some(error) => error.into_response(),
        None => next.run(request).await,
    }
}

fn refusal(state: &AppState, method: &Method, headers: &HeaderMap) -> Option<ApiError> {
    // No Host at all is no browser (they always send one), so no rebinding either.
    if let Some(host) = headers.get(header::HOST) {
        let host = host.to_str().unwrap_or("");
        if !state.limits.hosts.allows(host) {
            return Some(ApiError::new(
                StatusCode::MISDIRECTED_REQUEST,
                "unknown_host",
                format!(
                    "this server does not answer to the host {host:?}: open it by its address, \
                     or start it with --allowed-host NAME"
                ),
            ));
        }
    }
    // POST is the only method that changes state here (any other that is not a read is 405).
    if method == Method::POST && !is_json(headers) {
        return Some(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with the header Content-Type: application/json",
        ));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let max = state.limits.max_body_bytes;
    match declared {
        Some(n) if n > max as u64 => Some(ApiError::body_too_large(max)),
        _ => None,
    }
}

/// `application/json`, or a `+json` type, parameters allowed.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return false;
    };
    let essence = value.to_str().unwrap_or("").split(';').next().unwrap_or("");
    let essence = essence.trim().to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_allowed_are_loopback_names_address_literals_and_listed_names() {
        let hosts = AllowedHosts::new(["nexttoken.lan"]);
        for ok in [
            "localhost",
            "localhost:8080",
            "LOCALHOST:1",
            "app.localhost:8080",
            "127.0.0.1:8080",
            "192.168.1.20",
            "[::1]:8080",
            "[::1]",
            "nexttoken.lan:8080",
        ] {
            assert!(hosts.allows(ok), "{ok}");
        }
        for refused in [
            "",
            ":8080",
            "evil.example",
            "evil.example:8080",
            "localhost.evil.example",
            "127.0.0.1.evil.example",
            "garbage value",
            "lan",
        ] {
            assert!(!hosts.allows(refused), "{refused}");
        }
    }

    #[test]
    fn json_content_types() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, v.parse().expect("a header value"));
            is_json(&h)
        };
        assert!(with("application/json"));
        assert!(with("Application/JSON; charset=utf-8"));
        assert!(with("application/merge-patch+json"));
        assert!(!with("text/plain"));
        assert!(!with("application/x-www-form-urlencoded"));
        assert!(!with("multipart/form-data; boundary=x"));
        assert!(!is_json(&HeaderMap::new()));
    }
}

//! Any request through the real router over the tiny fixture model: any route, method, `Host`,
//! content type, declared length and body. Never a panic, never a 500, every error in the
//! API's JSON shape, and the doors hold in their order: a `Host` the server does not answer
//! to is 421, a POST that is not JSON 415, a declared or actual body over the cap 413.

#![no_main]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use nexttoken::models::Source;
use nexttoken::server::guard::AllowedHosts;
use nexttoken::server::{router, AppState, Limits, PoolConfig};
use nexttoken_model::Model;
use tower::ServiceExt;

const POSTS: [&str; 15] = [
    "/api/tokenize",
    "/api/trace",
    "/api/step",
    "/api/distribution",
    "/api/model/switch",
    "/api/bpe",
    "/api/vocab/lookup",
    "/api/compare",
    "/api/attention",
    "/api/attention/overview",
    "/api/heads",
    "/api/lens",
    "/api/pair",
    "/api/patch",
    "/api/surprisal",
];
/// GET routes; the last two take the rest of the input as the rest of the path.
const GETS: [&str; 4] = ["/api/health", "/api/model", "/api/vocab/", "/web/"];
/// Small, so bodies over the cap are in the fuzzer's reach.
const MAX_BODY: usize = 1024;
const HOSTS: [&str; 7] = [
    "127.0.0.1:8080",
    "localhost",
    "[::1]:1",
    "app.localhost",
    "evil.example",
    "localhost.evil.example",
    "",
];
const TYPES: [Option<&str>; 4] = [
    Some("application/json"),
    Some("application/problem+json; charset=utf-8"),
    Some("text/plain"),
    None,
];

fn setup() -> &'static (tokio::runtime::Runtime, Router) {
    static SETUP: OnceLock<(tokio::runtime::Runtime, Router)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/tiny-gpt2");
        let model = Arc::new(Model::load(&dir, "tiny-gpt2").expect("fixture loads"));
        let pool = PoolConfig {
            max_concurrent: 1,
            queue: 4,
            request_timeout: Duration::from_secs(60),
        };
        // Few steps, so a valid trace is quick and the fuzzer spends its time parsing.
        let limits = Limits {
            max_steps: 2,
            max_body_bytes: MAX_BODY,
            ..Limits::default()
        };
        let state = AppState::new(model, Source::Dir, limits, pool);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        (runtime, router(state))
    })
}

/// A path's tail: bytes the URI grammar allows as they are, `%` included (so broken escapes
/// reach the server), every other byte percent-encoded.
fn tail(bytes: &[u8]) -> String {
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"-._~/%".contains(&b);
    bytes
        .iter()
        .map(|&b| match plain(b) {
            true => char::from(b).to_string(),
            false => format!("%{b:02X}"),
        })
        .collect()
}

/// The request an input describes: `[route, flags, host length?, host?.., body..]`.
struct Case {
    method: Method,
    path: String,
    host: Option<String>,
    content_type: Option<&'static str>,
    /// A declared `Content-Length` over the cap (the body itself may be shorter).
    declared: Option<u64>,
    expect: bool,
    body: Vec<u8>,
}

fn case(data: &[u8]) -> Option<Case> {
    let (&[route, flags], rest) = data.split_first_chunk()?;
    let route = usize::from(route) % (POSTS.len() + GETS.len());
    let (host, rest) = match flags & 7 {
        7 => {
            let (&n, rest) = rest.split_first()?;
            let n = usize::from(n).min(rest.len());
            let name = String::from_utf8(rest[..n].to_vec()).ok()?;
            (Some(name), &rest[n..])
        }
        h if flags & 0x80 != 0 => (Some(HOSTS[usize::from(h)].to_string()), rest),
        _ => (None, rest),
    };
    let get = route >= POSTS.len();
    let (path, body) = match route.checked_sub(POSTS.len()) {
        None => (POSTS[route].to_string(), rest.to_vec()),
        Some(g) if g >= 2 => (format!("{}{}", GETS[g], tail(rest)), Vec::new()),
        Some(g) => (GETS[g].to_string(), Vec::new()),
    };
    let post = get == (flags & 0x40 != 0); // the flag swaps the route's own method
    Some(Case {
        method: if post { Method::POST } else { Method::GET },
        path,
        host,
        content_type: TYPES[usize::from(flags >> 3 & 3)],
        declared: (flags & 0x20 != 0).then_some(MAX_BODY as u64 + 1 + u64::from(flags)),
        expect: flags & 0x20 != 0 && flags & 1 != 0,
        body,
    })
}

/// The status the guard must answer before any route, if it must.
fn refused(case: &Case) -> Option<StatusCode> {
    if let Some(host) = &case.host {
        // What `HeaderValue::to_str` reads; other bytes make the value unreadable, so refused.
        let visible = host.bytes().all(|b| (32..127).contains(&b) || b == b'\t');
        if !(visible && AllowedHosts::default().allows(host)) {
            return Some(StatusCode::MISDIRECTED_REQUEST);
        }
    }
    let json = case.content_type.is_some_and(|t| t.contains("json"));
    if case.method == Method::POST && !json {
        return Some(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    case.declared.map(|_| StatusCode::PAYLOAD_TOO_LARGE)
}

/// Every POST route reads its body but the switch, which takes none.
fn reads_body(case: &Case) -> bool {
    case.method == Method::POST && POSTS.contains(&case.path.as_str()) && case.path != POSTS[4]
}

fuzz_target!(|data: &[u8]| {
    let Some(case) = case(data) else {
        return;
    };
    let mut request = Request::builder().method(case.method.clone()).uri(&case.path);
    if let Some(host) = &case.host {
        request = request.header(header::HOST, host);
    }
    if let Some(t) = case.content_type {
        request = request.header(header::CONTENT_TYPE, t);
    }
    if let Some(n) = case.declared {
        request = request.header(header::CONTENT_LENGTH, n);
    }
    if case.expect {
        request = request.header(header::EXPECT, "100-continue");
    }
    let Ok(request) = request.body(Body::from(case.body.clone())) else {
        return; // a path or host no client could send
    };
    let (runtime, app) = setup();
    let (status, bytes) = runtime.block_on(async {
        let response = app.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        (status, bytes)
    });
    let what = format!("{} {} {:?}", case.method, case.path, case.host);
    assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "{what}");
    if let Some(want) = refused(&case) {
        assert_eq!(status, want, "{what}");
    } else if reads_body(&case) && case.body.len() > MAX_BODY {
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{what}");
    }
    if !status.is_success() {
        let value: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON error body");
        assert!(value["error"]["code"].is_string(), "{what}: {value}");
        assert!(value["error"]["message"].is_string(), "{what}: {value}");
    } else if case.path == "/api/heads" {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("-0.0"), "{what}: {text}");
    }
});

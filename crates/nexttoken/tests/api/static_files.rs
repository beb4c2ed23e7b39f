//! The embedded page and the headers on every response.

use std::time::Duration;

use axum::http::StatusCode;
use nexttoken::server::assets::{content_type, Web};
use nexttoken::server::{router, Limits};
use serde_json::json;

use crate::helpers::*;

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'";

fn assert_security_headers(reply: &Reply, what: &str) {
    assert_eq!(reply.header("content-security-policy"), CSP, "{what}");
    assert_eq!(reply.header("x-content-type-options"), "nosniff", "{what}");
}

#[tokio::test]
async fn every_kind_of_response_carries_the_security_headers() {
    assert_security_headers(&get(app(), "/api/health").await, "health");
    assert_security_headers(&get(app(), "/api/nope").await, "404");
    assert_security_headers(&get(app(), "/api/trace").await, "405");
    let reply = post(app(), "/api/trace", json!({ "prompt": "" })).await;
    assert_security_headers(&reply, "400");
    let reply = post(app(), "/api/trace", json!({ "prompt": "Hi" })).await;
    assert_security_headers(&reply, "trace");
    assert_security_headers(&get(app(), "/web/prompts.json").await, "asset");
    let big = json!({ "text": "a".repeat(70 * 1024) });
    assert_security_headers(&post(app(), "/api/tokenize", big).await, "413");
    let reply = post_raw(app(), "/api/tokenize", "{}", None).await;
    assert_security_headers(&reply, "415");
    let state = state_with(Limits::default(), pool(1, 0, Duration::from_secs(60)));
    let _held = hold_slot(&state);
    let reply = post(router(state), "/api/tokenize", json!({ "text": "hi" })).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_security_headers(&reply, "503");
}

#[tokio::test]
async fn every_embedded_file_is_served_with_its_type() {
    let mut served = 0;
    for path in Web::iter() {
        let reply = get(app(), &format!("/web/{path}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        let file = Web::get(&path).expect("embedded");
        assert_eq!(reply.bytes, file.data.as_ref(), "{path}");
        assert_eq!(reply.header("content-type"), content_type(&path), "{path}");
        served += 1;
    }
    assert!(served >= 1, "web/prompts.json at least");
}

#[test]
fn content_types_are_the_ones_browsers_need() {
    assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
    assert_eq!(content_type("js/main.js"), "text/javascript; charset=utf-8");
    assert_eq!(content_type("style.css"), "text/css; charset=utf-8");
    assert_eq!(
        content_type("prompts.json"),
        "application/json; charset=utf-8"
    );
    assert_eq!(content_type("icon.svg"), "image/svg+xml; charset=utf-8");
    assert_eq!(content_type("font.woff2"), "font/woff2");
}

#[tokio::test]
async fn root_serves_index_html_when_the_page_is_built() {
    let reply = get(app(), "/").await;
    match Web::get("index.html") {
        Some(file) => {
            assert_eq!(reply.status, StatusCode::OK);
            assert_eq!(reply.header("content-type"), "text/html; charset=utf-8");
            assert_eq!(reply.bytes, file.data.as_ref());
        }
        None => {
            reply.assert_error(StatusCode::NOT_FOUND, "not_found");
        }
    }
}

#[tokio::test]
async fn no_path_leaves_the_embedded_set() {
    let tries = [
        "/web/../Cargo.toml",
        "/web/%2e%2e/Cargo.toml",
        "/web/..%2fCargo.toml",
        "/web/%2e%2e%2f%2e%2e%2fCargo.toml",
        "/web//etc/passwd",
        "/web/../../crates/nexttoken/Cargo.toml",
        "/web/%2fetc%2fpasswd",
        "/web/%2e%2e%5cCargo.toml",
        "/web/./../Cargo.toml",
        "/web/js/../../Cargo.toml",
        "/../Cargo.toml",
    ];
    for path in tries {
        let reply = get(app(), path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!String::from_utf8_lossy(&reply.bytes).contains("[package]"));
    }
}

#[tokio::test]
async fn an_undecodable_path_gets_the_json_error_shape() {
    for path in [
        "/web/%ff",
        "/web/%c3%28.js",
        "/web/a%80b",
        "/api/vocab/%81",
        "/api/vocab/1%ff",
    ] {
        let reply = get(app(), path).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(reply.json()["error"]["code"], "bad_path", "{path}");
        assert_security_headers(&reply, path);
    }
}

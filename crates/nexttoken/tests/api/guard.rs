//! What every request meets before its route: the Host it names, a JSON content type on
//! anything that changes state, and no absolute path in what the page reads.

use std::io::{Read, Write};
use std::net::TcpStream;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use nexttoken::server::guard::AllowedHosts;
use nexttoken::server::Limits;
use serde_json::Value;

use crate::binary::serve;
use crate::helpers::*;

async fn get_as(host: &str, path: &str) -> Reply {
    let request = Request::get(path).header(header::HOST, host);
    send(app(), request.body(Body::empty()).expect("request")).await
}

/// A DNS-rebound name reaches 127.0.0.1 with its own name in Host: refused, as JSON.
#[tokio::test]
async fn requests_to_other_host_names_get_421() {
    for host in [
        "evil.example",
        "evil.example:8080",
        "localhost.evil.example",
        "",
    ] {
        let reply = get_as(host, "/api/model").await;
        reply.assert_error(StatusCode::MISDIRECTED_REQUEST, "unknown_host");
    }
    let request = Request::post("/api/tokenize")
        .header(header::HOST, "rebound.example:8080")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"text":"a"}"#))
        .expect("request");
    let reply = send(app(), request).await;
    reply.assert_error(StatusCode::MISDIRECTED_REQUEST, "unknown_host");
}

#[tokio::test]
async fn loopback_names_addresses_and_allowed_names_are_served() {
    for host in ["localhost:8080", "127.0.0.1:8080", "[::1]:8080", "10.0.0.7"] {
        assert_eq!(
            get_as(host, "/api/health").await.status,
            StatusCode::OK,
            "{host}"
        );
    }
    let limits = Limits {
        hosts: AllowedHosts::new(["lab.example"]),
        ..Limits::default()
    };
    let state = state_with(limits, pool(1, 1, std::time::Duration::from_secs(60)));
    let request = Request::get("/api/health").header(header::HOST, "LAB.example:80");
    let reply = send(
        nexttoken::server::router(state),
        request.body(Body::empty()).expect("request"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
}

/// A cross-site form can POST as a form or as text, never as JSON.
#[tokio::test]
async fn the_model_switch_needs_a_json_content_type() {
    for content_type in [
        None,
        Some("application/x-www-form-urlencoded"),
        Some("text/plain"),
    ] {
        let reply = post_raw(app(), "/api/model/switch", "", content_type).await;
        reply.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    }
    // As JSON it reaches the handler (this server downloads nothing).
    let reply = post_raw(app(), "/api/model/switch", "{}", Some("application/json")).await;
    reply.assert_error(StatusCode::CONFLICT, "no_download");
}

/// Served from an absolute directory, the page sees the directory's name only.
#[test]
fn the_model_name_is_never_a_path() {
    let (_server, address) = serve(&[]);
    let mut stream = TcpStream::connect(&address).expect("connect");
    let request = "GET /api/model HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    let model: Value = serde_json::from_str(body).expect("JSON");
    assert_eq!(model["name"], "tiny-gpt2", "{model}");
    assert!(!answer.contains(env!("CARGO_MANIFEST_DIR")), "{answer}");
}

//! Every kind of bad input: the right status and code, in the JSON error shape, never a 500.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

const BAD: StatusCode = StatusCode::BAD_REQUEST;

/// A prompt of `n` tokens (" a" is one GPT-2 token).
fn prompt_of(n: usize) -> String {
    " a".repeat(n)
}

async fn expect(path: &str, body: Value, status: StatusCode, code: &str) -> String {
    post(app(), path, body.clone())
        .await
        .assert_error(status, code)
}

#[tokio::test]
async fn malformed_bodies_are_bad_requests() {
    let reply = post_raw(
        app(),
        "/api/trace",
        "{\"prompt\": ",
        Some("application/json"),
    )
    .await;
    let message = reply.assert_error(BAD, "bad_request");
    assert!(message.contains("not valid JSON"), "{message}");
    let cases = [
        json!({ "prompt": 5 }),
        json!({ "prompt": "hi", "colour": "red" }),
        json!({ "prompt": "hi", "sampling": { "greedy": false, "temp": 1.0 } }),
        json!({}),
        json!([1, 2]),
        json!({ "prompt": "hi", "steps": "3" }),
        json!({ "prompt": "hi", "steps": null }),
        json!({ "prompt": "hi", "seed": null }),
        json!({ "prompt": "hi", "sampling": null }),
        json!({ "prompt": "hi", "sampling": { "temperature": null } }),
        json!({ "prompt": "hi", "sampling": { "temperature": "hot" } }),
        json!({ "prompt": "hi", "sampling": { "greedy": "yes" } }),
        json!({ "prompt": "hi", "sampling": { "top_k": -1 } }),
    ];
    for body in cases {
        let message = expect("/api/trace", body.clone(), BAD, "bad_request").await;
        assert!(message.contains("does not match"), "{body}: {message}");
    }
    let message = expect(
        "/api/trace",
        json!({ "prompt": "hi", "colour": 1 }),
        BAD,
        "bad_request",
    )
    .await;
    assert!(
        message.contains("colour"),
        "names the unknown field: {message}"
    );
    expect("/api/tokenize", json!({ "text": 5 }), BAD, "bad_request").await;
    expect("/api/tokenize", json!({}), BAD, "bad_request").await;
    expect("/api/step", json!({ "tokens": "1 2" }), BAD, "bad_request").await;
    expect(
        "/api/distribution",
        json!({ "tokens": [1], "top_k": 3 }),
        BAD,
        "bad_request",
    )
    .await;
}

#[tokio::test]
async fn prompts_must_be_non_empty_and_fit() {
    expect("/api/trace", json!({ "prompt": "" }), BAD, "empty_prompt").await;
    let message = expect(
        "/api/trace",
        json!({ "prompt": prompt_of(65), "steps": 0 }),
        BAD,
        "prompt_too_long",
    )
    .await;
    assert!(
        message.contains("65") && message.contains("64"),
        "{message}"
    );
    let message = expect(
        "/api/trace",
        json!({ "prompt": prompt_of(60), "steps": 5 }),
        BAD,
        "prompt_too_long",
    )
    .await;
    assert!(
        message.contains("59"),
        "says how many tokens are allowed: {message}"
    );
    post_ok(
        app(),
        "/api/trace",
        json!({ "prompt": prompt_of(60), "steps": 4 }),
    )
    .await;
    post_ok(
        app(),
        "/api/trace",
        json!({ "prompt": prompt_of(64), "steps": 0 }),
    )
    .await;
}

#[tokio::test]
async fn integers_out_of_range() {
    let cases = [
        (json!({ "steps": 65 }), "invalid_steps"),
        (json!({ "steps": -1 }), "invalid_steps"),
        (json!({ "steps": 1.5 }), "invalid_steps"),
        (json!({ "top_n": 0 }), "invalid_top_n"),
        (json!({ "top_n": 101 }), "invalid_top_n"),
        (json!({ "seed": 9007199254740992u64 }), "invalid_seed"),
        (json!({ "seed": -1 }), "invalid_seed"),
        (json!({ "seed": 18446744073709551615u64 }), "invalid_seed"),
    ];
    for (mut body, code) in cases {
        body["prompt"] = json!("hi");
        expect("/api/trace", body, BAD, code).await;
    }
    let max_seed = json!({ "prompt": "hi", "seed": 9007199254740991u64, "top_n": 100 });
    post_ok(app(), "/api/trace", max_seed).await;
}

#[tokio::test]
async fn bad_sampling_settings() {
    let cases = [
        json!({ "temperature": -1.0 }),
        json!({ "temperature": 1e39 }),
        json!({ "top_k": 50258 }),
        json!({ "top_p": 0.0 }),
        json!({ "top_p": 1.5 }),
        json!({ "top_p": -0.1 }),
    ];
    for sampling in cases {
        let trace = json!({ "prompt": "hi", "sampling": sampling });
        expect("/api/trace", trace, BAD, "invalid_sampling").await;
        let step = json!({ "tokens": [1], "sampling": sampling });
        expect("/api/step", step, BAD, "invalid_sampling").await;
        let dist = json!({ "tokens": [1], "sampling": sampling });
        expect("/api/distribution", dist, BAD, "invalid_sampling").await;
    }
    let edge = json!({ "greedy": false, "top_k": 50257, "top_p": 1.0, "temperature": 100.0 });
    post_ok(
        app(),
        "/api/distribution",
        json!({ "tokens": [1], "sampling": edge }),
    )
    .await;
    // HF clients' "greedy" and "off" (docs/api.md).
    let hf = json!({ "greedy": true, "temperature": 0.0, "top_k": 0 });
    post_ok(app(), "/api/step", json!({ "tokens": [1], "sampling": hf })).await;
}

#[tokio::test]
async fn token_lists_are_checked() {
    for path in ["/api/step", "/api/distribution"] {
        expect(path, json!({ "tokens": [] }), BAD, "empty_prompt").await;
        let message = expect(path, json!({ "tokens": [1, 50257] }), BAD, "invalid_token").await;
        assert!(message.contains("50257"), "{message}");
        expect(path, json!({ "tokens": [-1] }), BAD, "invalid_token").await;
        expect(path, json!({ "tokens": [2.5] }), BAD, "invalid_token").await;
        expect(
            path,
            json!({ "tokens": vec![1; 65] }),
            BAD,
            "prompt_too_long",
        )
        .await;
    }
    // A step adds a token, so it needs a free position; a distribution only reads.
    expect(
        "/api/step",
        json!({ "tokens": vec![1; 64] }),
        BAD,
        "prompt_too_long",
    )
    .await;
    post_ok(app(), "/api/distribution", json!({ "tokens": vec![1; 64] })).await;
    post_ok(app(), "/api/step", json!({ "tokens": vec![1; 63] })).await;
}

#[tokio::test]
async fn step_checks_force_and_draw() {
    expect(
        "/api/step",
        json!({ "tokens": [1], "force": 50257 }),
        BAD,
        "invalid_token",
    )
    .await;
    expect(
        "/api/step",
        json!({ "tokens": [1], "force": -3 }),
        BAD,
        "invalid_token",
    )
    .await;
    expect(
        "/api/step",
        json!({ "tokens": [1, 2], "draw": 2 }),
        BAD,
        "invalid_draw",
    )
    .await;
    expect(
        "/api/step",
        json!({ "tokens": [1, 2], "draw": -1 }),
        BAD,
        "invalid_draw",
    )
    .await;
    expect(
        "/api/step",
        json!({ "tokens": [1], "seed": -1 }),
        BAD,
        "invalid_seed",
    )
    .await;
    expect(
        "/api/step",
        json!({ "tokens": [1], "top_n": 0 }),
        BAD,
        "invalid_top_n",
    )
    .await;
    post_ok(
        app(),
        "/api/step",
        json!({ "tokens": [1, 2], "draw": 1, "force": null }),
    )
    .await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let text = "a".repeat(70 * 1024);
    let reply = post(app(), "/api/tokenize", json!({ "text": text })).await;
    let message = reply.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    assert!(message.contains("65536"), "{message}");
}

#[tokio::test]
async fn a_body_without_json_content_type_is_415() {
    let body = r#"{"text": "hi"}"#;
    for content_type in [None, Some("text/plain")] {
        let reply = post_raw(app(), "/api/tokenize", body, content_type).await;
        reply.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    }
}

#[tokio::test]
async fn unknown_routes_are_json_404() {
    for path in ["/api/nope", "/nope", "/api", "/web/missing.js"] {
        get(app(), path)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
    }
    let reply = post(app(), "/api/nope", json!({})).await;
    reply.assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn wrong_methods_are_json_405() {
    let allowed = StatusCode::METHOD_NOT_ALLOWED;
    for path in [
        "/api/trace",
        "/api/step",
        "/api/distribution",
        "/api/tokenize",
    ] {
        get(app(), path)
            .await
            .assert_error(allowed, "method_not_allowed");
    }
    for path in ["/api/health", "/api/model", "/"] {
        post(app(), path, json!({}))
            .await
            .assert_error(allowed, "method_not_allowed");
    }
}

/// JSON has no NaN or infinity: the spellings a client might try are all clean 400s.
#[tokio::test]
async fn non_finite_numbers_are_bad_requests() {
    for temperature in ["\"NaN\"", "NaN", "Infinity", "-Infinity", "1e999", "-1e999"] {
        let body = format!(r#"{{"prompt": "hi", "sampling": {{"temperature": {temperature}}}}}"#);
        let reply = post_raw(app(), "/api/trace", &body, Some("application/json")).await;
        reply.assert_error(BAD, "bad_request");
    }
    let body = r#"{"tokens": [1], "sampling": {"top_p": 1e999}}"#;
    let reply = post_raw(app(), "/api/distribution", body, Some("application/json")).await;
    reply.assert_error(BAD, "bad_request");
    let body = r#"{"prompt": "hi", "steps": 1e999}"#;
    let reply = post_raw(app(), "/api/trace", body, Some("application/json")).await;
    reply.assert_error(BAD, "bad_request");
}

#[tokio::test]
async fn invalid_utf8_is_a_bad_request() {
    for bytes in [
        &b"{\"text\": \"\xff\xfe\"}"[..],
        b"\xc3\x28",
        b"{\"text\": \"\xed\xa0\x80\"}",
    ] {
        let request = axum::http::Request::post("/api/tokenize")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(bytes.to_vec()))
            .expect("request");
        send(app(), request).await.assert_error(BAD, "bad_request");
    }
    // A lone surrogate escape is valid JSON but not a Rust string.
    let body = r#"{"text": "\ud800"}"#;
    let reply = post_raw(app(), "/api/tokenize", body, Some("application/json")).await;
    reply.assert_error(BAD, "bad_request");
}

/// Whitespace is text to GPT-2 (" " is token 220, "\n" is 198), so a whitespace-only prompt
/// runs; only a prompt with no characters at all is empty.
#[tokio::test]
async fn whitespace_control_characters_and_endoftext_are_prompts() {
    for prompt in [" ", "\n", "\t\t", "\u{0}", "a\u{7}b\u{1b}[31m"] {
        let trace = post_ok(app(), "/api/trace", json!({ "prompt": prompt })).await;
        assert!(!ids(&trace["token_ids"]).is_empty(), "{prompt:?}");
    }
    let trace = post_ok(app(), "/api/trace", json!({ "prompt": "<|endoftext|>Hi" })).await;
    assert_eq!(ids(&trace["token_ids"])[0], 50256, "the special token");
    let tokens = post_ok(app(), "/api/tokenize", json!({ "text": "a<|endoftext|>" })).await;
    assert_eq!(tokens["count"], 2);
    assert_eq!(tokens["tokens"][1]["id"], 50256);
}

#[tokio::test]
async fn every_other_method_is_405_or_404() {
    for method in ["PUT", "DELETE", "PATCH"] {
        let request = axum::http::Request::builder()
            .method(method)
            .uri("/api/trace")
            .body(axum::body::Body::empty())
            .expect("request");
        let reply = send(app(), request).await;
        reply.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    }
    let reply = post_raw(app(), "/api/trace", "", Some("application/json")).await;
    reply.assert_error(BAD, "bad_request");
    for path in ["/api/trace/", "/API/TRACE", "/api/trace?x=1/../health"] {
        let reply = post(app(), path, json!({ "prompt": "hi" })).await;
        assert!(
            reply.status.is_client_error() || reply.status == 200,
            "{path}"
        );
        assert!(reply.json().is_object(), "{path}");
    }
}

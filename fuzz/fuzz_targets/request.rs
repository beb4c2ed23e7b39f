//! Any bytes as the body of every POST endpoint, through the real router over the tiny
//! fixture model: never a panic, never a 500, and every error in the API's JSON shape.

#![no_main]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use nexttoken::models::Source;
use nexttoken::server::{router, AppState, Limits, PoolConfig};
use nexttoken_model::Model;
use tower::ServiceExt;

const PATHS: [&str; 12] = [
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

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let (runtime, app) = setup();
    let path = PATHS[usize::from(selector) % PATHS.len()];
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_vec()))
        .expect("request");
    let (status, bytes) = runtime.block_on(async {
        let response = app.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        (status, bytes)
    });
    assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
    if !status.is_success() {
        let value: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON error body");
        assert!(value["error"]["code"].is_string(), "{path}: {value}");
        assert!(value["error"]["message"].is_string(), "{path}: {value}");
    }
});

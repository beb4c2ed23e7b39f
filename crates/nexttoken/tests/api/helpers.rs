//! The router over the tiny fixture model, driven in-process, and small request helpers.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use nexttoken::models::Source;
use nexttoken::server::{router, AppState, Limits, PoolConfig};
use nexttoken_model::Model;
use serde_json::Value;
use tower::ServiceExt;

/// 2 layers, d=32, 64 positions, GPT-2's full vocabulary.
pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tiny-gpt2")
}

pub fn model() -> Arc<Model> {
    static MODEL: OnceLock<Arc<Model>> = OnceLock::new();
    let load = || Arc::new(Model::load(&fixture_dir(), "tiny-gpt2").expect("fixture loads"));
    Arc::clone(MODEL.get_or_init(load))
}

pub fn pool(max_concurrent: usize, queue: usize, timeout: Duration) -> PoolConfig {
    PoolConfig {
        max_concurrent,
        queue,
        request_timeout: timeout,
    }
}

pub fn state_with(limits: Limits, pool: PoolConfig) -> Arc<AppState> {
    AppState::new(model(), Source::Dir, limits, pool)
}

/// Takes one of the pool's model slots, as a running job would, until the permit is dropped.
pub fn hold_slot(state: &AppState) -> tokio::sync::OwnedSemaphorePermit {
    state
        .pool
        .permits
        .clone()
        .try_acquire_owned()
        .expect("a free slot")
}

pub fn state() -> Arc<AppState> {
    state_with(Limits::default(), pool(2, 16, Duration::from_secs(60)))
}

pub fn app() -> Router {
    router(state())
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Reply {
    /// The body as JSON; `Value::Null` when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts the API's error shape with `status` and `code`; returns the message.
    pub fn assert_error(&self, status: StatusCode, code: &str) -> String {
        let body = self.json();
        assert_eq!(self.status, status, "body: {body}");
        assert_eq!(self.header("content-type"), "application/json");
        assert_eq!(body["error"]["code"], code, "body: {body}");
        let message = body["error"]["message"].as_str().unwrap_or("").to_string();
        assert!(!message.is_empty(), "an error needs a message: {body}");
        message
    }
}

pub async fn send(app: Router, request: Request<Body>) -> Reply {
    let response = app
        .oneshot(request)
        .await
        .expect("the router is infallible");
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes().to_vec();
    Reply {
        status: parts.status,
        headers: parts.headers,
        bytes,
    }
}

pub async fn get(app: Router, path: &str) -> Reply {
    let request = Request::get(path).body(Body::empty()).expect("request");
    send(app, request).await
}

/// POSTs `body` as given, with `content_type` when there is one.
pub async fn post_raw(app: Router, path: &str, body: &str, content_type: Option<&str>) -> Reply {
    let mut request = Request::post(path);
    if let Some(ct) = content_type {
        request = request.header(header::CONTENT_TYPE, ct);
    }
    send(
        app,
        request.body(Body::from(body.to_string())).expect("request"),
    )
    .await
}

pub async fn post(app: Router, path: &str, body: Value) -> Reply {
    post_raw(app, path, &body.to_string(), Some("application/json")).await
}

/// POSTs and asserts a 200, returning the JSON body.
pub async fn post_ok(app: Router, path: &str, body: Value) -> Value {
    let reply = post(app, path, body.clone()).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{path} {body}: {}",
        reply.json()
    );
    reply.json()
}

/// Ids of a JSON array of numbers.
pub fn ids(value: &Value) -> Vec<u64> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

/// `value` as the server sends it: f32s printed at f32 precision (`to_value` would widen them).
pub fn wire<T: serde::Serialize>(value: &T) -> Value {
    let text = serde_json::to_string(value).expect("serialisable");
    serde_json::from_str(&text).expect("valid JSON")
}

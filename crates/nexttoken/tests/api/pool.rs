//! The model pool: a full queue answers 503 with Retry-After, a slow request times out, and
//! `/api/health` never waits.

use std::time::Duration;

use axum::http::StatusCode;
use nexttoken::server::{router, Limits};
use nexttoken_api::{compare::compare, distribution::distribution};
use nexttoken_model::Stop;
use serde_json::json;

use crate::helpers::*;

const UNAVAILABLE: StatusCode = StatusCode::SERVICE_UNAVAILABLE;

#[tokio::test]
async fn a_full_queue_answers_503_and_health_still_answers() {
    let state = state_with(Limits::default(), pool(1, 0, Duration::from_secs(60)));
    let held = hold_slot(&state);
    let reply = post(
        router(state.clone()),
        "/api/tokenize",
        json!({ "text": "hi" }),
    )
    .await;
    reply.assert_error(UNAVAILABLE, "busy");
    assert_eq!(reply.header("retry-after"), "1");
    assert_eq!(get(router(state.clone()), "/api/health").await.status, 200);
    assert_eq!(get(router(state.clone()), "/api/model").await.status, 200);
    drop(held);
    let reply = post(router(state), "/api/tokenize", json!({ "text": "hi" })).await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn requests_wait_in_the_queue_up_to_its_length() {
    let state = state_with(Limits::default(), pool(1, 1, Duration::from_secs(60)));
    let held = hold_slot(&state);
    let waiting = tokio::spawn(post(
        router(state.clone()),
        "/api/tokenize",
        json!({ "text": "hi" }),
    ));
    while state.pool.waiting() == 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let refused = post(
        router(state.clone()),
        "/api/tokenize",
        json!({ "text": "hi" }),
    )
    .await;
    refused.assert_error(UNAVAILABLE, "busy");
    drop(held);
    let served = waiting.await.expect("task");
    assert_eq!(served.status, 200);
    assert_eq!(served.json()["count"], 1);
    assert_eq!(state.pool.waiting(), 0);
}

#[tokio::test]
async fn waiting_past_the_deadline_is_503() {
    let state = state_with(Limits::default(), pool(1, 4, Duration::from_millis(50)));
    let _held = hold_slot(&state);
    let reply = post(
        router(state.clone()),
        "/api/trace",
        json!({ "prompt": "hi" }),
    )
    .await;
    let message = reply.assert_error(UNAVAILABLE, "busy");
    assert!(message.contains("waited"), "{message}");
    assert_eq!(reply.header("retry-after"), "1");
    assert_eq!(
        state.pool.waiting(),
        0,
        "a timed-out request leaves the queue"
    );
}

#[tokio::test]
async fn running_past_the_deadline_is_504() {
    let state = state_with(Limits::default(), pool(1, 4, Duration::ZERO));
    let request = json!({ "prompt": " a".repeat(20), "steps": 40 });
    let reply = post(router(state), "/api/trace", request).await;
    reply.assert_error(StatusCode::GATEWAY_TIMEOUT, "timeout");
}

#[tokio::test]
async fn limits_come_from_the_state() {
    let limits = Limits {
        max_steps: 3,
        max_body_bytes: 100,
        ..Limits::default()
    };
    let state = state_with(limits, pool(1, 4, Duration::from_secs(60)));
    let reply = post(
        router(state.clone()),
        "/api/trace",
        json!({ "prompt": "hi", "steps": 4 }),
    )
    .await;
    let message = reply.assert_error(StatusCode::BAD_REQUEST, "invalid_steps");
    assert!(message.contains("0..=3"), "{message}");
    let long = json!({ "text": "x".repeat(100) });
    let reply = post(router(state.clone()), "/api/tokenize", long).await;
    reply.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    let model = get(router(state), "/api/model").await.json();
    assert_eq!(model["limits"]["max_steps"], 3);
    assert_eq!(model["limits"]["max_body_bytes"], 100);
}

/// Polls `done` every millisecond for up to 30 s: waits on a state change, not on a guess
/// of how long the work takes.
async fn until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..30_000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("waited 30 s for {what}");
}

/// Dropping the request's future is what hyper does when the client disconnects.
#[tokio::test]
async fn a_dropped_request_stops_its_trace() {
    let limits = Limits {
        max_steps: 63,
        ..Limits::default()
    };
    let state = state_with(limits, pool(1, 4, Duration::from_secs(60)));
    // Sampled with top-p, 63 steps: hundreds of milliseconds on the tiny model.
    let sampling = json!({ "greedy": false, "top_p": 0.9 });
    let long = json!({ "prompt": "a", "steps": 63, "sampling": sampling });
    let request = tokio::spawn(post(router(state.clone()), "/api/trace", long));
    until("the job to start", || state.pool.running() == 1).await;
    request.abort();
    until("the job to stop", || state.pool.running() == 0).await;
    assert_eq!(state.pool.cancelled(), 1, "the job stopped early");
    let health = get(router(state), "/api/health").await.json();
    assert_eq!(health["pool"]["cancelled"], 1);
}

/// The handlers give `/api/distribution` and `/api/compare` the flag a trace gets; raised, their
/// forward pass ends at the next layer and nothing half-done is cached.
#[test]
fn a_raised_stop_ends_a_distribution_and_a_compare() {
    let state = state_with(Limits::default(), pool(1, 4, Duration::from_secs(60)));
    let engine = state.loaded();
    let gone = Stop::default();
    gone.raise();
    let tokens = || serde_json::from_value(json!({ "tokens": [1, 2, 3] })).unwrap();
    let pair = || serde_json::from_value(json!({ "before": [4, 5], "after": [4, 6] })).unwrap();
    let error = distribution(&engine, tokens(), gone.clone()).unwrap_err();
    assert_eq!(error.code, "cancelled");
    let stopped = compare(&engine, pair(), gone).err().map(|error| error.code);
    assert_eq!(stopped, Some("cancelled"));
    assert!(
        engine.cache.logits(&[1, 2, 3]).is_none(),
        "a stopped pass cached nothing"
    );
    assert!(distribution(&engine, tokens(), Stop::default()).is_ok());
    assert!(compare(&engine, pair(), Stop::default()).is_ok());
    assert!(engine.cache.logits(&[1, 2, 3]).is_some());
}

#[tokio::test]
async fn a_job_past_its_deadline_stops_too() {
    let state = state_with(Limits::default(), pool(1, 4, Duration::from_millis(1)));
    let sampling = json!({ "greedy": false, "top_p": 0.9 });
    let long = json!({ "prompt": "a", "steps": 63, "sampling": sampling });
    let reply = post(router(state.clone()), "/api/trace", long).await;
    reply.assert_error(StatusCode::GATEWAY_TIMEOUT, "timeout");
    until("the job to stop", || state.pool.running() == 0).await;
    assert_eq!(state.pool.cancelled(), 1);
}

#[tokio::test]
async fn health_does_not_go_through_the_pool() {
    let state = state_with(Limits::default(), pool(2, 0, Duration::from_secs(60)));
    let _all = state
        .pool
        .permits
        .clone()
        .try_acquire_many_owned(2)
        .expect("free");
    let health = get(router(state.clone()), "/api/health").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["pool"]["running"], 2);
}

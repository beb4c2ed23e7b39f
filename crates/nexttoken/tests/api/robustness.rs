//! Properties over the router: whatever arrives as the body of a POST endpoint, arbitrary
//! bytes or arbitrary JSON built from the API's own field names, the answer is never a 5xx
//! (but 503/504 from the pool), and every error comes in the JSON error shape.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request};
use axum::Router;
use nexttoken::server::{router, Limits};
use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::helpers::*;

const PATHS: [&str; 16] = [
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
    "/api/nope",
];

const FIELDS: [&str; 32] = [
    "prompt",
    "text",
    "tokens",
    "steps",
    "sampling",
    "seed",
    "top_n",
    "draw",
    "force",
    "greedy",
    "temperature",
    "top_k",
    "top_p",
    "colour",
    "",
    "layer",
    "head",
    "heads",
    "position",
    "left",
    "right",
    "size",
    "top",
    "bytes",
    "id",
    "clean",
    "corrupted",
    "answer",
    "other",
    "sweep",
    "direction",
    "rows",
];

/// Few steps, so the valid requests the generator finds stay quick.
fn small_app() -> Router {
    let limits = Limits {
        max_steps: 2,
        ..Limits::default()
    };
    router(state_with(limits, pool(2, 16, Duration::from_secs(60))))
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (0u64..70).prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        (-2.0f64..2.0).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(&FIELDS[..]), inner), 0..6).prop_map(
                |pairs| {
                    let map: Map<String, Value> =
                        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                    Value::Object(map)
                }
            ),
        ]
    })
}

fn assert_clean(path: &str, reply: &Reply) -> Result<(), TestCaseError> {
    let status = reply.status.as_u16();
    prop_assert!(
        status < 500 || status == 503 || status == 504,
        "{path}: {status}"
    );
    if status >= 400 {
        let body = reply.json();
        prop_assert!(body["error"]["code"].is_string(), "{path}: {body}");
        prop_assert!(body["error"]["message"].is_string(), "{path}: {body}");
    }
    Ok(())
}

fn send_body(path: &'static str, body: Vec<u8>) -> Reply {
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("request");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    runtime.block_on(send(small_app(), request))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_get_a_clean_answer(
        path in prop::sample::select(&PATHS[..]),
        body in prop::collection::vec(any::<u8>(), 0..96),
    ) {
        let reply = send_body(path, body);
        assert_clean(path, &reply)?;
    }

    #[test]
    fn arbitrary_json_gets_a_clean_answer(
        path in prop::sample::select(&PATHS[..]),
        value in json_value(),
    ) {
        let reply = send_body(path, value.to_string().into_bytes());
        assert_clean(path, &reply)?;
    }
}

//! The analysis views' endpoints refuse bad input in the API's error shape, and their answers
//! stay within the sizes docs/api.md states.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

/// The fixture reads 64 positions.
const N_POSITIONS: usize = 64;

async fn expect(path: &str, body: Value, code: &str) {
    post(app(), path, body)
        .await
        .assert_error(StatusCode::BAD_REQUEST, code);
}

#[tokio::test]
async fn token_lists_are_checked_everywhere() {
    let too_many = vec![1; N_POSITIONS + 1];
    let all = [
        ("/api/attention", json!({ "layer": 0, "head": 0 })),
        ("/api/attention/overview", json!({ "layer": 0 })),
        ("/api/heads", json!({})),
        ("/api/lens", json!({})),
        ("/api/surprisal", json!({})),
    ];
    for (path, base) in all {
        let with = |tokens: Value| {
            let mut body = base.clone();
            body["tokens"] = tokens;
            body
        };
        expect(path, with(json!([1, 50257])), "invalid_token").await;
        expect(path, with(json!([-1])), "invalid_token").await;
        expect(path, with(json!([])), "empty_prompt").await;
        expect(path, with(json!(too_many)), "prompt_too_long").await;
        expect(path, with(json!("1 2")), "bad_request").await;
    }
    expect(
        "/api/compare",
        json!({ "before": [1], "after": [50257] }),
        "invalid_token",
    )
    .await;
    expect(
        "/api/compare",
        json!({ "before": too_many, "after": [1] }),
        "prompt_too_long",
    )
    .await;
    expect(
        "/api/compare",
        json!({ "before": [1], "after": [] }),
        "empty_prompt",
    )
    .await;
    expect(
        "/api/compare",
        json!({ "before": [1], "after": [2], "top_n": 0 }),
        "invalid_top_n",
    )
    .await;
    expect("/api/compare", json!({ "before": [1] }), "bad_request").await;
}

#[tokio::test]
async fn layers_heads_positions_and_sizes_are_checked() {
    let t = json!([1, 2, 3]);
    expect(
        "/api/attention",
        json!({ "tokens": t, "layer": 2, "head": 0 }),
        "invalid_layer",
    )
    .await;
    expect(
        "/api/attention",
        json!({ "tokens": t, "layer": 0, "head": 4 }),
        "invalid_head",
    )
    .await;
    expect(
        "/api/attention",
        json!({ "tokens": t, "layer": 0.5, "head": 0 }),
        "invalid_layer",
    )
    .await;
    expect(
        "/api/attention",
        json!({ "tokens": t, "layer": 0 }),
        "bad_request",
    )
    .await;
    expect(
        "/api/attention/overview",
        json!({ "tokens": t, "layer": 9 }),
        "invalid_layer",
    )
    .await;
    expect(
        "/api/attention/overview",
        json!({ "tokens": t, "layer": 0, "size": 0 }),
        "invalid_size",
    )
    .await;
    expect(
        "/api/attention/overview",
        json!({ "tokens": t, "layer": 0, "size": 65 }),
        "invalid_size",
    )
    .await;
    expect(
        "/api/lens",
        json!({ "tokens": t, "position": 3 }),
        "invalid_position",
    )
    .await;
    expect("/api/lens", json!({ "tokens": t, "top": 0 }), "invalid_top").await;
    expect(
        "/api/lens",
        json!({ "tokens": t, "top": 21 }),
        "invalid_top",
    )
    .await;
    expect(
        "/api/heads",
        json!({ "tokens": t, "repeat_len": 33 }),
        "invalid_repeat_len",
    )
    .await;
    expect(
        "/api/heads",
        json!({ "tokens": t, "seed": -1 }),
        "invalid_seed",
    )
    .await;
    expect(
        "/api/heads",
        json!({ "tokens": t, "extra": 1 }),
        "bad_request",
    )
    .await;
}

#[tokio::test]
async fn vocab_and_bpe_inputs_are_checked() {
    for path in [
        "/api/vocab/50257",
        "/api/vocab/-1",
        "/api/vocab/abc",
        "/api/vocab/1.5",
    ] {
        get(app(), path)
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_token");
    }
    expect(
        "/api/bpe",
        json!({ "text": "a".repeat(2049) }),
        "invalid_text",
    )
    .await;
    expect("/api/bpe", json!({ "text": 5 }), "bad_request").await;
    expect(
        "/api/vocab/lookup",
        json!({ "text": "a".repeat(257) }),
        "invalid_text",
    )
    .await;
    expect("/api/vocab/lookup", json!({ "text": "" }), "invalid_text").await;
    expect(
        "/api/vocab/lookup",
        json!({ "bytes": [256] }),
        "invalid_bytes",
    )
    .await;
    expect(
        "/api/vocab/lookup",
        json!({ "bytes": [1], "text": "a" }),
        "bad_request",
    )
    .await;
    expect("/api/vocab/lookup", json!({}), "bad_request").await;
}

#[tokio::test]
async fn answers_stay_within_the_documented_sizes() {
    // The worst case for /api/bpe: 32-letter words (the longest that list their parts), each
    // merged one letter pair at a time, filling the 2,048-byte limit.
    let word: String = "abcdefghijklmnopqrstuvwxyzabcdef".to_string();
    let text = format!(" {word}").repeat(2048 / 33);
    let bpe = post(app(), "/api/bpe", json!({ "text": text })).await;
    assert_eq!(bpe.status, StatusCode::OK);
    assert!(bpe.bytes.len() < 1_000_000, "{} bytes", bpe.bytes.len());

    let full: Vec<u32> = (0..N_POSITIONS as u32).collect();
    let att = post_ok(
        app(),
        "/api/attention",
        json!({ "tokens": full, "layer": 0, "head": 0 }),
    )
    .await;
    let cells: usize = att["pattern"]
        .as_array()
        .expect("pattern")
        .iter()
        .filter_map(Value::as_array)
        .map(Vec::len)
        .sum();
    assert_eq!(cells, N_POSITIONS * (N_POSITIONS + 1) / 2);

    let ov = post_ok(
        app(),
        "/api/attention/overview",
        json!({ "tokens": full, "layer": 0, "size": 64 }),
    )
    .await;
    let heads = ov["heads"].as_array().expect("heads");
    assert!(heads.iter().all(|h| h.as_array().map(Vec::len) == Some(64)));

    let lens = post_ok(app(), "/api/lens", json!({ "tokens": full, "top": 20 })).await;
    assert!(lens["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .all(|r| r["top"].as_array().map(Vec::len) == Some(20)));
}

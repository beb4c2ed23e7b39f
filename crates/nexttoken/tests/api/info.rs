//! `/api/health`, `/api/model`, `/api/tokenize`.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn health_is_ok() {
    let reply = get(app(), "/api/health").await;
    assert_eq!(reply.status, 200);
    let pool = json!({ "running": 0, "waiting": 0, "cancelled": 0 });
    let batches = json!({ "batches": 0, "steps": 0 });
    let cache = json!({ "bytes": 0, "budget_bytes": 256 << 20, "entries": 0, "positions": 0 });
    let want = json!({ "status": "ok", "pool": pool, "batches": batches, "cache": cache });
    assert_eq!(reply.json(), want);
    assert_eq!(reply.header("content-type"), "application/json");
}

#[tokio::test]
async fn model_describes_the_fixture_and_the_limits() {
    let body = get(app(), "/api/model").await.json();
    assert_eq!(body["name"], "tiny-gpt2");
    assert_eq!(body["n_layer"], 2);
    assert_eq!(body["n_head"], 4);
    assert_eq!(body["n_embd"], 32);
    assert_eq!(body["vocab_size"], 50257);
    assert_eq!(body["n_positions"], 64);
    assert_eq!(body["source"], "dir");
    assert_eq!(body["limits"]["max_steps"], 64);
    assert_eq!(body["limits"]["max_prompt_tokens"], 64);
    assert_eq!(body["limits"]["max_body_bytes"], 65536);
    assert_eq!(body["limits"]["cache_bytes"], 256 << 20);
}

#[tokio::test]
async fn tokenize_matches_the_tokenizer() {
    let text = "Hello world, 🦀!";
    let body = post_ok(app(), "/api/tokenize", json!({ "text": text })).await;
    let expected = model().tokenizer.encode(text);
    let got: Vec<u64> = body["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .filter_map(|t| t["id"].as_u64())
        .collect();
    assert_eq!(got, expected.iter().map(|&i| i as u64).collect::<Vec<_>>());
    assert_eq!(body["count"], expected.len());
    assert_eq!(body["tokens"][0]["text"], "Hello");
    assert_eq!(body["tokens"][1]["display"], "·world");
    assert_eq!(
        body["tokens"][1]["bytes"],
        json!([32, 119, 111, 114, 108, 100])
    );
}

#[tokio::test]
async fn tokenize_empty_text_is_zero_tokens() {
    let body = post_ok(app(), "/api/tokenize", json!({ "text": "" })).await;
    assert_eq!(body, json!({ "count": 0, "tokens": [] }));
}

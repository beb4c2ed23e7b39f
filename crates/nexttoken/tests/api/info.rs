//! `/api/health`, `/api/model`, `/api/tokenize`, `/api/chat`.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use nexttoken::models::Source;
use nexttoken::server::{router, AppState, Limits};
use nexttoken_model::Model;
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

/// A checkpoint with a chat template (the tiny Llama, given one in `tokenizer_config.json` as HF
/// saves it) wraps a message in it; one without says so in words.
#[tokio::test]
async fn chat_wraps_a_message_in_the_checkpoints_template() {
    assert_eq!(
        get(app(), "/api/model").await.json()["chat_template"],
        false
    );
    let reply = post(app(), "/api/chat", json!({ "message": "hi" })).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "no_chat_template");
    let dir = tempfile::tempdir().unwrap();
    let llama = fixture_dir().join("../tiny-llama");
    for file in ["config.json", "model.safetensors", "tokenizer.json"] {
        std::fs::copy(llama.join(file), dir.path().join(file)).unwrap();
    }
    let template =
        "{% for m in messages %}\n<{{ m.role }}>{{ m.content }}</{{ m.role }}>\n{% endfor %}\n\
                    {% if add_generation_prompt %}<assistant>{% endif %}";
    let config = json!({ "chat_template": template }).to_string();
    std::fs::write(dir.path().join("tokenizer_config.json"), config).unwrap();
    let model = Arc::new(Model::load(dir.path(), "tiny-llama").unwrap());
    let timeout = Duration::from_secs(60);
    let state = AppState::new(
        Arc::clone(&model),
        Source::Dir,
        Limits::default(),
        pool(2, 16, timeout),
    );
    assert_eq!(
        get(router(state.clone()), "/api/model").await.json()["chat_template"],
        true
    );
    let body = post_ok(router(state), "/api/chat", json!({ "message": "hi" })).await;
    let text = "<user>hi</user>\n<assistant>";
    assert_eq!(
        body,
        json!({ "text": text, "count": model.tokenizer.encode(text).len() })
    );
}

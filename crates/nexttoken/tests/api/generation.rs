//! `/api/trace`, `/api/step`, `/api/distribution`: shapes, and agreement with the model crate
//! and with each other.

use std::sync::Arc;
use std::time::Duration;

use nexttoken::models::Source;
use nexttoken::server::{router, AppState, Limits};
use nexttoken_model::generate::explain_logits;
use nexttoken_model::{trace, GenerateOptions, KvCache, Model, NoRecorder, ResidNorms, Sampling};
use serde_json::{json, Value};

use crate::helpers::*;

const PROMPT: &str = "The capital of France is";

fn sampled() -> Value {
    json!({ "greedy": false, "temperature": 0.9, "top_k": null, "top_p": 0.9 })
}

#[tokio::test]
async fn trace_has_the_contract_fields_and_shapes() {
    let body = post_ok(
        app(),
        "/api/trace",
        json!({ "prompt": PROMPT, "steps": 3, "top_n": 5 }),
    )
    .await;
    assert_eq!(body["version"], 1);
    assert_eq!(body["prompt"], PROMPT);
    for field in ["name", "n_layer", "n_head", "n_embd", "vocab_size"] {
        assert!(!body["model"][field].is_null(), "model.{field}");
    }
    let token_ids = ids(&body["token_ids"]);
    let n_tokens = token_ids.len();
    assert_eq!(n_tokens, model().tokenizer.encode(PROMPT).len());
    let tokens = body["tokens"].as_array().expect("tokens");
    let from_tokens: Vec<u64> = tokens.iter().filter_map(|t| t["id"].as_u64()).collect();
    assert_eq!(from_tokens, token_ids);
    assert!(tokens.iter().all(|t| t["text"].is_string()));

    let rows = body["resid_norms"].as_array().expect("resid_norms");
    assert_eq!(rows.len(), 3, "n_layer + 1 rows");
    assert!(rows
        .iter()
        .all(|r| r.as_array().map(Vec::len) == Some(n_tokens)));

    let steps = body["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 3);
    for step in steps {
        let candidates = step["candidates"].as_array().expect("candidates");
        assert_eq!(candidates.len(), 5);
        for c in candidates {
            let p = c["prob"].as_f64().expect("prob");
            assert!((0.0..=1.0).contains(&p), "prob {p}");
            assert!(c["id"].is_u64() && c["text"].is_string() && c["logit"].is_f64());
        }
        let logits: Vec<f64> = candidates
            .iter()
            .filter_map(|c| c["logit"].as_f64())
            .collect();
        assert!(logits.windows(2).all(|w| w[0] >= w[1]), "sorted by logit");
        assert_eq!(
            step["chosen"]["id"], candidates[0]["id"],
            "greedy takes rank 0"
        );
        assert!(step["chosen"]["text"].is_string());
    }
}

#[tokio::test]
async fn trace_is_what_the_model_crate_records() {
    let request =
        json!({ "prompt": PROMPT, "steps": 4, "sampling": sampled(), "seed": 3, "top_n": 7 });
    let mut body = post_ok(app(), "/api/trace", request).await;
    let options = GenerateOptions {
        sampling: serde_json::from_value(sampled()).expect("sampling"),
        seed: 3,
        top_n: 7,
    };
    let direct = trace(&model(), PROMPT, 4, options).expect("trace");
    let mut expected = wire(&direct);
    for run in [&mut body, &mut expected] {
        run.as_object_mut().map(|o| o.remove("elapsed_ms"));
    }
    let extra = body.as_object_mut().expect("object");
    assert!(extra.remove("embedding").is_some());
    assert!(extra.remove("token_ids").is_some());
    assert_eq!(body, expected);
}

/// The norms come from the weights; their sum must be the first residual row.
#[tokio::test]
async fn embedding_norms_are_the_wte_and_wpe_rows() {
    let body = post_ok(app(), "/api/trace", json!({ "prompt": PROMPT, "steps": 0 })).await;
    let m = model();
    let norm = |v: &mut dyn Iterator<Item = f32>| v.map(|x| x * x).sum::<f32>().sqrt();
    for (pos, id) in ids(&body["token_ids"]).into_iter().enumerate() {
        let tok = m.arch.token_embedding(id as u32); // wte[id]
        let p = m.arch.position_embedding(pos).expect("GPT-2 has wpe"); // wpe[pos]
        let close = |a: f64, b: f32| (a - b as f64).abs() <= 1e-4 * (1.0 + b.abs() as f64);
        let got = |key: &str| body["embedding"][key][pos].as_f64().expect("norm");
        assert!(close(got("tok_norms"), norm(&mut tok.iter().copied())));
        assert!(close(got("pos_norms"), norm(&mut p.iter().copied())));
        let sum = norm(&mut tok.iter().zip(p).map(|(a, b)| a + b));
        let resid = body["resid_norms"][0][pos].as_f64().expect("resid");
        assert!(close(resid, sum), "resid_norms[0][{pos}] {resid} vs {sum}");
    }
}

#[tokio::test]
async fn stepping_one_at_a_time_replays_the_trace() {
    let settings = json!({ "sampling": sampled(), "seed": 7, "top_n": 10 });
    let mut request = settings.clone();
    request["prompt"] = json!(PROMPT);
    request["steps"] = json!(5);
    let traced = post_ok(app(), "/api/trace", request).await;
    let mut tokens = ids(&traced["token_ids"]);
    let prompt_len = tokens.len();
    let mut off_argmax = 0;
    for (draw, expected) in traced["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .enumerate()
    {
        let mut request = settings.clone();
        request["tokens"] = json!(tokens);
        request["draw"] = json!(draw);
        let body = post_ok(app(), "/api/step", request).await;
        same_step(&body["step"], expected, draw);
        let next = ids(&body["tokens"]);
        assert_eq!(next.len(), tokens.len() + 1);
        assert_eq!(next[..tokens.len()], tokens[..]);
        assert_eq!(next.last(), body["step"]["chosen"]["id"].as_u64().as_ref());
        off_argmax += usize::from(expected["chosen"]["id"] != expected["candidates"][0]["id"]);
        tokens = next;
    }
    assert_eq!(tokens.len(), prompt_len + 5);
    assert!(
        off_argmax > 0,
        "sampling should leave the argmax at least once in 5 steps"
    );
}

#[tokio::test]
async fn force_takes_the_forced_token() {
    let prompt = model().tokenizer.encode(PROMPT);
    let request = json!({ "tokens": prompt, "force": 31337, "top_n": 3 });
    let body = post_ok(app(), "/api/step", request).await;
    assert_eq!(body["step"]["chosen"]["id"], 31337);
    assert_eq!(
        body["tokens"].as_array().and_then(|t| t.last()),
        Some(&json!(31337))
    );
    assert_ne!(
        body["step"]["candidates"][0]["id"], 31337,
        "not the greedy choice"
    );
}

#[tokio::test]
async fn distribution_is_exact_and_matches_the_step() {
    let state = state();
    let m = model();
    let tokens = m.tokenizer.encode(PROMPT);
    let sampling = json!({ "greedy": false, "temperature": 0.5, "top_k": 40, "top_p": 0.8 });
    let request = json!({ "tokens": tokens, "sampling": sampling, "top_n": 12 });
    let body = post_ok(router_of(&state), "/api/distribution", request.clone()).await;

    let logits = m.forward(&tokens, &mut KvCache::new(m.config()), &mut NoRecorder);
    let settings: Sampling = serde_json::from_value(sampling).expect("sampling");
    let direct = explain_logits(&m, &logits.expect("forward"), &settings, 12);
    assert_eq!(body, wire(&direct));

    let step = post_ok(router_of(&state), "/api/step", request).await;
    assert_eq!(step["step"]["candidates"], body["candidates"]);
    assert_eq!(step["step"]["entropy_bits"], body["entropy_bits"]);
    assert_eq!(step["step"]["nucleus_size"], body["nucleus_size"]);
}

#[tokio::test]
async fn distribution_reuses_cached_logits_under_new_settings() {
    let state = state();
    let tokens = model().tokenizer.encode(PROMPT);
    let at =
        |t: f64| json!({ "tokens": tokens, "sampling": { "greedy": false, "temperature": t } });
    let hot = post_ok(router_of(&state), "/api/distribution", at(2.0)).await;
    let cold = post_ok(router_of(&state), "/api/distribution", at(0.25)).await;
    assert_eq!(state.loaded().cache.len(), 1, "one forward pass, cached");
    assert_eq!(hot["candidates"][0]["prob"], cold["candidates"][0]["prob"]);
    let sharp = |b: &Value| b["candidates"][0]["sample_prob"].as_f64().unwrap_or(0.0);
    assert!(sharp(&cold) > sharp(&hot), "a lower temperature sharpens");
}

fn router_of(state: &Arc<AppState>) -> axum::Router {
    router(Arc::clone(state))
}

/// A step recomputed from its tokens takes the same token from the same candidates, bit for
/// bit: a prefill of every token and a step after a cached state sum each number alike.
fn same_step(got: &Value, want: &Value, draw: usize) {
    assert_eq!(got["chosen"], want["chosen"], "step {draw}");
    same_candidates(got, want, draw);
}

/// The same distribution, number for number, whichever token was then taken.
fn same_candidates(got: &Value, want: &Value, draw: usize) {
    assert_eq!(got["nucleus_size"], want["nucleus_size"], "step {draw}");
    assert_eq!(got["candidates"], want["candidates"], "step {draw}");
}

/// Traces running at the same time run their prefills and decode steps in shared batches
/// (prompts of different lengths, up to 9 at once), and each answer is the one it gets
/// alone, bit for bit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_traces_share_batches_and_answer_as_alone() {
    let state = state_with(Limits::default(), pool(9, 16, Duration::from_secs(60)));
    let app = router(Arc::clone(&state));
    let requests: Vec<Value> = (0..9)
        .map(|i| {
            let sampling = if i % 2 == 0 { sampled() } else { json!({}) };
            let prompt = format!("{PROMPT}{}", " and so on".repeat(i));
            json!({ "prompt": prompt, "steps": 8, "sampling": sampling, "seed": i })
        })
        .collect();
    let running: Vec<_> = requests
        .iter()
        .map(|r| tokio::spawn(post_ok(app.clone(), "/api/trace", r.clone())))
        .collect();
    for (request, handle) in requests.iter().zip(running) {
        let mut together = handle.await.expect("the request task");
        let mut alone = post_ok(app.clone(), "/api/trace", request.clone()).await;
        for run in [&mut together, &mut alone] {
            run.as_object_mut().map(|o| o.remove("elapsed_ms"));
        }
        assert_eq!(together, alone, "{request}");
    }
    let health = get(app, "/api/health").await.json();
    // Each trace's prefill and 7 decode steps (the 8th step's token is never fed).
    assert_eq!(health["batches"]["steps"], 2 * 9 * 8, "{health}");
    let batches = health["batches"]["batches"].as_u64().expect("batches");
    assert!((1..2 * 9 * 8).contains(&batches), "{health}");
}

/// `/api/step` keeps the state after each step's tokens and the token it chose: the next step
/// runs nothing before sampling, a branch at the same place reuses all but the last sent
/// token, and the answers are those of a server that starts from scratch (within float
/// rounding).
#[tokio::test]
async fn steps_continue_from_the_state_the_last_step_left() {
    let state = state();
    let settings = json!({ "sampling": sampled(), "seed": 3, "top_n": 8 });
    let mut tokens = model().tokenizer.encode(PROMPT);
    for draw in 0..4 {
        let mut request = settings.clone();
        request["tokens"] = json!(tokens);
        request["draw"] = json!(draw);
        let kept = post_ok(router_of(&state), "/api/step", request.clone()).await;
        let fresh = post_ok(app(), "/api/step", request.clone()).await;
        same_step(&kept["step"], &fresh["step"], draw);
        assert_eq!(
            state.loaded().cache.positions(),
            tokens.len() + 1,
            "the state after the sent tokens and the chosen one"
        );
        // Taking another candidate at the same place cuts that state back to the sent tokens.
        let hits = state.loaded().cache.hits();
        request["force"] = kept["step"]["candidates"][1]["id"].clone();
        let branch = post_ok(router_of(&state), "/api/step", request).await;
        assert_eq!(
            state.loaded().cache.hits(),
            hits + 1,
            "the branch reused a state"
        );
        same_candidates(&branch["step"], &kept["step"], draw);
        assert_eq!(
            branch["step"]["chosen"]["id"],
            kept["step"]["candidates"][1]["id"]
        );
        assert_eq!(state.loaded().cache.positions(), tokens.len() + 1);
        tokens = kept["tokens"]
            .as_array()
            .expect("tokens")
            .iter()
            .filter_map(Value::as_u64)
            .map(|t| t as u32)
            .collect();
    }
}

/// A trace leaves its state for the step the page sends next.
#[tokio::test]
async fn the_step_after_a_trace_continues_its_state() {
    let state = state();
    let settings = json!({ "sampling": sampled(), "seed": 5, "top_n": 6 });
    let mut request = settings.clone();
    request["prompt"] = json!(PROMPT);
    request["steps"] = json!(2);
    let traced = post_ok(router_of(&state), "/api/trace", request).await;
    let mut tokens = ids(&traced["token_ids"]);
    assert_eq!(
        state.loaded().cache.positions(),
        tokens.len() + 1,
        "prompt and first choice"
    );
    for step in traced["steps"].as_array().expect("steps") {
        tokens.push(step["chosen"]["id"].as_u64().expect("id"));
    }
    let mut request = settings;
    request["tokens"] = json!(tokens);
    request["draw"] = json!(2);
    let kept = post_ok(router_of(&state), "/api/step", request.clone()).await;
    assert_eq!(state.loaded().cache.hits(), 1);
    let fresh = post_ok(app(), "/api/step", request).await;
    same_step(&kept["step"], &fresh["step"], 2);
}

/// Each step also answers with the chosen token's embedding norms and residual column: the
/// values a recorded run of the whole sequence gives at that position (the residual's bit
/// for bit).
#[tokio::test]
async fn a_step_adds_the_chosen_tokens_column() {
    let state = state();
    let mut tokens = model().tokenizer.encode(PROMPT);
    let m = model();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let exact = |a: &Value, b: f32| a.as_f64().expect("a number") as f32 == b;
    let close = |a: &Value, b: f32| {
        let a = a.as_f64().expect("a number");
        (a - b as f64).abs() <= 1e-4 * (1.0 + b.abs() as f64)
    };
    for draw in 0..3 {
        let request = json!({ "tokens": tokens, "draw": draw, "sampling": sampled(), "seed": 1 });
        let body = post_ok(router_of(&state), "/api/step", request).await;
        tokens = ids(&body["tokens"]).into_iter().map(|t| t as u32).collect();
        let (pos, id) = (tokens.len() - 1, *tokens.last().expect("a token") as usize);
        let mut whole = ResidNorms::new(m.config().n_layer);
        let mut cache = KvCache::new(m.config());
        m.forward(&tokens, &mut cache, &mut whole).expect("forward");
        let column = body["resid_norms"].as_array().expect("resid_norms");
        assert_eq!(column.len(), m.config().n_layer + 1);
        for (row, want) in column.iter().zip(&whole.rows) {
            assert_eq!(row.as_array().map(Vec::len), Some(1));
            assert!(
                exact(&row[0], want[pos]),
                "step {draw}: {row} vs {}",
                want[pos]
            );
        }
        assert!(close(
            &body["embedding"]["tok_norms"][0],
            norm(&m.arch.token_embedding(id as u32)) // wte[id]
        ));
        assert!(close(
            &body["embedding"]["pos_norms"][0],
            norm(&m.arch.position_embedding(pos).expect("wpe")) // wpe[pos]
        ));
    }
}

/// A trace stops after the step that chooses one of the model's `eos_token_ids` (the model
/// ended its answer) and says so; `/api/model` lists them for the page's Play.
#[tokio::test]
async fn a_trace_stops_where_the_model_ends_its_text() {
    let chosen = |trace: &Value| -> Vec<u64> {
        let steps = trace["steps"].as_array().expect("steps");
        steps
            .iter()
            .filter_map(|s| s["chosen"]["id"].as_u64())
            .collect()
    };
    let request = json!({ "prompt": PROMPT, "steps": 6, "top_n": 3 });
    let full = post_ok(app(), "/api/trace", request.clone()).await;
    assert_eq!(full["finish_reason"], "steps");
    assert_eq!(
        full["model"]["eos_token_ids"],
        json!([50256]),
        "config.json's"
    );
    let all = chosen(&full);
    // The same model, whose end of text is the third token the trace chose.
    let mut ending = Model::load(&fixture_dir(), "tiny-gpt2").unwrap();
    ending.eos = vec![all[2] as u32];
    let limits = Limits::default();
    let state = AppState::new(
        Arc::new(ending),
        Source::Dir,
        limits,
        pool(2, 16, Duration::from_secs(60)),
    );
    let ended = post_ok(router(state.clone()), "/api/trace", request).await;
    let first = all.iter().position(|&id| id == all[2]).unwrap();
    assert_eq!(chosen(&ended), all[..=first]);
    assert_eq!(ended["finish_reason"], "eos");
    let info = get(router(state), "/api/model").await.json();
    assert_eq!(info["eos_token_ids"], json!([all[2]]));
}

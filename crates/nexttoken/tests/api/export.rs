//! `nexttoken export`: the curated runs in the compact format, the size bound, the files and
//! the static-mode tag.

use nexttoken::export::{
    curated, embedded_files, embedded_prompts, export, mark_static, write_site, CuratedPrompt,
    MODE_META,
};
use nexttoken_model::{trace, GenerateOptions, Sampling};
use serde_json::{json, Value};

use crate::helpers::*;

const STEPS: usize = 12;
const MAX_BYTES: usize = 150_000;

fn curated_json(prompts: &[CuratedPrompt]) -> (Value, usize) {
    let run = curated(&model(), prompts, STEPS).expect("curated");
    let bytes = serde_json::to_vec(&run).expect("json");
    (serde_json::from_slice(&bytes).expect("parse"), bytes.len())
}

#[test]
fn the_five_curated_prompts_fit_in_150_kb() {
    let prompts = embedded_prompts().expect("web/prompts.json");
    assert_eq!(prompts.len(), 5);
    let (data, size) = curated_json(&prompts);
    println!("curated.json for 5 prompts × {STEPS} steps on tiny-gpt2: {size} bytes");
    assert!(size <= MAX_BYTES, "{size} bytes");
    assert_eq!(data["static"], true);
    assert_eq!(data["model"]["n_layer"], 2);
    let runs = data["prompts"].as_array().expect("prompts");
    assert_eq!(runs.len(), 5);
    for (run, p) in runs.iter().zip(&prompts) {
        assert_eq!(run["label"], p.label.as_str());
        assert_eq!(run["prompt"], p.prompt.as_str());
        let n = ids(&run["token_ids"]).len();
        assert_eq!(run["tokens"].as_array().map(Vec::len), Some(n));
        assert_eq!(run["resid_norms"].as_array().map(Vec::len), Some(3));
        assert_eq!(
            run["embedding"]["tok_norms"].as_array().map(Vec::len),
            Some(n)
        );
        let steps = run["steps"].as_array().expect("steps");
        assert_eq!(steps.len(), STEPS);
        for step in steps {
            let candidates = step["candidates"].as_array().expect("candidates");
            assert_eq!(candidates.len(), 30);
            assert_eq!(step["chosen"]["id"], candidates[0][0], "greedy");
            for c in candidates {
                let id = c[0].as_u64().expect("id").to_string();
                assert!(data["texts"][&id].is_array(), "texts has {id}");
            }
        }
    }
}

/// Each recorded step carries the chosen token's column, as the live `/api/step` answers it.
#[tokio::test]
async fn recorded_steps_carry_the_columns_a_live_step_gives() {
    let prompts = embedded_prompts().expect("web/prompts.json");
    let (data, _) = curated_json(&prompts[..1]);
    let run = &data["prompts"][0];
    let mut tokens = ids(&run["token_ids"]);
    for (draw, step) in run["steps"].as_array().expect("steps").iter().enumerate() {
        let request = json!({ "tokens": tokens, "draw": draw, "sampling": { "greedy": true } });
        let live = post_ok(app(), "/api/step", request).await;
        assert_eq!(live["step"]["chosen"]["id"], step["chosen"]["id"]);
        for key in ["resid_norms", "embedding"] {
            assert_close(&step[key], &live[key], key);
        }
        tokens = ids(&live["tokens"]);
    }
}

fn assert_close(a: &Value, b: &Value, path: &str) {
    match (a, b) {
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{path}");
            a.iter().zip(b).for_each(|(a, b)| assert_close(a, b, path));
        }
        (Value::Object(a), Value::Object(b)) => {
            assert_eq!(a.len(), b.len(), "{path}");
            a.iter()
                .for_each(|(k, v)| assert_close(v, &b[k], &format!("{path}.{k}")));
        }
        _ => {
            let (a, b) = (a.as_f64().expect("number"), b.as_f64().expect("number"));
            assert!(
                (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
                "{path}: {a} vs {b}"
            );
        }
    }
}

/// `exp(logit - lse)` must give back the exact temperature-1 probability of every candidate;
/// `rest_max` is the best logit left out and `entropy_bits` the full distribution's entropy,
/// which the page's exactness rules (web/js/approx.js) rely on.
#[test]
fn lse_rest_max_and_entropy_are_the_full_distributions() {
    let prompt = CuratedPrompt {
        label: "fact".into(),
        prompt: "The capital of France is".into(),
        kind: "factual question".into(),
    };
    let (data, _) = curated_json(std::slice::from_ref(&prompt));
    let options = GenerateOptions {
        sampling: Sampling::greedy(),
        seed: 0,
        top_n: 31,
    };
    let direct = trace(&model(), &prompt.prompt, STEPS, options).expect("trace");
    for (step, expected) in data["prompts"][0]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .zip(&direct.steps)
    {
        let lse = step["lse"].as_f64().expect("lse");
        let rest_max = step["rest_max"].as_f64().expect("rest_max");
        assert_eq!(rest_max as f32, expected.candidates[30].logit);
        let entropy = step["entropy_bits"].as_f64().expect("entropy_bits");
        assert!((entropy - expected.entropy_bits).abs() < 1e-9);
        for (c, e) in step["candidates"]
            .as_array()
            .expect("c")
            .iter()
            .zip(&expected.candidates)
        {
            assert_eq!(c[0].as_u64(), Some(e.id as u64));
            let p = (c[1].as_f64().expect("logit") - lse).exp();
            assert!(
                (p - e.prob).abs() <= 1e-6 * e.prob.max(1e-12) + 1e-12,
                "{p} vs {}",
                e.prob
            );
        }
    }
}

#[test]
fn the_static_tag_replaces_the_marker_or_follows_head() {
    let marked = mark_static("<html><head><!--nexttoken-mode--><title>t</title>").expect("ok");
    assert_eq!(marked, format!("<html><head>{MODE_META}<title>t</title>"));
    let plain = mark_static("<!doctype html><header></header><HEAD lang=\"en\">\n<x>").expect("ok");
    assert_eq!(
        plain,
        format!("<!doctype html><header></header><HEAD lang=\"en\">{MODE_META}\n<x>")
    );
    assert!(mark_static("<p>no head</p>").is_err());
}

#[test]
fn write_site_lays_out_the_page_and_the_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = vec![
        (
            "index.html".to_string(),
            b"<head><!--nexttoken-mode--></head>".to_vec(),
        ),
        ("js/main.js".to_string(), b"export {};".to_vec()),
    ];
    let prompts = embedded_prompts().expect("prompts");
    let run = curated(&model(), &prompts[..1], 2).expect("curated");
    let written = write_site(dir.path(), &files, &run).expect("write");
    assert_eq!(written.files, 3);
    let index = std::fs::read_to_string(dir.path().join("index.html")).expect("index");
    assert_eq!(index, format!("<head>{MODE_META}</head>"));
    assert!(!dir.path().join("web/index.html").exists());
    assert_eq!(
        std::fs::read(dir.path().join("web/js/main.js")).expect("js"),
        b"export {};"
    );
    let data = std::fs::read(dir.path().join("data/curated.json")).expect("data");
    assert_eq!(data.len(), written.curated_bytes);
    let parsed: Value = serde_json::from_slice(&data).expect("json");
    assert_eq!(
        parsed["prompts"][0]["steps"].as_array().map(Vec::len),
        Some(2)
    );
}

/// The real command over the page built into this binary.
#[test]
fn export_writes_the_embedded_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let result = export(&model(), dir.path(), STEPS);
    let files = embedded_files();
    if !files.iter().any(|(path, _)| path == "index.html") {
        let message = format!("{:#}", result.expect_err("no page, no export"));
        assert!(message.contains("index.html"), "{message}");
        return;
    }
    let written = result.expect("export");
    assert!(
        written.curated_bytes <= MAX_BYTES,
        "{}",
        written.curated_bytes
    );
    let index = std::fs::read_to_string(dir.path().join("index.html")).expect("index");
    assert!(index.contains(MODE_META), "static mode is marked");
    for (path, data) in files.iter().filter(|(path, _)| path != "index.html") {
        let copy = std::fs::read(dir.path().join("web").join(path)).expect("copied");
        assert_eq!(&copy, data, "{path}");
    }
    let data = std::fs::read(dir.path().join("data/curated.json")).expect("data");
    let parsed: Value = serde_json::from_slice(&data).expect("json");
    assert_eq!(parsed["prompts"].as_array().map(Vec::len), Some(5));
}

//! The analysis views' endpoints (tokenizer surgery, attention, logit lens): their answers
//! equal the model crate's own functions. Bad input and size bounds: `views_bounds.rs`.

use nexttoken_model::heads::{head_scores, pattern};
use nexttoken_model::lens::logit_lens;
use nexttoken_model::surprisal::surprisal;
use nexttoken_model::{KvCache, NoRecorder};
use serde_json::{json, Value};

use crate::helpers::*;

const PROMPT: &str = "The quick brown fox jumps over the lazy";

fn prompt_ids() -> Vec<u32> {
    model().tokenizer.encode(PROMPT)
}

fn f(value: &Value) -> f64 {
    value.as_f64().expect("a number")
}

#[tokio::test]
async fn bpe_explains_every_pre_token_down_to_the_encoding() {
    let body = post_ok(app(), "/api/bpe", json!({ "text": PROMPT })).await;
    let pre = body["pre_tokens"].as_array().expect("pre_tokens");
    let explained = model().tokenizer.explain(PROMPT);
    assert_eq!(pre.len(), explained.len());
    for (got, want) in pre.iter().zip(&explained) {
        assert_eq!(got["text"], want.text.as_str());
        assert_eq!(got["steps"], wire(&want.steps));
        assert_eq!(ids(&got["bytes"]).len(), want.text.len());
        assert_eq!(
            got["initial"].as_array().map(Vec::len),
            Some(want.text.len())
        );
        let token_ids: Vec<u64> = got["tokens"]
            .as_array()
            .expect("tokens")
            .iter()
            .filter_map(|t| t["id"].as_u64())
            .collect();
        assert_eq!(
            token_ids,
            want.ids.iter().map(|&i| i as u64).collect::<Vec<_>>()
        );
    }
    assert_eq!(body["count"], prompt_ids().len());
}

#[tokio::test]
async fn vocab_entry_lists_its_splits_and_bytes() {
    let body = get(app(), "/api/vocab/995").await.json();
    let info = model().tokenizer.token_info(995).expect("token 995");
    assert_eq!(body["display"], info.display.as_str());
    assert_eq!(
        ids(&body["bytes"]),
        info.bytes.iter().map(|&b| b as u64).collect::<Vec<_>>()
    );
    let splits = body["splits"].as_array().expect("splits");
    assert!(!splits.is_empty());
    for split in splits {
        let joined = [ids(&split["left"]["bytes"]), ids(&split["right"]["bytes"])].concat();
        assert_eq!(joined, ids(&body["bytes"]));
    }
    let byte_tokens = body["byte_tokens"].as_array().expect("byte_tokens");
    assert_eq!(byte_tokens.len(), info.bytes.len());
}

#[tokio::test]
async fn lookup_finds_tokens_by_text_and_by_bytes() {
    let by_text = post_ok(app(), "/api/vocab/lookup", json!({ "text": " world" })).await;
    assert_eq!(by_text["id"], 995);
    assert_eq!(by_text["encoded"][0]["id"], 995);
    assert_eq!(by_text["encoded"].as_array().map(Vec::len), Some(1));
    let by_bytes = post_ok(app(), "/api/vocab/lookup", json!({ "bytes": [32, 119] })).await;
    assert_eq!(by_bytes["id"], 266);
    // Half of "é" (0xC3 0xA9) is a byte token but no text.
    let partial = post_ok(app(), "/api/vocab/lookup", json!({ "bytes": [0xC3] })).await;
    assert!(partial["id"].is_u64());
    assert!(partial["encoded"].is_null());
    let missing = post_ok(app(), "/api/vocab/lookup", json!({ "text": "qqqqqqqqzx" })).await;
    assert!(missing["id"].is_null());
    assert!(missing["encoded"].as_array().map(Vec::len) > Some(1));
}

/// KL(p || q) in nats, straight from two forward passes.
fn kl_direct(before: &[u32], after: &[u32]) -> f64 {
    let m = model();
    let run = |t: &[u32]| {
        let logits = m
            .forward(t, &mut KvCache::new(m.config()), &mut NoRecorder)
            .expect("forward");
        let max = logits.iter().copied().fold(f32::MIN, f32::max) as f64;
        let lse = max
            + logits
                .iter()
                .map(|&l| (l as f64 - max).exp())
                .sum::<f64>()
                .ln();
        logits.iter().map(|&l| l as f64 - lse).collect::<Vec<f64>>()
    };
    let (p, q) = (run(before), run(after));
    p.iter().zip(&q).map(|(lp, lq)| lp.exp() * (lp - lq)).sum()
}

#[tokio::test]
async fn compare_gives_both_predictions_and_their_kl() {
    let before = prompt_ids();
    let mut after = before.clone();
    after[1] = 995;
    let body = post_ok(
        app(),
        "/api/compare",
        json!({ "before": before, "after": after }),
    )
    .await;
    assert_eq!(body["before"].as_array().map(Vec::len), Some(10));
    let want = kl_direct(&before, &after);
    assert!(want > 0.0);
    assert!(
        (f(&body["kl_nats"]) - want).abs() < 1e-9 * want.max(1.0),
        "{body}"
    );
    assert!((f(&body["kl_bits"]) - want / std::f64::consts::LN_2).abs() < 1e-9);
    let same = post_ok(
        app(),
        "/api/compare",
        json!({ "before": before, "after": before, "top_n": 3 }),
    )
    .await;
    assert_eq!(same["kl_nats"], 0.0);
    assert_eq!(same["before"], same["after"]);
    assert_eq!(same["before"].as_array().map(Vec::len), Some(3));
    let probs: Vec<f64> = same["before"]
        .as_array()
        .expect("before")
        .iter()
        .map(|c| f(&c["prob"]))
        .collect();
    assert!(probs.windows(2).all(|w| w[0] >= w[1]));
}

#[tokio::test]
async fn attention_is_the_heads_pattern_lower_triangle() {
    let tokens = prompt_ids();
    let t = tokens.len();
    let body = post_ok(
        app(),
        "/api/attention",
        json!({ "tokens": tokens, "layer": 1, "head": 2 }),
    )
    .await;
    let want = pattern(&model(), &tokens, 1, 2).expect("pattern");
    let rows = body["pattern"].as_array().expect("pattern");
    assert_eq!(rows.len(), t);
    for (i, row) in rows.iter().enumerate() {
        let row = row.as_array().expect("row");
        assert_eq!(row.len(), i + 1, "row {i} stops at the diagonal");
        for (j, w) in row.iter().enumerate() {
            assert!((f(w) - want[i * t + j] as f64).abs() <= 5e-5, "({i},{j})");
        }
    }
}

#[tokio::test]
async fn overview_averages_each_heads_pattern_into_bins() {
    let tokens = prompt_ids();
    let t = tokens.len();
    let body = post_ok(
        app(),
        "/api/attention/overview",
        json!({ "tokens": tokens, "layer": 0, "size": 4 }),
    )
    .await;
    assert_eq!(body["size"], 4);
    let heads = body["heads"].as_array().expect("heads");
    assert_eq!(heads.len(), model().config().n_head);
    for (h, grid) in heads.iter().enumerate() {
        let full = pattern(&model(), &tokens, 0, h).expect("pattern");
        // Bin 0 covers rows and columns 0..t/4.
        let b = t / 4;
        let mean: f32 = (0..b)
            .flat_map(|i| (0..b).map(move |j| (i, j)))
            .map(|(i, j)| full[i * t + j])
            .sum::<f32>()
            / (b * b) as f32;
        assert!((f(&grid[0][0]) - mean as f64).abs() <= 5e-5, "head {h}");
        assert_eq!(grid.as_array().map(Vec::len), Some(4));
    }
    let small = post_ok(
        app(),
        "/api/attention/overview",
        json!({ "tokens": [1, 2, 3], "layer": 1 }),
    )
    .await;
    assert_eq!(small["size"], 3, "never more cells than tokens");
}

/// One server computes every layer's grids on the first request and answers the other layers
/// from them: each must still be its own layer's pattern, in any order of asking.
#[tokio::test]
async fn every_layer_of_the_shared_overview_is_its_own() {
    let tokens = prompt_ids();
    let t = tokens.len();
    let server = app();
    let c = model().config().clone();
    for layer in (0..c.n_layer).rev() {
        let body = post_ok(
            server.clone(),
            "/api/attention/overview",
            json!({ "tokens": tokens, "layer": layer, "size": t }),
        )
        .await;
        assert_eq!(body["layer"], layer);
        for (h, grid) in body["heads"].as_array().expect("heads").iter().enumerate() {
            let full = pattern(&model(), &tokens, layer, h).expect("pattern");
            for (i, row) in grid.as_array().expect("rows").iter().enumerate() {
                for (j, cell) in row.as_array().expect("cells").iter().enumerate() {
                    assert!(
                        (f(cell) - full[i * t + j] as f64).abs() <= 5e-5,
                        "layer {layer} head {h} ({i}, {j})"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn heads_scores_equal_the_model_crate() {
    let tokens = prompt_ids();
    let body = post_ok(
        app(),
        "/api/heads",
        json!({ "tokens": tokens, "seed": 7, "repeat_len": 20 }),
    )
    .await;
    let want = head_scores(&model(), &tokens, 20, 7).expect("scores");
    assert_eq!(body["heads"], wire(&want));
    let c = model().config().clone();
    let default = post_ok(app(), "/api/heads", json!({ "tokens": tokens })).await;
    assert_eq!(default["repeat_len"], (c.n_positions / 2).min(64));
    assert_eq!(
        default["heads"].as_array().map(Vec::len),
        Some(c.n_layer * c.n_head)
    );
}

#[tokio::test]
async fn lens_equals_the_model_crate() {
    let tokens = prompt_ids();
    let body = post_ok(
        app(),
        "/api/lens",
        json!({ "tokens": tokens, "position": 2, "top": 5 }),
    )
    .await;
    assert_eq!(
        body,
        wire(&logit_lens(&model(), &tokens, 2, 5).expect("lens"))
    );
    assert_eq!(
        body["rows"].as_array().map(Vec::len),
        Some(model().config().n_layer + 1)
    );
    let last = post_ok(app(), "/api/lens", json!({ "tokens": tokens })).await;
    assert_eq!(last["position"], tokens.len() - 1);
    assert_eq!(last["rows"][0]["top"].as_array().map(Vec::len), Some(5));
}

/// One server keeps the residual stream of the latest tokens: every position it decodes from
/// it, and the positions of another sequence after it, must still be what the model crate says.
#[tokio::test]
async fn lens_positions_of_the_kept_stream_equal_the_model_crate() {
    let server = app();
    let tokens = prompt_ids();
    let other: Vec<u32> = tokens.iter().rev().copied().collect();
    for (ids, position) in [(&tokens, 0), (&tokens, 3), (&other, 1), (&tokens, 1)] {
        let body = post_ok(
            server.clone(),
            "/api/lens",
            json!({ "tokens": ids, "position": position, "top": 3 }),
        )
        .await;
        let want = logit_lens(&model(), ids, position, 3).expect("lens");
        assert_eq!(body, wire(&want), "position {position}");
    }
}

#[tokio::test]
async fn surprisal_is_the_model_crates_for_every_token() {
    let tokens = prompt_ids();
    let body = post_ok(app(), "/api/surprisal", json!({ "tokens": tokens })).await;
    let want = surprisal(&model(), &tokens).expect("surprisal");
    assert_eq!(body["tokens"], wire(&want));
    assert_eq!(body["n_layer"], model().config().n_layer);
    assert_eq!(
        body["tokens"][0]["surprisal_bits"],
        Value::Null,
        "nothing predicts the first"
    );
    assert!(f(&body["tokens"][1]["surprisal_bits"]) > 0.0);
}

//! The logit lens against HF transformers, and head patterns and scores against the full cache.

use std::path::Path;

use nexttoken_model::heads::{head_scores, pattern, repeated_random};
use nexttoken_model::lens::logit_lens;
use nexttoken_model::{ActivationCache, KvCache, Model, NoRecorder};

mod common;

use common::tiny;

fn golden() -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tiny-gpt2/golden.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn prompt(g: &serde_json::Value) -> Vec<u32> {
    g["prompt_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u32)
        .collect()
}

#[test]
fn logit_lens_matches_transformers() {
    let (model, g) = (tiny(), golden());
    let want = &g["logit_lens"];
    let position = want["position"].as_u64().unwrap() as usize;
    let lens = logit_lens(&model, &prompt(&g), position, 5).unwrap();
    let rows = want["rows"].as_array().unwrap();
    assert_eq!(
        lens.rows.len(),
        3,
        "a row per block input, then the final residual"
    );
    assert_eq!(lens.rows.len(), rows.len());
    for (got, want) in lens.rows.iter().zip(rows) {
        let ids: Vec<u64> = got.top.iter().map(|t| t.id as u64).collect();
        let want_ids: Vec<u64> = want["top_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(ids, want_ids, "{}", got.hook);
        for (t, p) in got.top.iter().zip(want["top_probs"].as_array().unwrap()) {
            assert!(
                (t.prob as f64 - p.as_f64().unwrap()).abs() < 1e-6,
                "{}: {} vs {p}",
                got.hook,
                t.prob
            );
        }
    }
    let last = lens.rows.last().unwrap();
    assert_eq!(
        (last.hook.as_str(), last.final_rank),
        ("blocks.1.hook_resid_post", 0)
    );
    let logits = model
        .forward(
            &prompt(&g),
            &mut KvCache::new(model.config()),
            &mut NoRecorder,
        )
        .unwrap();
    let argmax = (0..logits.len())
        .max_by(|&a, &b| logits[a].total_cmp(&logits[b]))
        .unwrap();
    assert_eq!(lens.final_id as usize, argmax);
    assert!(
        logit_lens(&model, &prompt(&g), 8, 5).is_err(),
        "position past the end"
    );
}

fn full_patterns(model: &Model, tokens: &[u32]) -> ActivationCache {
    let mut cache =
        ActivationCache::only(&["blocks.0.attn.hook_pattern", "blocks.1.attn.hook_pattern"]);
    model
        .forward(tokens, &mut KvCache::new(model.config()), &mut cache)
        .unwrap();
    cache
}

#[test]
fn one_head_pattern_is_a_slice_of_the_full_pattern() {
    let (model, g) = (tiny(), golden());
    let tokens = prompt(&g);
    let t = tokens.len();
    let cache = full_patterns(&model, &tokens);
    let full = &cache.get("blocks.1.attn.hook_pattern").unwrap().data; // (H, T, T)
    let p = pattern(&model, &tokens, 1, 2).unwrap();
    assert_eq!(p, full[2 * t * t..3 * t * t]);
    for (i, row) in p.chunks(t).enumerate() {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert!(row[i + 1..].iter().all(|&v| v == 0.0), "causal");
    }
    assert!(pattern(&model, &tokens, 2, 0).is_err() && pattern(&model, &tokens, 0, 4).is_err());
}

#[test]
fn head_scores_average_the_right_cells() {
    let (model, g) = (tiny(), golden());
    let tokens = prompt(&g);
    let scores = head_scores(&model, &tokens, 10, 3).unwrap();
    assert_eq!(scores.len(), 8);
    let (t, n) = (tokens.len(), 10);
    let cache = full_patterns(&model, &tokens);
    let repeated = repeated_random(50257, n, 3);
    assert_eq!(repeated[..n], repeated[n..]);
    let rep = full_patterns(&model, &repeated);
    for s in &scores {
        let at = |c: &ActivationCache, len: usize, i: usize, j: usize| {
            let p = &c
                .get(&format!("blocks.{}.attn.hook_pattern", s.layer))
                .unwrap()
                .data;
            p[(s.head * len + i) * len + j]
        };
        let prev = (1..t).map(|i| at(&cache, t, i, i - 1)).sum::<f32>() / (t - 1) as f32;
        let first = (0..t).map(|i| at(&cache, t, i, 0)).sum::<f32>() / t as f32;
        let induction = (n..2 * n)
            .map(|i| at(&rep, 2 * n, i, i - n + 1))
            .sum::<f32>()
            / n as f32;
        assert!((s.prev_token - prev).abs() < 1e-6, "{s:?}");
        assert!((s.first_token - first).abs() < 1e-6, "{s:?}");
        assert!((s.induction - induction).abs() < 1e-6, "{s:?}");
    }
}

/// A one-token prompt has no previous token: its score is +0, not −0 (an empty `f32` sum
/// starts at −0.0, which `/api/heads` sent as `-0.0`), and no score is negative zero.
#[test]
fn a_score_no_query_has_is_plus_zero() {
    let model = tiny();
    for tokens in [&[464u32][..], &[464, 1578][..]] {
        let scores = head_scores(&model, tokens, 1, 0).unwrap();
        for s in &scores {
            for v in [s.prev_token, s.first_token, s.induction] {
                assert!(v.is_sign_positive(), "{tokens:?}: {s:?}");
            }
        }
        let json = serde_json::to_string(&scores).unwrap();
        assert!(!json.contains("-0.0"), "{json}");
    }
    let one = head_scores(&model, &[464], 1, 0).unwrap();
    assert!(one
        .iter()
        .all(|s| s.prev_token == 0.0 && s.first_token == 1.0));
}

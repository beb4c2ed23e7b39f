//! Parity with HF `transformers` on a seeded random Llama (fixtures/tiny-llama, made by
//! scripts/make_llama_fixtures.py): 2 layers, 4 query heads sharing 2 key/value heads, rotary
//! angles of base 5e4, RMSNorm, the gated MLP, a tied embedding. Tolerance: 1e-4 absolute on
//! every hook and the logits.

use std::path::PathBuf;

use nexttoken_model::{ActivationCache, KvCache, Model, NoRecorder, Sequence};

mod common;

use common::{argmax, golden_tensors, max_abs_diff};

const TOLERANCE: f32 = 1e-4;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tiny-llama")
}

fn meta() -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir().join("golden.json")).unwrap()).unwrap()
}

fn ids(v: &serde_json::Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

fn model() -> Model {
    Model::load(&dir(), "tiny-llama").unwrap()
}

#[test]
fn every_hook_matches_hf() {
    let (model, golden) = (model(), golden_tensors(&dir().join("golden.safetensors")));
    let prompt = ids(&meta()["prompt_ids"]);
    let mut cache = ActivationCache::all();
    model
        .forward(&prompt, &mut KvCache::new(model.config()), &mut cache)
        .unwrap();
    let names: Vec<&str> = cache.entries.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, model.arch.hook_names(), "TransformerLens order");
    assert!(
        !names.contains(&"hook_pos_embed"),
        "Llama has no position table"
    );
    assert_eq!(names.len(), golden.len());
    let mut worst = 0.0f32;
    for act in &cache.entries {
        let (shape, want) = &golden[&act.name];
        assert_eq!(&act.shape, shape, "{}", act.name);
        let diff = max_abs_diff(&act.data, want);
        assert!(diff <= TOLERANCE, "{}: {diff:e}", act.name);
        worst = worst.max(diff);
    }
    println!("tiny-llama: max |diff| over all hooks and logits = {worst:e}");
}

/// Greedy decoding over the KV cache (each step rotates its one new query and key by its own
/// position) gives HF's `generate` tokens.
#[test]
fn greedy_decoding_matches_hf_generate() {
    let (model, meta) = (model(), meta());
    let mut cache = KvCache::new(model.config());
    let mut logits = model
        .forward(&ids(&meta["prompt_ids"]), &mut cache, &mut NoRecorder)
        .unwrap();
    let mut out = Vec::new();
    for _ in 0..ids(&meta["greedy_ids"]).len() {
        let next = argmax(&logits);
        out.push(next);
        logits = model.forward(&[next], &mut cache, &mut NoRecorder).unwrap();
    }
    assert_eq!(out, ids(&meta["greedy_ids"]));
}

/// `config.json`'s `eos_token_id` ends the model's text.
#[test]
fn the_config_names_the_end_of_text() {
    assert!(model().ends_text(2));
}

/// Two sequences at different positions in one batch each get what they get alone.
#[test]
fn a_batch_matches_sequences_alone() {
    let model = model();
    let prompt = ids(&meta()["prompt_ids"]);
    let alone = |tokens: &[u32], cache: &mut KvCache| {
        model.forward(tokens, cache, &mut NoRecorder).unwrap()
    };
    let (mut a, mut b) = (KvCache::new(model.config()), KvCache::new(model.config()));
    alone(&prompt[..6], &mut a);
    let (mut a2, mut b2) = (a.clone(), b.clone());
    let want = [alone(&prompt[6..7], &mut a2), alone(&prompt[..3], &mut b2)];
    let mut batch = [
        Sequence::new(&prompt[6..7], &mut a),
        Sequence::new(&prompt[..3], &mut b),
    ];
    let got = model.arch.forward_batch(&mut batch).unwrap();
    for (g, w) in got.iter().zip(&want) {
        assert!(max_abs_diff(g, w) <= TOLERANCE);
    }
}

/// The tokenizer.json with SmolLM2's pre-tokenizer (digits apart, then GPT-2's regex) gives
/// `tokenizers`' ids.
#[test]
fn the_digits_apart_tokenizer_matches_tokenizers() {
    let case = &meta()["tokenizer_case"];
    let text = case["text"].as_str().unwrap();
    assert_eq!(model().tokenizer.encode(text), ids(&case["ids"]));
}

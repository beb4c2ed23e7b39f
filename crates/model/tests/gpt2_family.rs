//! The GPT-2 family at every size (distilgpt2, gpt2-medium, gpt2-large, gpt2-xl): each hub
//! repo's own config.json, narrowed to 2 channels a head but with its real layer and head counts,
//! vocabulary and context, against HF `transformers` on seeded random F16 weights
//! (fixtures/gpt2-family, made by scripts/make_family_fixtures.py). Tolerance: 1e-3 absolute
//! on every hook and the last position's logits, as the issue asks (9e-5 measured at xl's depth).
//! The same check at each member's real width is a dev-time run (see the ignored test).

use std::path::{Path, PathBuf};

use nexttoken_model::{ActivationCache, KvCache, Model, NoRecorder};

mod common;

use common::{argmax, golden_tensors, max_abs_diff};

const TOLERANCE: f32 = 1e-3;

/// Each member: its hub name and (layers, heads, width) as the fixture has them.
const FAMILY: [(&str, [usize; 3]); 4] = [
    ("distilgpt2", [6, 12, 24]),
    ("gpt2-medium", [24, 16, 32]),
    ("gpt2-large", [36, 20, 40]),
    ("gpt2-xl", [48, 25, 50]),
];

fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/gpt2-family")
        .join(name)
}

fn meta_ids(dir: &Path, key: &str) -> Vec<u32> {
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("golden.json")).unwrap()).unwrap();
    meta[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u32)
        .collect()
}

#[test]
fn each_size_loads_with_its_shape() {
    for (name, [n_layer, n_head, n_embd]) in FAMILY {
        let model = Model::load(&dir(name), name).unwrap();
        let d = model.config();
        assert_eq!(
            (d.n_layer, d.n_head, d.n_kv_head),
            (n_layer, n_head, n_head),
            "{name}"
        );
        assert_eq!((d.n_embd, d.head_dim), (n_embd, 2), "{name}");
        assert_eq!((d.n_positions, d.vocab_size), (1024, 50257), "{name}");
        // 2 + 7 hooks a block + 2: the trace's names scale with the depth.
        assert_eq!(model.arch.hook_names().len(), 4 + 7 * n_layer, "{name}");
    }
}

/// Every hook of one forward pass on the golden prompt against HF; the largest difference.
fn every_hook(model: &Model, dir: &Path, name: &str) -> f32 {
    let golden = golden_tensors(&dir.join("golden.safetensors"));
    let prompt = meta_ids(dir, "prompt_ids");
    let mut cache = ActivationCache::all();
    let last = model
        .forward(&prompt, &mut KvCache::new(model.config()), &mut cache)
        .unwrap();
    let mut worst = 0.0f32;
    for act in &cache.entries {
        let (shape, want) = &golden[&act.name];
        // The narrow fixtures' golden logits keep the last position only.
        let got = match act.name.as_str() {
            "logits" => &act.data[act.data.len() - want.len()..],
            _ => {
                assert_eq!(&act.shape, shape, "{name} {}: shape", act.name);
                &act.data[..]
            }
        };
        let diff = max_abs_diff(got, want);
        assert!(diff <= TOLERANCE, "{name} {}: {diff:e}", act.name);
        worst = worst.max(diff);
    }
    assert_eq!(cache.entries.len(), golden.len(), "{name}: every hook");
    let want = &golden["logits"].1;
    let diff = max_abs_diff(&last, &want[want.len() - last.len()..]);
    assert!(diff <= TOLERANCE, "{name}: last logits {diff:e}");
    worst
}

/// Greedy decoding with the KV cache gives the ids HF's `generate` gave.
fn greedy_matches(model: &Model, dir: &Path, name: &str) {
    let want = meta_ids(dir, "greedy_ids");
    let mut cache = KvCache::new(model.config());
    let mut logits = model
        .forward(&meta_ids(dir, "prompt_ids"), &mut cache, &mut NoRecorder)
        .unwrap();
    let mut got = Vec::new();
    for _ in 0..want.len() {
        got.push(argmax(&logits));
        logits = model
            .forward(&[argmax(&logits)], &mut cache, &mut NoRecorder)
            .unwrap();
    }
    assert_eq!(got, want, "{name}");
}

#[test]
fn every_hook_matches_transformers_at_every_size() {
    for (name, _) in FAMILY {
        let dir = dir(name);
        let worst = every_hook(&Model::load(&dir, name).unwrap(), &dir, name);
        println!("{name}: max |diff| over all hooks = {worst:e}");
    }
}

#[test]
fn greedy_decoding_with_the_cache_matches_generate() {
    for (name, _) in FAMILY {
        let dir = dir(name);
        greedy_matches(&Model::load(&dir, name).unwrap(), &dir, name);
    }
}

/// One member at its real width (gpt2-xl: 48 × 25 × 1600), dev-time:
/// `bash scripts/check_family_full.sh` writes each with HF transformers and runs this with
/// NEXTTOKEN_FAMILY_DIR set. Same tolerance, every hook, all positions' logits.
#[test]
#[ignore = "needs a full-width model made by scripts/check_family_full.sh"]
fn full_width_member_matches_transformers() {
    let dir = std::env::var_os("NEXTTOKEN_FAMILY_DIR").expect("NEXTTOKEN_FAMILY_DIR");
    let dir = PathBuf::from(dir);
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let model = Model::load(&dir, &name).unwrap();
    let d = model.config();
    let worst = every_hook(&model, &dir, &name);
    greedy_matches(&model, &dir, &name);
    println!(
        "{name} ({} x {} x {}): max |diff| over all hooks and logits = {worst:e}",
        d.n_layer, d.n_head, d.n_embd
    );
}

//! Activation patching against HF `transformers` forward hooks (fixtures/tiny-gpt2/patch.json,
//! made by scripts/make_patch_fixtures.py, one full HF pass per patch), and the cache-reusing
//! sweep against the plain way (one whole pass per patch) on every cell.

use std::path::Path;

use nexttoken_model::patch::{Direction, Pair, Prompt, Site, Sweep};
use nexttoken_model::{Batcher, Forward, KvCache, Model, NoRecorder, Recorder, Sequence};
use serde_json::Value;

mod common;

use common::{max_abs_diff, tiny};

const TOLERANCE: f32 = 1e-4;

fn golden() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tiny-gpt2/patch.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

fn floats(v: &Value) -> Vec<f32> {
    match v {
        Value::Array(items) => items.iter().flat_map(floats).collect(),
        x => vec![x.as_f64().unwrap() as f32],
    }
}

fn pair<'m>(model: &'m Model, g: &Value) -> Pair<'m> {
    let id = |k: &str| g[k].as_u64().unwrap() as u32;
    let (clean, corrupted) = (ids(&g["clean_ids"]), ids(&g["corrupted_ids"]));
    Pair::new(model, clean, corrupted, id("answer"), id("other")).unwrap()
}

/// Every row of `sweep`, flattened.
fn sweep_all(pair: &Pair, direction: Direction, sweep: Sweep) -> Vec<f32> {
    let (rows, _) = pair.shape(sweep);
    let mut out = Vec::new();
    pair.sweep(direction, sweep, 0..rows, |_, values| out.extend(values))
        .unwrap();
    out
}

fn sweeps(n_layer: usize) -> Vec<(Sweep, &'static str, Option<usize>)> {
    let mut all = vec![
        (Sweep::Resid, "resid", None),
        (Sweep::Attn, "attn", None),
        (Sweep::Mlp, "mlp", None),
        (Sweep::Heads, "heads", None),
    ];
    all.extend((0..n_layer).map(|l| (Sweep::HeadPos(l), "head_pos", Some(l))));
    all
}

#[test]
fn every_sweep_matches_transformers_hooks() {
    let (model, g) = (tiny(), golden());
    let pair = pair(&model, &g);
    let n_layer = model.config().n_layer;
    for (direction, key) in [(Direction::Denoise, "denoise"), (Direction::Noise, "noise")] {
        for (sweep, name, layer) in sweeps(n_layer) {
            let want = match layer {
                Some(l) => floats(&g[key][name][l]),
                None => floats(&g[key][name]),
            };
            let got = sweep_all(&pair, direction, sweep);
            let diff = max_abs_diff(&got, &want);
            assert!(diff <= TOLERANCE, "{key} {sweep:?}: max |diff| {diff:e}");
        }
    }
}

#[test]
fn metrics_and_their_lens_match_transformers() {
    let (model, g) = (tiny(), golden());
    let pair = pair(&model, &g);
    for (prompt, key) in [(Prompt::Clean, "clean"), (Prompt::Corrupted, "corrupted")] {
        let want = g["metric"][key].as_f64().unwrap() as f32;
        assert!((pair.metric(prompt) - want).abs() <= TOLERANCE, "{key}");
        let lens = pair.lens(prompt);
        assert!(max_abs_diff(&lens, &floats(&g["lens"][key])) <= TOLERANCE);
        assert_eq!(
            lens.last(),
            Some(&pair.metric(prompt)),
            "the last row is the metric"
        );
    }
}

/// The cache-reusing, batched sweep against one whole pass per patch, on every cell.
#[test]
fn the_resumed_sweep_equals_the_plain_way_on_every_cell() {
    let (model, g) = (tiny(), golden());
    let pair = pair(&model, &g);
    let (n_layer, n_head, t) = (model.config().n_layer, model.config().n_head, pair.len());
    for direction in [Direction::Denoise, Direction::Noise] {
        for (sweep, _, _) in sweeps(n_layer) {
            let fast = sweep_all(&pair, direction, sweep);
            let (rows, cols) = pair.shape(sweep);
            let mut plain = Vec::new();
            for r in 0..rows {
                for c in 0..cols {
                    let (layer, site, positions) = match sweep {
                        Sweep::Resid => (r, Site::Resid, c..c + 1),
                        Sweep::Attn => (r, Site::Attn, c..c + 1),
                        Sweep::Mlp => (r, Site::Mlp, c..c + 1),
                        Sweep::Heads => (r, Site::Head(c), 0..t),
                        Sweep::HeadPos(l) => (l, Site::Head(r), c..c + 1),
                    };
                    plain.push(pair.patched(direction, layer, site, positions).unwrap());
                }
            }
            assert_eq!(fast.len(), rows * cols);
            let diff = max_abs_diff(&fast, &plain);
            assert!(diff <= 1e-5, "{direction:?} {sweep:?}: {diff:e}");
        }
    }
    assert_eq!(pair.shape(Sweep::Heads), (n_layer, n_head));
}

/// Patching every head at every position of a block is patching that block's attention:
/// the two paths through the model must agree.
#[test]
fn all_heads_together_are_the_attention_output() {
    let (model, g) = (tiny(), golden());
    let pair = pair(&model, &g);
    let t = pair.len();
    for layer in 0..model.config().n_layer {
        let attn = pair
            .patched(Direction::Denoise, layer, Site::Attn, 0..t)
            .unwrap();
        let mut heads = KvCache::new(model.config());
        let hooks: Vec<_> = (0..model.config().n_head)
            .map(|h| pair.patch(Direction::Denoise, layer, Site::Head(h), 0..t, 0))
            .collect();
        let mut rec = Chain(hooks);
        let logits = model
            .forward(pair.tokens(Prompt::Corrupted), &mut heads, &mut rec)
            .unwrap();
        assert!(
            (pair.metric_of(&logits) - attn).abs() < 1e-5,
            "layer {layer}"
        );
    }
}

/// Patching the whole residual stream entering a block makes the base run the source run.
#[test]
fn patching_every_position_of_the_stream_gives_the_source_run() {
    let (model, g) = (tiny(), golden());
    let pair = pair(&model, &g);
    let t = pair.len();
    for layer in 0..model.config().n_layer {
        let m = pair
            .patched(Direction::Denoise, layer, Site::Resid, 0..t)
            .unwrap();
        assert!((m - pair.metric(Prompt::Clean)).abs() < 1e-5);
        let m = pair
            .patched(Direction::Noise, layer, Site::Resid, 0..t)
            .unwrap();
        assert!((m - pair.metric(Prompt::Corrupted)).abs() < 1e-5);
    }
}

#[test]
fn a_patch_through_a_batched_session_patches_too() {
    let (model, g) = (std::sync::Arc::new(tiny()), golden());
    let pair = pair(&model, &g);
    let want = pair
        .patched(Direction::Denoise, 1, Site::Resid, 9..10)
        .unwrap();
    let batcher = Batcher::new(std::sync::Arc::clone(&model));
    let session = batcher.session();
    let mut patch = pair.patch(Direction::Denoise, 1, Site::Resid, 9..10, 0);
    let mut cache = KvCache::new(model.config());
    let logits = session
        .forward(pair.tokens(Prompt::Corrupted), &mut cache, &mut patch)
        .unwrap();
    assert_eq!(pair.metric_of(&logits), want);
}

#[test]
fn pairs_and_sweeps_refuse_what_cannot_be_patched() {
    let model = tiny();
    let err = |r: nexttoken_model::Result<Pair>| r.err().unwrap().to_string();
    let msg = err(Pair::new(&model, vec![1, 2, 3], vec![1, 2], 5, 6));
    assert!(
        msg.contains("3 tokens") && msg.contains("same number"),
        "{msg}"
    );
    assert!(err(Pair::new(&model, vec![1], vec![2], 5, 5)).contains("same"));
    assert!(err(Pair::new(&model, vec![1], vec![2], 5, 50257)).contains("vocabulary"));
    let pair = Pair::new(&model, vec![1, 2, 3], vec![1, 4, 3], 5, 6).unwrap();
    assert!(pair
        .sweep(Direction::Noise, Sweep::Resid, 0..3, |_, _| ())
        .is_err());
    assert!(pair
        .sweep(Direction::Noise, Sweep::HeadPos(2), 0..1, |_, _| ())
        .is_err());
    assert!(pair
        .patched(Direction::Noise, 0, Site::Head(4), 0..1)
        .is_err());
    assert!(pair
        .patched(Direction::Noise, 0, Site::Resid, 3..4)
        .is_err());
    assert!(Sweep::parse("head_pos", None).is_err());
    assert_eq!(
        Sweep::parse("head_pos", Some(1)).unwrap(),
        Sweep::HeadPos(1)
    );
}

/// A resumed pass leaves its caches as it found them, and refuses a cache that lacks the
/// positions it claims in the blocks it runs.
#[test]
fn a_resumed_pass_checks_and_restores_its_cache() {
    let model = tiny();
    let (arch, e) = (&model.arch, model.config().n_embd);
    let mut full = KvCache::new(model.config());
    arch.forward(&[1, 2, 3, 4], &mut full, &mut NoRecorder)
        .unwrap();
    let mut cache = full.resumable(1, 2);
    let before = format!("{cache:?}");
    let tokens = [3, 4];
    let run = |cache: &mut KvCache, from: usize, x: Vec<f32>| {
        arch.resume_batch(from, x, &mut [Sequence::new(&tokens, cache)])
    };
    run(&mut cache, 1, vec![0.5; 2 * e]).unwrap();
    assert_eq!(format!("{cache:?}"), before, "the cache is as it was");
    assert!(
        run(&mut cache, 0, vec![0.5; 2 * e]).is_err(),
        "block 0 is not held"
    );
    assert!(run(&mut cache, 2, vec![0.5; 2 * e]).is_err(), "no block 2");
    assert!(
        run(&mut cache, 1, vec![0.5; e]).is_err(),
        "one row for two tokens"
    );
    let msg = arch
        .forward(&[5], &mut cache, &mut NoRecorder)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("every block"), "{msg}");
}

/// Applies several patches in turn.
struct Chain<'a>(Vec<nexttoken_model::patch::Patch<'a>>);

impl Recorder for Chain<'_> {
    fn wants(&self, name: &str) -> bool {
        self.0.iter().any(|p| p.wants(name))
    }
    fn record(&mut self, _: &str, _: &[usize], _: &[f32]) {}
    fn hook(&mut self, name: &str, shape: &[usize], data: &mut [f32]) {
        for p in &mut self.0 {
            p.hook(name, shape, data);
        }
    }
    fn edits(&self) -> bool {
        true
    }
}

/// The hooks live at the seam, so a Llama patches the same way: the resumed sweep equals the
/// plain way there too (grouped key/value heads, rotary positions in the resumed cache).
#[test]
fn a_llama_patches_through_the_same_seam() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tiny-llama");
    let model = Model::load(&dir, "tiny-llama").unwrap();
    let (clean, corrupted) = (vec![5, 17, 99, 23, 41, 8], vec![5, 17, 64, 23, 41, 8]);
    let pair = Pair::new(&model, clean, corrupted, 7, 12).unwrap();
    let t = pair.len();
    for (sweep, site) in [
        (Sweep::Resid, Site::Resid),
        (Sweep::HeadPos(1), Site::Head(3)),
    ] {
        let fast = sweep_all(&pair, Direction::Denoise, sweep);
        let (rows, cols) = pair.shape(sweep);
        let cell = |r: usize, c: usize| match sweep {
            Sweep::Resid => (r, site, c..c + 1),
            _ => (1, Site::Head(r), c..c + 1),
        };
        let plain: Vec<f32> = (0..rows * cols)
            .map(|i| {
                let (layer, site, positions) = cell(i / cols, i % cols);
                pair.patched(Direction::Denoise, layer, site, positions)
                    .unwrap()
            })
            .collect();
        assert!(max_abs_diff(&fast, &plain) <= 1e-5, "{sweep:?}");
    }
    let whole = pair
        .patched(Direction::Denoise, 1, Site::Resid, 0..t)
        .unwrap();
    assert!((whole - pair.metric(Prompt::Clean)).abs() < 1e-5);
}

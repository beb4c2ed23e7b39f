//! What the model crate's test files share: the tiny fixture and small comparisons.
#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};

use nexttoken_model::{Forward, Generator, Model};

/// 2 layers × 4 heads × 32, GPT-2's full vocabulary, with HF goldens (scripts/make_fixtures.py).
pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tiny-gpt2")
}

pub fn tiny() -> Model {
    Model::load(&fixture_dir(), "tiny").unwrap()
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// The first index of the largest value.
pub fn argmax(x: &[f32]) -> u32 {
    let mut best = 0;
    for (i, v) in x.iter().enumerate() {
        if *v > x[best] {
            best = i;
        }
    }
    best as u32
}

/// `steps` steps of `generator`: the chosen ids and every listed candidate's logit.
pub fn run_steps<F: Forward>(generator: &mut Generator<F>, steps: usize) -> (Vec<u32>, Vec<f32>) {
    let (mut ids, mut logits) = (Vec::new(), Vec::new());
    for _ in 0..steps {
        let step = generator.step(None).unwrap();
        ids.push(step.chosen);
        logits.extend(step.explanation.candidates.iter().map(|c| c.logit));
    }
    (ids, logits)
}

/// Every tensor of a golden safetensors file (f32): name → (shape, values).
pub fn golden_tensors(path: &Path) -> std::collections::HashMap<String, (Vec<usize>, Vec<f32>)> {
    let bytes = std::fs::read(path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    st.tensors()
        .into_iter()
        .map(|(name, view)| {
            let data = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                .collect();
            (name, (view.shape().to_vec(), data))
        })
        .collect()
}

//! A Llama with 16-bit weights (`--dtype f16` / `bf16`, converted at load): the seeded random
//! tiny Llama of fixtures/tiny-llama against itself in f32, on every logit of the prompt and of
//! three decode steps. Measured: 9.3e-3 (f16, 11 significant bits) and 6.3e-2 (bf16, 8 bits;
//! 8× coarser rounding, 6.8× the error), the same to three digits with the AVX-512, AVX2,
//! avx512bf16 and portable kernels. Bounds are 1.5× that: 1.5e-2 and 1e-1.

use std::path::PathBuf;

use nexttoken_model::{DType, KvCache, Model, NoRecorder};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tiny-llama")
}

fn tolerance(dtype: DType) -> f32 {
    match dtype {
        DType::Bf16 => 1e-1,
        _ => 1.5e-2,
    }
}

/// Logits of the fixture's prompt, then of three decode steps over the cache.
fn logits(model: &Model) -> Vec<f32> {
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir().join("golden.json")).unwrap()).unwrap();
    let prompt: Vec<u32> = meta["prompt_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u32)
        .collect();
    let mut cache = KvCache::new(model.config());
    let mut out = model.forward(&prompt, &mut cache, &mut NoRecorder).unwrap();
    for token in [3, 17, 42] {
        out.extend(
            model
                .forward(&[token], &mut cache, &mut NoRecorder)
                .unwrap(),
        );
    }
    out
}

#[test]
fn sixteen_bit_llama_logits_stay_close_to_f32() {
    let full = Model::load_with(&dir(), "tiny-llama", DType::F32).unwrap();
    let want = logits(&full);
    for dtype in [DType::F16, DType::Bf16] {
        let half = Model::load_with(&dir(), "tiny-llama", dtype).unwrap();
        let got = logits(&half);
        let worst = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        println!("tiny-llama {dtype:?}: max |logit diff| vs f32 = {worst:e}");
        assert!(worst > 0.0, "{dtype:?}: the weights were not rounded");
        assert!(worst <= tolerance(dtype), "{dtype:?}: {worst:e}");
        // The matrices (embedding, projections) are stored in 16 bits: about half the bytes.
        let (a, b) = (full.arch.weight_bytes(), half.arch.weight_bytes());
        assert!(b < a * 6 / 10, "{dtype:?}: {b} bytes vs {a} in f32");
    }
}

//! Loading checkpoints: every dtype and key style works, and every broken file gives an error
//! that names the file and the tensor, never a panic.

use std::path::{Path, PathBuf};

use nexttoken_model::{Config, Error, KvCache, Model, NoRecorder, Weights};
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

struct Tensor {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tiny-gpt2")
}

fn read_tensors() -> Vec<Tensor> {
    let bytes = std::fs::read(fixture().join("model.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut out: Vec<Tensor> = st
        .tensors()
        .into_iter()
        .map(|(name, v)| Tensor {
            name,
            dtype: v.dtype(),
            shape: v.shape().to_vec(),
            data: v.data().to_vec(),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Writes a model directory with the fixture's config and these tensors.
fn write_model(tensors: &[Tensor]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture().join("config.json"),
        dir.path().join("config.json"),
    )
    .unwrap();
    let views = tensors.iter().map(|t| {
        (
            t.name.clone(),
            TensorView::new(t.dtype, t.shape.clone(), &t.data).unwrap(),
        )
    });
    let bytes = safetensors::serialize(views, None).unwrap();
    std::fs::write(dir.path().join("model.safetensors"), bytes).unwrap();
    dir
}

fn f32s(data: &[u8]) -> impl Iterator<Item = f32> + '_ {
    data.chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
}

/// Every tensor rounded through a 16-bit format: stored as that format, and as F32 holding the
/// same rounded values. Widening 16 → 32 bits is exact, so both must give identical logits.
fn rounded(
    tensors: &[Tensor],
    dtype: Dtype,
    round: fn(f32) -> u16,
    widen: fn(u16) -> f32,
) -> (Vec<Tensor>, Vec<Tensor>) {
    let mut half = Vec::new();
    let mut full = Vec::new();
    for t in tensors {
        let bits: Vec<u16> = f32s(&t.data).map(round).collect();
        half.push(Tensor {
            name: t.name.clone(),
            dtype,
            shape: t.shape.clone(),
            data: bits.iter().flat_map(|b| b.to_le_bytes()).collect(),
        });
        full.push(Tensor {
            name: t.name.clone(),
            dtype: Dtype::F32,
            shape: t.shape.clone(),
            data: bits.iter().flat_map(|&b| widen(b).to_le_bytes()).collect(),
        });
    }
    (half, full)
}

fn logits(dir: &Path) -> Vec<f32> {
    let model = Model::load(dir, "test").unwrap();
    model
        .forward(
            &[464, 1578, 1829],
            &mut KvCache::new(model.config()),
            &mut NoRecorder,
        )
        .unwrap()
}

#[test]
fn f16_and_bf16_files_load_exactly() {
    let tensors = read_tensors();
    let (half, full) = rounded(
        &tensors,
        Dtype::F16,
        |x| half::f16::from_f32(x).to_bits(),
        |b| half::f16::from_bits(b).to_f32(),
    );
    assert_eq!(
        logits(write_model(&half).path()),
        logits(write_model(&full).path())
    );
    let (half, full) = rounded(
        &tensors,
        Dtype::BF16,
        |x| half::bf16::from_f32(x).to_bits(),
        |b| half::bf16::from_bits(b).to_f32(),
    );
    assert_eq!(
        logits(write_model(&half).path()),
        logits(write_model(&full).path())
    );
}

#[test]
fn keys_without_the_transformer_prefix_load() {
    let mut tensors = read_tensors();
    assert!(tensors.iter().all(|t| t.name.starts_with("transformer.")));
    for t in &mut tensors {
        t.name = t.name.trim_start_matches("transformer.").to_string();
    }
    assert_eq!(logits(write_model(&tensors).path()), logits(&fixture()));
}

#[test]
fn f32_weights_are_used_in_place() {
    let config = Config::from_file(&fixture().join("config.json")).unwrap();
    let w = Weights::load(&fixture().join("model.safetensors"), &config).unwrap();
    assert!(w.wte.is_mapped() && w.h[1].mlp.c_proj.weight.is_mapped());
}

fn load_err(dir: &Path) -> String {
    match Model::load(dir, "test") {
        Ok(_) => panic!("loading {} should fail", dir.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_missing_tensor_is_named() {
    let mut tensors = read_tensors();
    tensors.retain(|t| t.name != "transformer.h.1.mlp.c_fc.bias");
    let msg = load_err(write_model(&tensors).path());
    assert!(
        msg.contains("model.safetensors") && msg.contains("`h.1.mlp.c_fc.bias`: missing"),
        "{msg}"
    );
}

#[test]
fn a_wrong_shape_is_named() {
    let mut tensors = read_tensors();
    let t = tensors
        .iter_mut()
        .find(|t| t.name == "transformer.h.0.attn.c_attn.weight")
        .unwrap();
    t.shape = vec![96, 32]; // stored like nn.Linear instead of Conv1D
    let msg = load_err(write_model(&tensors).path());
    assert!(
        msg.contains("`h.0.attn.c_attn.weight`: shape [96, 32], expected [32, 96]"),
        "{msg}"
    );
}

#[test]
fn an_unsupported_dtype_is_named() {
    let mut tensors = read_tensors();
    let t = tensors
        .iter_mut()
        .find(|t| t.name == "transformer.ln_f.bias")
        .unwrap();
    t.dtype = Dtype::I32;
    let msg = load_err(write_model(&tensors).path());
    assert!(msg.contains("`ln_f.bias`: dtype I32"), "{msg}");
}

#[test]
fn truncated_and_corrupt_files_are_errors() {
    let dir = write_model(&read_tensors());
    let file = dir.path().join("model.safetensors");
    let bytes = std::fs::read(&file).unwrap();
    for (what, broken) in [
        ("truncated", bytes[..bytes.len() - 1000].to_vec()),
        ("header cut", bytes[..100].to_vec()),
        ("empty", Vec::new()),
        ("garbage", vec![0xFF; 4096]),
        (
            "header length too big",
            [&u64::MAX.to_le_bytes()[..], &bytes[8..]].concat(),
        ),
    ] {
        std::fs::write(&file, &broken).unwrap();
        let msg = load_err(dir.path());
        assert!(
            msg.contains("model.safetensors") && msg.contains("not a valid safetensors file"),
            "{what}: {msg}"
        );
    }
    std::fs::remove_file(&file).unwrap();
    assert!(load_err(dir.path()).contains("model.safetensors"));
}

#[test]
fn a_bad_config_is_named() {
    let dir = write_model(&read_tensors());
    std::fs::write(
        dir.path().join("config.json"),
        r#"{"n_embd": 32, "n_head": 5}"#,
    )
    .unwrap();
    let msg = load_err(dir.path());
    assert!(
        msg.contains("config.json") && msg.contains("not divisible"),
        "{msg}"
    );
    std::fs::write(
        dir.path().join("config.json"),
        r#"{"n_embd": 32, "n_head": 4, "n_layer": 3}"#,
    )
    .unwrap();
    assert!(load_err(dir.path()).contains("`h.2.ln_1.weight`: missing"));
}

#[test]
fn the_forward_pass_refuses_bad_input() {
    let model = Model::load(&fixture(), "test").unwrap();
    let mut cache = KvCache::new(model.config());
    for (tokens, want) in [
        (vec![], "at least one token"),
        (vec![50257], "token id 50257 is outside the vocabulary"),
        (
            vec![1; 65],
            "65 tokens do not fit in the context of 64 positions",
        ),
    ] {
        let err = model
            .forward(&tokens, &mut cache, &mut NoRecorder)
            .unwrap_err();
        assert!(
            matches!(err, Error::Input(_)) && err.to_string().contains(want),
            "{err}"
        );
    }
    assert!(
        cache.is_empty(),
        "a refused call leaves the cache as it was"
    );
}

#[test]
fn a_model_in_memory_loads_like_one_on_disk() {
    let config = std::fs::read_to_string(fixture().join("config.json")).unwrap();
    let bytes = std::fs::read(fixture().join("model.safetensors")).unwrap();
    let model = Model::from_bytes("embedded", &config, &bytes).unwrap();
    let got = model
        .forward(
            &[464, 1578, 1829],
            &mut KvCache::new(model.config()),
            &mut NoRecorder,
        )
        .unwrap();
    assert_eq!(got, logits(&fixture()));
    let msg = Model::from_bytes("embedded", &config, &bytes[..5000])
        .err()
        .unwrap()
        .to_string();
    assert!(msg.contains("embedded/model.safetensors"), "{msg}");
}

/// A header that says F16 for a tensor stored as F32: its byte range is twice what the dtype
/// and shape need, and the loader says which file is broken instead of misreading the bytes.
#[test]
fn a_mislabelled_dtype_is_an_error() {
    let dir = write_model(&read_tensors());
    let file = dir.path().join("model.safetensors");
    let bytes = std::fs::read(&file).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
    header["transformer.ln_f.bias"]["dtype"] = "F16".into();
    let header = serde_json::to_vec(&header).unwrap();
    let relabelled = [
        &(header.len() as u64).to_le_bytes()[..],
        &header,
        &bytes[8 + header_len..],
    ]
    .concat();
    std::fs::write(&file, relabelled).unwrap();
    let msg = load_err(dir.path());
    assert!(
        msg.contains("model.safetensors") && msg.contains("not a valid safetensors file"),
        "{msg}"
    );
}

/// A config.json that describes another model than the weights: the first tensor whose shape
/// disagrees is named.
#[test]
fn a_config_that_disagrees_with_the_weights_is_named() {
    let dir = write_model(&read_tensors());
    for (config, want) in [
        (r#"{"n_embd": 64, "n_head": 4, "n_layer": 2}"#, "expected"),
        (
            r#"{"n_embd": 32, "n_head": 4, "n_layer": 2, "vocab_size": 50000}"#,
            "`wte.weight`: shape",
        ),
        (
            r#"{"n_embd": 32, "n_head": 4, "n_layer": 2, "n_positions": 128}"#,
            "`wpe.weight`: shape",
        ),
    ] {
        std::fs::write(dir.path().join("config.json"), config).unwrap();
        let msg = load_err(dir.path());
        assert!(msg.contains(want), "{config}: {msg}");
    }
}

/// A file already in memory (how the browser engine loads a download) is used in place when it
/// holds the stored type, and converted otherwise; either way the model computes what a model
/// loaded from disk does.
#[test]
fn a_file_image_in_memory_loads_in_place() {
    use std::sync::Arc;

    use nexttoken_model::{DType, Image};

    let dir = fixture();
    let config_json = std::fs::read_to_string(dir.join("config.json")).unwrap();
    let config = Config::from_json(&config_json).unwrap();
    let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
    let from_disk = Model::load(&dir, "tiny").unwrap();
    let ids = [464, 3139, 286, 4881, 318];
    let run = |m: &Model| m.forward(&ids, &mut KvCache::new(m.config()), &mut NoRecorder);
    let want = run(&from_disk).unwrap();
    for dtype in [DType::F32, DType::F16] {
        let image = || -> Arc<Image> { Arc::new(bytes.clone()) };
        let label = Path::new("tiny");
        let weights = Weights::from_image(image(), label, &config, dtype).unwrap();
        assert_eq!(weights.wte.dtype(), dtype);
        assert_eq!(weights.wte.is_mapped(), dtype == DType::F32, "{dtype:?}");
        assert!(weights.wpe.is_mapped(), "f32 vectors stay in place");
        let model = Model::from_image("tiny", &config_json, image(), dtype).unwrap();
        let got = run(&model).unwrap();
        let tolerance = if dtype == DType::F32 { 0.0 } else { 1e-2 };
        let diff = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(diff <= tolerance, "{dtype:?}: {diff}");
    }
}

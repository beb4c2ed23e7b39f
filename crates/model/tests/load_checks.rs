//! What a checkpoint must pass before it runs: finite weights, every stored tensor used,
//! plain files of bounded size, a whole tokenizer (or a fallback that says so). Each is a
//! named error at load, never a model that answers `null`, a hang or a silent substitute.

use std::path::{Path, PathBuf};

use nexttoken_model::{DType, Model};
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

/// A copy of a fixture directory whose tensors `edit` may change, add or remove.
fn edited(
    name: &str,
    edit: impl FnOnce(&mut Vec<(String, Dtype, Vec<usize>, Vec<u8>)>),
) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixture(name)).unwrap() {
        let entry = entry.unwrap();
        let file = entry.file_name();
        if file != "model.safetensors" && !file.to_string_lossy().starts_with("golden") {
            std::fs::copy(entry.path(), dir.path().join(&file)).unwrap();
        }
    }
    let bytes = std::fs::read(fixture(name).join("model.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut tensors: Vec<_> = st
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, v.dtype(), v.shape().to_vec(), v.data().to_vec()))
        .collect();
    edit(&mut tensors);
    let views = tensors
        .iter()
        .map(|(n, d, s, b)| (n.clone(), TensorView::new(*d, s.clone(), b).unwrap()));
    let out = safetensors::serialize(views, None).unwrap();
    std::fs::write(dir.path().join("model.safetensors"), out).unwrap();
    dir
}

fn set_f32(tensors: &mut [(String, Dtype, Vec<usize>, Vec<u8>)], name: &str, at: usize, v: f32) {
    let t = tensors.iter_mut().find(|t| t.0 == name).expect(name);
    t.3[4 * at..4 * at + 4].copy_from_slice(&v.to_le_bytes());
}

fn load_err(dir: &Path, dtype: DType) -> String {
    match Model::load_with(dir, "test", dtype) {
        Ok(_) => panic!("loading {} should fail", dir.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_non_finite_weight_is_named_with_its_tensor() {
    let dir = edited("tiny-gpt2", |t| {
        set_f32(t, "transformer.h.1.mlp.c_fc.weight", 7, f32::NAN)
    });
    let msg = load_err(dir.path(), DType::F32);
    assert!(
        msg.contains("`h.1.mlp.c_fc.weight`") && msg.contains("value 7 ") && msg.contains("NaN"),
        "{msg}"
    );
    // Stored as 16 bits, a value beyond f16's range becomes inf: refused too.
    let dir = edited("tiny-gpt2", |t| {
        set_f32(t, "transformer.wte.weight", 3, 1e6)
    });
    let msg = load_err(dir.path(), DType::F16);
    assert!(msg.contains("`wte.weight`") && msg.contains("inf"), "{msg}");
    assert!(
        Model::load_with(dir.path(), "test", DType::F32).is_ok(),
        "1e6 is finite in f32"
    );
    let dir = edited("tiny-llama", |t| {
        set_f32(t, "model.layers.0.mlp.up_proj.weight", 0, f32::NEG_INFINITY)
    });
    let msg = load_err(dir.path(), DType::F32);
    assert!(
        msg.contains("`model.layers.0.mlp.up_proj.weight`") && msg.contains("-inf"),
        "{msg}"
    );
}

#[test]
fn tensors_the_config_has_no_place_for_are_an_error() {
    // Two blocks of weights, a config of one: block 1 would be ignored in silence.
    let dir = edited("tiny-gpt2", |_| {});
    let config = std::fs::read_to_string(dir.path().join("config.json")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(json["n_layer"], 2);
    json["n_layer"] = 1.into();
    std::fs::write(dir.path().join("config.json"), json.to_string()).unwrap();
    let msg = load_err(dir.path(), DType::F32);
    assert!(
        msg.contains("12 tensor(s)")
            && msg.contains("transformer.h.1.attn.c_attn.bias")
            && msg.contains("n_layer"),
        "{msg}"
    );
    // Hugging Face's GPT-2 keeps its causal mask as `attn.bias` buffers: those are no weights.
    let dir = edited("tiny-gpt2", |t| {
        let mask = vec![0u8; 4 * 16];
        t.push((
            "transformer.h.0.attn.bias".into(),
            Dtype::F32,
            vec![1, 1, 4, 4],
            mask,
        ));
    });
    Model::load(dir.path(), "test").unwrap();
    let dir = edited("tiny-llama", |t| {
        let extra = t
            .iter()
            .find(|t| t.0 == "model.norm.weight")
            .unwrap()
            .clone();
        t.push((
            "model.layers.9.extra.weight".into(),
            extra.1,
            extra.2,
            extra.3,
        ));
    });
    let msg = load_err(dir.path(), DType::F32);
    assert!(
        msg.contains("1 tensor(s)") && msg.contains("model.layers.9.extra.weight"),
        "{msg}"
    );
}

#[test]
fn only_regular_files_of_bounded_size_are_read() {
    let dir = edited("tiny-gpt2", |_| {});
    let config = dir.path().join("config.json");
    std::fs::remove_file(&config).unwrap();
    // A device never ends: read to the end, it would take all the memory there is.
    std::os::unix::fs::symlink("/dev/zero", &config).unwrap();
    let msg = load_err(dir.path(), DType::F32);
    assert!(
        msg.contains("config.json") && msg.contains("not a regular file"),
        "{msg}"
    );
    std::fs::remove_file(&config).unwrap();
    std::fs::create_dir(&config).unwrap();
    assert!(load_err(dir.path(), DType::F32).contains("not a regular file"));
    std::fs::remove_dir(&config).unwrap();
    // Valid JSON, padded past the cap: refused unread.
    let padded = format!(
        "{}{}",
        " ".repeat(2 << 20),
        std::fs::read_to_string(fixture("tiny-gpt2").join("config.json")).unwrap()
    );
    std::fs::write(&config, padded).unwrap();
    let msg = load_err(dir.path(), DType::F32);
    assert!(
        msg.contains("config.json") && msg.contains("larger than the 1 MiB"),
        "{msg}"
    );
}

/// Opening a FIFO for reading waits for a writer. Were the loader to open it, this writer
/// would get in, and the load would fail on its JSON instead of refusing the file; when the
/// loader never opens it, the writer waits forever on a thread nobody joins.
#[test]
fn a_fifo_is_refused_without_opening_it() {
    let dir = edited("tiny-gpt2", |_| {});
    let config = dir.path().join("config.json");
    std::fs::remove_file(&config).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&config)
        .status()
        .unwrap();
    assert!(made.success());
    let fifo = config.clone();
    std::thread::spawn(move || {
        use std::io::Write;
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .open(fifo)
            .and_then(|mut f| f.write_all(b"{"));
    });
    let msg = load_err(dir.path(), DType::F32);
    assert!(msg.contains("not a regular file"), "{msg}");
}

fn with_vocabulary(vocab: bool, merges: Option<&str>) -> tempfile::TempDir {
    let dir = edited("tiny-gpt2", |_| {});
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/gpt2");
    if vocab {
        std::fs::copy(data.join("vocab.json"), dir.path().join("vocab.json")).unwrap();
    }
    if let Some(text) = merges {
        std::fs::write(dir.path().join("merges.txt"), text).unwrap();
    }
    dir
}

#[test]
fn a_tokenizer_is_whole_or_the_fallback_says_so() {
    let msg = load_err(
        with_vocabulary(true, Some("#version: 0.2\n")).path(),
        DType::F32,
    );
    assert!(
        msg.contains("merges.txt") && msg.contains("no merges"),
        "{msg}"
    );
    let msg = load_err(with_vocabulary(true, None).path(), DType::F32);
    assert!(msg.contains("has vocab.json but no merges.txt"), "{msg}");
    let msg = load_err(
        with_vocabulary(false, Some("#version: 0.2\nĠ t\n")).path(),
        DType::F32,
    );
    assert!(msg.contains("has merges.txt but no vocab.json"), "{msg}");
    let whole =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/gpt2/merges.txt"))
            .unwrap();
    let own = Model::load(with_vocabulary(true, Some(&whole)).path(), "test").unwrap();
    assert!(own.notes.is_empty(), "{:?}", own.notes);
    // Neither file: GPT-2's built-in vocabulary, and a note that says so.
    let fallback = Model::load(with_vocabulary(false, None).path(), "test").unwrap();
    assert_eq!(fallback.notes.len(), 1);
    assert!(
        fallback.notes[0].contains("built into nexttoken"),
        "{:?}",
        fallback.notes
    );
    assert_eq!(
        own.tokenizer.encode(" the United"),
        fallback.tokenizer.encode(" the United")
    );
}

/// An io error is said once, however the caller prints the error and its sources (`{:#}`).
#[test]
fn an_io_error_is_said_once() {
    let dir = edited("tiny-gpt2", |_| {});
    let config = dir.path().join("config.json");
    std::fs::remove_file(&config).unwrap();
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &config).unwrap();
    let err = Model::load(dir.path(), "test")
        .err()
        .expect("a dangling config.json");
    let mut chain = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        chain += &format!(": {s}");
        source = s.source();
    }
    assert_eq!(
        chain.matches("No such file or directory").count(),
        1,
        "{chain}"
    );
}

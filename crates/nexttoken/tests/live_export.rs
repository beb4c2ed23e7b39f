//! `nexttoken export --live`: the files the live site consists of, with a stand-in engine file
//! (building crates/wasm is tests/wasm's and tests/browser's part; they run the real one).

use std::path::Path;

use nexttoken::live::{export_live, LiveOptions};
use safetensors::{Dtype, SafeTensors};
use serde_json::Value;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/tiny-gpt2");

fn export(options: LiveOptions) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    export_live(out.path(), 1, &options).unwrap();
    out
}

fn stand_in_engine(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("engine.wasm");
    std::fs::write(&path, b"\0asm\x01\0\0\0").unwrap();
    path
}

/// A stand-in for the threaded engine, told apart from the other by its last byte.
fn stand_in_threads_engine(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("engine-threads.wasm");
    std::fs::write(&path, b"\0asm\x01\0\0\x01").unwrap();
    path
}

#[test]
fn the_site_starts_on_the_bundled_model_and_offers_the_16_bit_upgrade() {
    let scratch = tempfile::tempdir().unwrap();
    let out = export(LiveOptions {
        start: None,
        with_weights: Some(FIXTURE.into()),
        wasm: Some(stand_in_engine(scratch.path())),
        wasm_threads: Some(stand_in_threads_engine(scratch.path())),
    });
    let site = out.path();
    let index: Value =
        serde_json::from_slice(&std::fs::read(site.join("models/models.json")).unwrap()).unwrap();
    assert_eq!(index["start"], "sotu-tiny");
    assert_eq!(index["engine"], "engine/nexttoken.wasm");
    assert_eq!(index["models"]["sotu-tiny"]["source"], "bundled");
    assert_eq!(index["models"]["gpt2"]["dtype"], "f16");
    assert_eq!(index["models"]["gpt2"]["name"], "tiny-gpt2");
    assert_eq!(
        std::fs::read(site.join("engine/nexttoken.wasm")).unwrap(),
        b"\0asm\x01\0\0\0"
    );
    assert_eq!(index["threads_engine"], "engine/nexttoken-threads.wasm");
    let headers = std::fs::read_to_string(site.join("_headers")).unwrap();
    assert!(
        headers.contains("Cross-Origin-Embedder-Policy: require-corp"),
        "{headers}"
    );
    assert_eq!(
        std::fs::read(site.join("engine/nexttoken-threads.wasm")).unwrap(),
        b"\0asm\x01\0\0\x01"
    );

    // The upgrade is the fixture in 16 bits, every tensor within f16's rounding of f32.
    let f32_bytes = std::fs::read(Path::new(FIXTURE).join("model.safetensors")).unwrap();
    let f16_bytes = std::fs::read(site.join("models/gpt2/model.safetensors")).unwrap();
    let (full, half) = (
        SafeTensors::deserialize(&f32_bytes).unwrap(),
        SafeTensors::deserialize(&f16_bytes).unwrap(),
    );
    assert_eq!(index["models"]["gpt2"]["bytes"], f16_bytes.len());
    for (name, view) in half.tensors() {
        assert_eq!(view.dtype(), Dtype::F16, "{name}");
        let original = full.tensor(&name).unwrap();
        assert_eq!(view.shape(), original.shape(), "{name}");
        let values = original.data().chunks_exact(4);
        for (h, f) in view.data().chunks_exact(2).zip(values) {
            let (h, f) = (
                half::f16::from_le_bytes([h[0], h[1]]).to_f32(),
                f32::from_le_bytes([f[0], f[1], f[2], f[3]]),
            );
            assert!(
                (h - f).abs() <= 1e-3 * f.abs().max(6e-5),
                "{name}: {h} vs {f}"
            );
        }
    }
    assert!(half.names().iter().all(|n| !n.ends_with(".attn.bias")));

    // The page is marked for the engine in the browser, under a CSP that lets it compile
    // WebAssembly and reach the hub, and nothing else.
    let html = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(html.contains(r#"<meta name="nexttoken-mode" content="browser">"#));
    assert!(html.contains("script-src 'self' 'wasm-unsafe-eval'"));
    assert!(html.contains("connect-src 'self' https://huggingface.co"));
    assert!(!html.contains("<!--nexttoken-mode-->"));
    // The recording stays beside it for browsers without WebAssembly.
    assert!(site.join("data/curated.json").is_file());
    assert!(site.join("models/sotu-tiny/config.json").is_file());
}

#[test]
fn a_prebuilt_engine_alone_makes_a_one_thread_site() {
    let scratch = tempfile::tempdir().unwrap();
    let out = export(LiveOptions {
        start: None,
        with_weights: None,
        wasm: Some(stand_in_engine(scratch.path())),
        wasm_threads: None,
    });
    let index: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("models/models.json")).unwrap())
            .unwrap();
    assert_eq!(index["engine"], "engine/nexttoken.wasm");
    assert!(index.get("threads_engine").is_none(), "{index}");
    assert!(!out.path().join("engine/nexttoken-threads.wasm").exists());
    assert!(!out.path().join("_headers").exists());
}

#[test]
fn a_model_the_browser_engine_cannot_run_is_refused_before_anything_is_written() {
    let scratch = tempfile::tempdir().unwrap();
    let not_gpt2 = scratch.path().join("llama");
    std::fs::create_dir(&not_gpt2).unwrap();
    std::fs::write(not_gpt2.join("config.json"), r#"{"model_type": "llama"}"#).unwrap();
    std::fs::write(not_gpt2.join("model.safetensors"), b"").unwrap();
    let out = scratch.path().join("site");
    let err = export_live(
        &out,
        1,
        &LiveOptions {
            start: None,
            with_weights: Some(not_gpt2.to_string_lossy().into_owned()),
            wasm: Some(stand_in_engine(scratch.path())),
            wasm_threads: None,
        },
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("runs GPT-2 models"), "{err:#}");
    assert!(!out.exists(), "nothing was written");
}

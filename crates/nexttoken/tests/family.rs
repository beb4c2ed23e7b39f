//! `--model gpt2-xl` (and distilgpt2, gpt2-medium, gpt2-large) as a user types it: the hub id
//! resolves through the Hugging Face cache (offline here, the snapshot laid out as
//! `huggingface_hub` leaves it) and the model runs. The snapshots hold the narrowed fixtures of
//! fixtures/gpt2-family, whose first greedy token HF `transformers` recorded.

use std::fs;
use std::path::Path;
use std::process::Command;

const FAMILY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/gpt2-family");
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// `{cache}/models--{name}/refs/main` and `snapshots/{COMMIT}/` with the fixture's files.
fn cache_snapshot(cache: &Path, name: &str) {
    let repo = cache.join(format!("models--{name}"));
    let snapshot = repo.join("snapshots").join(COMMIT);
    fs::create_dir_all(&snapshot).unwrap();
    fs::create_dir_all(repo.join("refs")).unwrap();
    fs::write(repo.join("refs/main"), COMMIT).unwrap();
    for file in ["config.json", "model.safetensors"] {
        fs::copy(Path::new(FAMILY).join(name).join(file), snapshot.join(file)).unwrap();
    }
}

#[test]
fn every_gpt2_size_loads_by_its_hub_name() {
    let cache = tempfile::tempdir().unwrap();
    for (name, n_layer, n_head) in [
        ("distilgpt2", 6, 12),
        ("gpt2-medium", 24, 16),
        ("gpt2-large", 36, 20),
        ("gpt2-xl", 48, 25),
    ] {
        cache_snapshot(cache.path(), name);
        let out = Command::new(env!("CARGO_BIN_EXE_nexttoken"))
            .args(["trace", "--json", "-m", name, "--steps", "1"])
            .arg("The United States of America is a country")
            .env("HF_HUB_OFFLINE", "1")
            .env("HF_HUB_CACHE", cache.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: {stderr}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["model"]["name"], name);
        assert_eq!(v["model"]["n_layer"], n_layer, "{name}");
        assert_eq!(v["model"]["n_head"], n_head, "{name}");
        assert_eq!(v["model"]["n_kv_head"], n_head, "{name}");
        let golden: serde_json::Value = serde_json::from_slice(
            &fs::read(Path::new(FAMILY).join(name).join("golden.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            v["steps"][0]["chosen"]["id"], golden["greedy_ids"][0],
            "{name}: the first greedy token"
        );
    }
}

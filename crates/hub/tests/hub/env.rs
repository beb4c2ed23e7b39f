//! HubConfig::from_lookup follows huggingface_hub's environment rules.

use std::collections::HashMap;
use std::path::PathBuf;

use nexttoken_hub::{HubConfig, DEFAULT_ENDPOINT};

fn from(vars: &[(&str, &str)]) -> HubConfig {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    HubConfig::from_lookup(|name| vars.get(name).cloned())
}

#[test]
fn defaults_live_under_home() {
    let cfg = from(&[("HOME", "/home/u")]);
    assert_eq!(
        cfg.cache_dir,
        PathBuf::from("/home/u/.cache/huggingface/hub")
    );
    assert_eq!(cfg.endpoint, DEFAULT_ENDPOINT);
    assert!(!cfg.offline);
    assert_eq!(cfg.token, None);
}

#[test]
fn cache_dir_precedence() {
    let base = [("HOME", "/home/u")];
    let xdg = from(&[base[0], ("XDG_CACHE_HOME", "/xdg")]);
    assert_eq!(xdg.cache_dir, PathBuf::from("/xdg/huggingface/hub"));
    let hf_home = from(&[base[0], ("XDG_CACHE_HOME", "/xdg"), ("HF_HOME", "/hf")]);
    assert_eq!(hf_home.cache_dir, PathBuf::from("/hf/hub"));
    let all = [base[0], ("HF_HOME", "/hf"), ("HF_HUB_CACHE", "~/c")];
    assert_eq!(from(&all).cache_dir, PathBuf::from("/home/u/c"));
    let empty = from(&[base[0], ("HF_HUB_CACHE", "")]);
    assert_eq!(
        empty.cache_dir,
        PathBuf::from("/home/u/.cache/huggingface/hub")
    );
}

#[test]
fn endpoint_loses_its_trailing_slash() {
    let cfg = from(&[("HF_ENDPOINT", "http://mirror.local/")]);
    assert_eq!(cfg.endpoint, "http://mirror.local");
}

#[test]
fn offline_flag_values() {
    for yes in ["1", "true", "TRUE", "yes", "on"] {
        assert!(from(&[("HF_HUB_OFFLINE", yes)]).offline, "{yes}");
    }
    for no in ["0", "false", "no", ""] {
        assert!(!from(&[("HF_HUB_OFFLINE", no)]).offline, "{no}");
    }
    assert!(from(&[("TRANSFORMERS_OFFLINE", "1")]).offline);
}

#[test]
fn token_from_variable_else_from_the_token_file() {
    let home = tempfile::tempdir().expect("temp dir");
    std::fs::write(home.path().join("token"), "hf_from_file\n").expect("write token");
    let hf_home = home.path().to_str().expect("utf-8 temp path");
    let file = from(&[("HF_HOME", hf_home)]);
    assert_eq!(file.token.as_deref(), Some("hf_from_file"));
    let var = from(&[("HF_HOME", hf_home), ("HF_TOKEN", "hf_from_var")]);
    assert_eq!(var.token.as_deref(), Some("hf_from_var"));
}

//! No network on purpose (HF_HUB_OFFLINE) or by accident: the cache serves.

use std::net::TcpListener;

use nexttoken_hub::{cached, resolve, HubError, NoProgress};

use crate::fake_hub::{FakeHub, COMMIT};
use crate::{config, temp_cache};

const GPT2: &str = "openai-community/gpt2";

/// An endpoint where nothing listens.
fn dead_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[test]
fn offline_with_an_empty_cache_says_what_to_do() {
    let hub = FakeHub::start();
    let cache = temp_cache();
    let mut cfg = config(&hub, cache.path());
    cfg.offline = true;
    let err = resolve(&cfg, "gpt2", "main", &NoProgress).expect_err("not cached");
    assert!(matches!(err, HubError::OfflineNotCached { .. }), "{err:?}");
    let message = err.to_string();
    let path = cache.path().display().to_string();
    assert!(
        message.starts_with("gpt2 is not in the Hugging Face cache at"),
        "{message}"
    );
    assert!(
        message.contains(&path) && message.contains("HF_HUB_OFFLINE"),
        "{message}"
    );
    assert!(!message.contains('\n'));
    assert!(hub.requests().is_empty());
}

#[test]
fn offline_with_a_cached_model_works_without_requests() {
    let hub = FakeHub::start();
    let cache = temp_cache();
    let mut cfg = config(&hub, cache.path());
    let online = resolve(&cfg, GPT2, "main", &NoProgress).expect("online");
    hub.clear_log();
    cfg.offline = true;
    assert_eq!(
        resolve(&cfg, GPT2, "main", &NoProgress).expect("offline"),
        online
    );
    assert!(hub.requests().is_empty());
}

#[test]
fn a_dead_network_falls_back_to_the_cache() {
    let hub = FakeHub::start();
    let cache = temp_cache();
    let mut cfg = config(&hub, cache.path());
    let online = resolve(&cfg, GPT2, "main", &NoProgress).expect("online");
    cfg.endpoint = dead_endpoint();
    assert_eq!(
        resolve(&cfg, GPT2, "main", &NoProgress).expect("fallback"),
        online
    );
}

#[test]
fn a_dead_network_with_an_empty_cache_names_the_url() {
    let cache = temp_cache();
    let cfg = nexttoken_hub::HubConfig {
        endpoint: dead_endpoint(),
        cache_dir: cache.path().to_path_buf(),
        offline: false,
        token: None,
    };
    let err = resolve(&cfg, GPT2, "main", &NoProgress).expect_err("no network");
    assert!(matches!(err, HubError::Network { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(&cfg.endpoint) && message.contains(GPT2),
        "{message}"
    );
}

#[test]
fn cached_reports_only_complete_snapshots() {
    let hub = FakeHub::start();
    let cache = temp_cache();
    let cfg = config(&hub, cache.path());
    assert!(cached(&cfg, GPT2, "main").is_none());
    let dir = resolve(&cfg, GPT2, "main", &NoProgress).expect("resolve");
    assert_eq!(cached(&cfg, GPT2, "main"), Some(dir.clone()));
    assert_eq!(cached(&cfg, GPT2, COMMIT), Some(dir.clone()));
    // Weights gone (a dangling link): not complete any more.
    let blob = std::fs::canonicalize(dir.join("model.safetensors")).expect("blob");
    std::fs::remove_file(blob).expect("remove blob");
    assert!(cached(&cfg, GPT2, "main").is_none());
}

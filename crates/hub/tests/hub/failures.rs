//! Downloads and repos that go wrong, and the one-line errors they give.

use std::fs;

use nexttoken_hub::{cached, resolve, HubError, NoProgress};

use crate::fake_hub::{model_bytes, sha256_hex, FakeHub, Server, COMMIT};
use crate::{config, temp_cache};

const GPT2: &str = "openai-community/gpt2";

#[test]
fn a_corrupt_download_is_detected_and_not_kept() {
    let hub = FakeHub::start();
    let cache = temp_cache();
    let cfg = config(&hub, cache.path());
    hub.state().faults.corrupt_left = usize::MAX;

    let err = resolve(&cfg, GPT2, "main", &NoProgress).expect_err("corrupt");
    assert!(matches!(err, HubError::Corrupt { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("model.safetensors") && message.contains("sha256"),
        "{message}"
    );
    let blobs = cache.path().join("models--openai-community--gpt2/blobs");
    let sha = sha256_hex(&model_bytes());
    assert!(!blobs.join(&sha).exists());
    assert!(!blobs.join(format!("{sha}.incomplete")).exists());
    assert!(cached(&cfg, GPT2, "main").is_none());
    // Retried once at once, from scratch.
    let cdn: Vec<_> = hub
        .gets()
        .into_iter()
        .filter(|r| r.server == Server::Cdn)
        .collect();
    assert_eq!(cdn.len(), 2);
    assert!(cdn.iter().all(|r| r.header("range").is_none()));
}

#[test]
fn a_corruption_that_happens_once_is_fetched_again() {
    let hub = FakeHub::start();
    let cache = temp_cache();
    hub.state().faults.corrupt_left = 1;
    let dir = resolve(&config(&hub, cache.path()), GPT2, "main", &NoProgress).expect("resolve");
    assert_eq!(
        fs::read(dir.join("model.safetensors")).unwrap(),
        model_bytes()
    );
}

#[test]
fn absent_optional_files_are_fine() {
    let hub = FakeHub::start();
    let cache = temp_cache();
    let dir = resolve(
        &config(&hub, cache.path()),
        "org/minimal",
        "main",
        &NoProgress,
    )
    .expect("resolve");
    assert!(dir.join("config.json").is_file());
    assert!(dir.join("model.safetensors").is_file());
    assert!(!dir.join("vocab.json").exists());
}

#[test]
fn a_repo_without_safetensors_is_a_clear_error() {
    let hub = FakeHub::start();
    let cache = temp_cache();
    let err = resolve(
        &config(&hub, cache.path()),
        "org/pt-only",
        "main",
        &NoProgress,
    )
    .expect_err("no safetensors");
    assert!(matches!(err, HubError::NoSafetensors { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("org/pt-only") && message.contains("pytorch_model.bin"),
        "{message}"
    );
    // Checked before anything was downloaded.
    assert!(hub.gets().is_empty());
}

#[test]
fn bad_repo_ids_are_rejected_before_any_request() {
    let hub = FakeHub::start();
    let cache = temp_cache();
    let cfg = config(&hub, cache.path());
    let bad = [
        "", "..", "../etc", "a/../b", "/abs", "/abs/x", "org/", "/name", "a/b/c", "a\\b", "a b",
        "org/..", ".hidden", "a--b", "a/b..c", "gpt2\0", "é",
    ];
    for id in bad {
        let err = resolve(&cfg, id, "main", &NoProgress).expect_err(id);
        assert!(
            matches!(err, HubError::InvalidRepoId { .. }),
            "{id:?}: {err:?}"
        );
        assert!(cached(&cfg, id, "main").is_none());
    }
    for revision in ["../main", "", "a//b", "/x"] {
        let err = resolve(&cfg, "gpt2", revision, &NoProgress).expect_err(revision);
        assert!(
            matches!(err, HubError::InvalidRevision { .. }),
            "{revision:?}: {err:?}"
        );
    }
    assert!(hub.requests().is_empty());
    assert_eq!(fs::read_dir(cache.path()).unwrap().count(), 0);
}

#[test]
fn good_repo_ids_are_accepted() {
    let hub = FakeHub::start();
    let cache = temp_cache();
    let cfg = config(&hub, cache.path());
    // Unknown to the fake hub, so they fail later, at the hub: not as invalid.
    for id in [
        "distilgpt2",
        "gpt2-medium",
        "openai-community/gpt2-xl",
        "Org_1/a.b-c",
    ] {
        let err = resolve(&cfg, id, "main", &NoProgress).expect_err(id);
        assert!(
            matches!(err, HubError::RepoNotFound { .. }),
            "{id}: {err:?}"
        );
    }
}

#[test]
fn an_unknown_repo_says_so_and_mentions_the_token() {
    let hub = FakeHub::start();
    let cache = temp_cache();
    let err = resolve(
        &config(&hub, cache.path()),
        "nobody/nothing",
        "main",
        &NoProgress,
    )
    .expect_err("unknown");
    let message = err.to_string();
    assert!(
        message.contains("nobody/nothing") && message.contains("HF_TOKEN"),
        "{message}"
    );
}

#[test]
fn an_unknown_revision_says_so() {
    let hub = FakeHub::start();
    let cache = temp_cache();
    let err = resolve(&config(&hub, cache.path()), GPT2, "v9", &NoProgress).expect_err("rev");
    assert!(matches!(err, HubError::RevisionNotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("v9"));
}

#[test]
fn a_refused_token_names_the_url_and_hf_token() {
    let hub = FakeHub::start();
    let cache = temp_cache();
    hub.state().required_token = Some("hf_right".into());
    let mut cfg = config(&hub, cache.path());
    cfg.token = Some("hf_wrong".into());
    let err = resolve(&cfg, GPT2, "main", &NoProgress).expect_err("denied");
    assert!(
        matches!(err, HubError::Denied { status: 401, .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains(&hub.url) && message.contains("HF_TOKEN"),
        "{message}"
    );
    assert!(cached(&cfg, GPT2, COMMIT).is_none());
}

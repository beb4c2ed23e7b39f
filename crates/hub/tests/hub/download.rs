//! Downloads that succeed: layout, caching, aliases, resuming, the token.

use std::fs;
use std::path::Path;

use nexttoken_hub::{resolve, NoProgress};

use crate::fake_hub::{git_etag, model_bytes, sha256_hex, FakeHub, Server, COMMIT, MODEL_LEN};
use crate::{config, temp_cache, Event, Recorder};

const GPT2: &str = "openai-community/gpt2";

/// The snapshot entry is a relative symlink to the blob holding `bytes`.
fn assert_linked(snapshot: &Path, file: &str, etag: &str, bytes: &[u8]) {
    let pointer = snapshot.join(file);
    let target = fs::read_link(&pointer).expect("snapshot entry is a symlink");
    assert_eq!(target, Path::new("../../blobs").join(etag), "{file}");
    assert_eq!(
        fs::read(&pointer).expect("read through link"),
        bytes,
        "{file}"
    );
}

#[test]
fn fresh_download_builds_the_hf_cache_layout() {
    let hub = FakeHub::start();
    let cache = temp_cache();
    let progress = Recorder::default();
    let dir = resolve(&config(&hub, cache.path()), GPT2, "main", &progress).expect("resolve");

    let repo = cache.path().join("models--openai-community--gpt2");
    assert_eq!(dir, repo.join("snapshots").join(COMMIT));
    assert_eq!(fs::read_to_string(repo.join("refs/main")).unwrap(), COMMIT);
    let model = model_bytes();
    assert_linked(&dir, "model.safetensors", &sha256_hex(&model), &model);
    let config = br#"{"n_layer": 2}"#;
    assert_linked(&dir, "config.json", &git_etag(config), config);
    for file in ["vocab.json", "merges.txt", "tokenizer.json"] {
        assert!(dir.join(file).is_file(), "{file}");
    }
    // Absent on the hub: not in the snapshot, remembered like huggingface_hub does.
    assert!(!dir.join("generation_config.json").exists());
    assert!(repo
        .join(".no_exist")
        .join(COMMIT)
        .join("generation_config.json")
        .is_file());
    let leftovers: Vec<_> = fs::read_dir(repo.join("blobs"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".incomplete"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    assert_eq!(progress.advanced("model.safetensors"), MODEL_LEN as u64);
    let start = Event::Start {
        file: "model.safetensors".into(),
        total: Some(MODEL_LEN as u64),
        already: 0,
    };
    assert!(progress.events().contains(&start));
    assert!(progress
        .events()
        .contains(&Event::Finish("model.safetensors".into())));
}

#[test]
fn second_call_downloads_nothing() {
    let hub = FakeHub::start();
    let cache = temp_cache();
    let cfg = config(&hub, cache.path());
    let first = resolve(&cfg, GPT2, "main", &NoProgress).expect("first");
    assert_eq!(hub.gets().len(), 5, "{:?}", hub.gets());
    hub.clear_log();

    let progress = Recorder::default();
    let second = resolve(&cfg, GPT2, "main", &progress).expect("second");
    assert_eq!(first, second);
    // One HEAD to learn that main is still at the cached commit.
    let requests = hub.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].method, "HEAD");
    assert!(progress.events().is_empty());
}

#[test]
fn a_commit_revision_that_is_cached_needs_no_request() {
    let hub = FakeHub::start();
    let cache = temp_cache();
    let cfg = config(&hub, cache.path());
    let first = resolve(&cfg, GPT2, COMMIT, &NoProgress).expect("first");
    assert_eq!(
        first,
        cache
            .path()
            .join("models--openai-community--gpt2/snapshots")
            .join(COMMIT)
    );
    hub.clear_log();
    assert_eq!(
        resolve(&cfg, GPT2, COMMIT, &NoProgress).expect("second"),
        first
    );
    assert!(hub.requests().is_empty());
}

#[test]
fn bare_alias_follows_the_hubs_redirect_and_keeps_its_own_folder() {
    let hub = FakeHub::start();
    let cache = temp_cache();
    let dir = resolve(&config(&hub, cache.path()), "gpt2", "main", &NoProgress).expect("resolve");
    assert_eq!(
        dir,
        cache.path().join("models--gpt2/snapshots").join(COMMIT)
    );
    assert_eq!(
        fs::read(dir.join("model.safetensors")).unwrap(),
        model_bytes()
    );
    let renamed = hub
        .requests()
        .iter()
        .any(|r| r.path.starts_with("/openai-community/gpt2/resolve/"));
    assert!(renamed, "the redirect was not followed");
}

#[test]
fn cut_download_leaves_incomplete_and_the_next_call_resumes() {
    let hub = FakeHub::start();
    let cache = temp_cache();
    let cfg = config(&hub, cache.path());
    hub.state().faults.cut_after = 3000;
    hub.state().faults.cuts_left = usize::MAX;

    let err = resolve(&cfg, GPT2, "main", &NoProgress).expect_err("every GET is cut");
    assert!(err.to_string().contains("run again to resume"), "{err}");
    let sha = sha256_hex(&model_bytes());
    let blobs = cache.path().join("models--openai-community--gpt2/blobs");
    let partial = blobs.join(format!("{sha}.incomplete"));
    let kept = fs::metadata(&partial).expect(".incomplete kept").len();
    // Each try within the call resumed: 3000 bytes per connection, 4 tries.
    assert_eq!(kept, 4 * 3000);
    assert!(!blobs.join(&sha).exists());

    hub.state().faults.cuts_left = 0;
    hub.clear_log();
    let progress = Recorder::default();
    let dir = resolve(&cfg, GPT2, "main", &progress).expect("resumed");
    let gets = hub.gets();
    let cdn: Vec<_> = gets.iter().filter(|r| r.server == Server::Cdn).collect();
    assert_eq!(cdn.len(), 1);
    assert_eq!(cdn[0].header("range"), Some("bytes=12000-"));
    assert_eq!(
        sha256_hex(&fs::read(dir.join("model.safetensors")).unwrap()),
        sha
    );
    assert!(!partial.exists());
    assert_eq!(
        progress.advanced("model.safetensors"),
        (MODEL_LEN - 12_000) as u64
    );
    let resumed_from = Event::Start {
        file: "model.safetensors".into(),
        total: Some(MODEL_LEN as u64),
        already: 12_000,
    };
    assert!(progress.events().contains(&resumed_from));
}

#[test]
fn one_dropped_connection_is_resumed_within_the_call() {
    let hub = FakeHub::start();
    let cache = temp_cache();
    hub.state().faults.cut_after = 5000;
    hub.state().faults.cuts_left = 1;
    let dir = resolve(&config(&hub, cache.path()), GPT2, "main", &NoProgress).expect("resolve");
    assert_eq!(
        fs::read(dir.join("model.safetensors")).unwrap(),
        model_bytes()
    );
    let cdn: Vec<_> = hub
        .gets()
        .into_iter()
        .filter(|r| r.server == Server::Cdn)
        .collect();
    assert_eq!(cdn.len(), 2);
    assert_eq!(cdn[0].header("range"), None);
    assert_eq!(cdn[1].header("range"), Some("bytes=5000-"));
}

#[test]
fn a_server_ignoring_range_restarts_the_file() {
    let hub = FakeHub::start();
    let cache = temp_cache();
    let sha = sha256_hex(&model_bytes());
    let blobs = cache.path().join("models--openai-community--gpt2/blobs");
    fs::create_dir_all(&blobs).unwrap();
    // Bytes that must not end up at the front of the file.
    fs::write(blobs.join(format!("{sha}.incomplete")), vec![0xAA; 4000]).unwrap();
    hub.state().faults.ignore_range = true;

    let dir = resolve(&config(&hub, cache.path()), GPT2, "main", &NoProgress).expect("resolve");
    assert_eq!(
        fs::read(dir.join("model.safetensors")).unwrap(),
        model_bytes()
    );
    let cdn: Vec<_> = hub
        .gets()
        .into_iter()
        .filter(|r| r.server == Server::Cdn)
        .collect();
    assert_eq!(cdn.len(), 1);
    assert_eq!(cdn[0].header("range"), Some("bytes=4000-"));
}

#[test]
fn token_goes_to_the_hub_as_bearer_and_not_to_the_cdn() {
    let hub = FakeHub::start();
    let cache = temp_cache();
    hub.state().required_token = Some("hf_secret".into());
    let mut cfg = config(&hub, cache.path());
    cfg.token = Some("hf_secret".into());
    resolve(&cfg, GPT2, "main", &NoProgress).expect("resolve");

    let requests = hub.requests();
    assert!(requests.iter().any(|r| r.server == Server::Cdn));
    for request in &requests {
        let auth = request.header("authorization");
        match request.server {
            Server::Hub => assert_eq!(auth, Some("Bearer hf_secret"), "{request:?}"),
            Server::Cdn => assert_eq!(auth, None, "token leaked: {request:?}"),
        }
    }
}

//! Resolves a Hugging Face model id (`gpt2`, `openai-community/gpt2`, any
//! `org/name`) to a local directory holding its files, through the standard
//! Hugging Face cache shared with Python's `huggingface_hub`, downloading
//! whatever is missing.
//!
//! ```no_run
//! use nexttoken_hub::{resolve, HubConfig, IndicatifProgress};
//! let dir = resolve(&HubConfig::from_env(), "gpt2", "main", &IndicatifProgress::new())?;
//! let config = dir.join("config.json");
//! # Ok::<(), nexttoken_hub::HubError>(())
//! ```

mod cache;
mod config;
mod download;
mod error;
mod http;
mod names;
mod progress;
mod snapshot;

use std::path::PathBuf;

pub use config::{HubConfig, DEFAULT_ENDPOINT};
pub use error::HubError;
pub use progress::{IndicatifProgress, NoProgress, Progress};

use cache::RepoCache;

/// Files a model cannot run without.
pub const REQUIRED_FILES: [&str; 2] = ["config.json", "model.safetensors"];
/// Files fetched when the repo has them; their absence is fine. An instruct model's chat
/// template is in `tokenizer_config.json`, or in `chat_template.jinja` in newer repos.
pub const OPTIONAL_FILES: [&str; 6] = [
    "vocab.json",
    "merges.txt",
    "tokenizer.json",
    "tokenizer_config.json",
    "chat_template.jinja",
    "generation_config.json",
];

/// Returns the snapshot directory of `repo_id` at `revision` (a branch, tag
/// or commit) with the model's files in it, downloading what is missing.
///
/// Offline (`cfg.offline`) only the cache is used. Online, when the network
/// or the hub fails, a complete cached snapshot is used instead.
pub fn resolve(
    cfg: &HubConfig,
    repo_id: &str,
    revision: &str,
    progress: &dyn Progress,
) -> Result<PathBuf, HubError> {
    names::check_repo_id(repo_id)?;
    names::check_revision(revision)?;
    let cache = RepoCache::new(&cfg.cache_dir, repo_id);
    // Looked up before going online, which may move refs/{revision}.
    let fallback = complete_snapshot(&cache, revision);
    if cfg.offline {
        return fallback.ok_or_else(|| HubError::OfflineNotCached {
            repo: repo_id.to_string(),
            cache: cfg.cache_dir.clone(),
        });
    }
    // A commit never changes: if everything is there, there is nothing to ask.
    if names::is_commit_hash(revision) && snapshot::has_every_file(&cache, revision) {
        return Ok(cache.snapshot_dir(revision));
    }
    match snapshot::fetch(cfg, &cache, repo_id, revision, progress) {
        Err(e) if e.is_network() => fallback.ok_or(e),
        result => result,
    }
}

/// The snapshot directory of `repo_id` at `revision` if the cache already
/// holds a complete one (`config.json` and `model.safetensors`). No network.
pub fn cached(cfg: &HubConfig, repo_id: &str, revision: &str) -> Option<PathBuf> {
    names::check_repo_id(repo_id).ok()?;
    names::check_revision(revision).ok()?;
    complete_snapshot(&RepoCache::new(&cfg.cache_dir, repo_id), revision)
}

fn complete_snapshot(cache: &RepoCache, revision: &str) -> Option<PathBuf> {
    let commit = cache.commit_for(revision)?;
    REQUIRED_FILES
        .iter()
        .all(|file| cache.has_file(&commit, file))
        .then(|| cache.snapshot_dir(&commit))
}

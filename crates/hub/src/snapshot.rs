//! The online path: ask the hub which commit the revision is at, then make
//! the cache's snapshot of that commit hold every file the repo has.

use std::path::PathBuf;

use crate::cache::RepoCache;
use crate::config::HubConfig;
use crate::download::fetch_blob;
use crate::error::HubError;
use crate::http::{Client, FileMeta};
use crate::progress::Progress;
use crate::{OPTIONAL_FILES, REQUIRED_FILES};

pub(crate) fn fetch(
    cfg: &HubConfig,
    cache: &RepoCache,
    repo_id: &str,
    revision: &str,
    progress: &dyn Progress,
) -> Result<PathBuf, HubError> {
    let client = Client::new(cfg, repo_id);
    let config = client
        .metadata(revision, "config.json")?
        .ok_or_else(|| missing(&client, revision, "config.json"))?;
    let commit = config.commit.clone();
    cache.write_ref(revision, &commit)?;
    // The usual second run: one request, nothing to download.
    if has_every_file(cache, &commit) {
        return Ok(cache.snapshot_dir(&commit));
    }
    // Every other file at that exact commit, so a push in between cannot
    // mix two versions of the model. All metadata first: a repo without
    // safetensors fails before anything is downloaded.
    let mut present = vec![("config.json", config)];
    for file in REQUIRED_FILES.iter().chain(&OPTIONAL_FILES).skip(1) {
        match client.metadata(&commit, file)? {
            Some(meta) => present.push((file, meta)),
            None if *file == "model.safetensors" => {
                return Err(HubError::NoSafetensors {
                    repo: repo_id.to_string(),
                })
            }
            None => cache.mark_missing(&commit, file)?,
        }
    }
    for (file, meta) in &present {
        store(&client, cache, &commit, file, meta, progress)?;
    }
    Ok(cache.snapshot_dir(&commit))
}

/// Every required file is there, and every optional one is there or known
/// to be absent at this commit.
pub(crate) fn has_every_file(cache: &RepoCache, commit: &str) -> bool {
    REQUIRED_FILES.iter().all(|f| cache.has_file(commit, f))
        && OPTIONAL_FILES
            .iter()
            .all(|f| cache.has_file(commit, f) || cache.known_missing(commit, f))
}

fn store(
    client: &Client,
    cache: &RepoCache,
    commit: &str,
    file: &str,
    meta: &FileMeta,
    progress: &dyn Progress,
) -> Result<(), HubError> {
    if cache.has_file(commit, file) {
        return Ok(());
    }
    fetch_blob(client, cache, file, meta, progress)?;
    cache.link(commit, file, &meta.etag)
}

fn missing(client: &Client, revision: &str, file: &str) -> HubError {
    HubError::MissingFile {
        repo: client.repo_id().to_string(),
        file: file.to_string(),
        url: client.file_url(revision, file),
    }
}

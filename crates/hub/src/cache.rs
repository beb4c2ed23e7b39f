//! The on-disk layout of one model repo in the Hugging Face cache:
//!
//! ```text
//! models--{org}--{name}/refs/{revision}            commit hash of the revision
//! models--{org}--{name}/snapshots/{commit}/{file}  relative symlink to ../../blobs/{etag}
//! models--{org}--{name}/blobs/{etag}               the bytes, shared by all snapshots
//! models--{org}--{name}/.no_exist/{commit}/{file}  empty marker: the file is absent at that commit
//! .locks/models--{org}--{name}/{etag}.lock         held while the blob is downloaded
//! ```
//!
//! Every name that reaches a path here has been checked by [`crate::names`].

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{io_err, HubError};
use crate::names;

pub(crate) struct RepoCache {
    /// `{cache}/models--{org}--{name}`
    root: PathBuf,
    /// `{cache}/.locks/models--{org}--{name}`
    locks: PathBuf,
}

impl RepoCache {
    /// `repo_id` must already be validated.
    pub(crate) fn new(cache_dir: &Path, repo_id: &str) -> RepoCache {
        let folder = format!("models--{}", repo_id.replace('/', "--"));
        RepoCache {
            root: cache_dir.join(&folder),
            locks: cache_dir.join(".locks").join(folder),
        }
    }

    pub(crate) fn snapshot_dir(&self, commit: &str) -> PathBuf {
        self.root.join("snapshots").join(commit)
    }

    pub(crate) fn blob_path(&self, etag: &str) -> PathBuf {
        self.root.join("blobs").join(etag)
    }

    pub(crate) fn incomplete_path(&self, etag: &str) -> PathBuf {
        self.root.join("blobs").join(format!("{etag}.incomplete"))
    }

    pub(crate) fn lock_path(&self, etag: &str) -> PathBuf {
        self.locks.join(format!("{etag}.lock"))
    }

    /// The commit a revision stands for: itself when it is a commit hash,
    /// else whatever `refs/{revision}` last recorded.
    pub(crate) fn commit_for(&self, revision: &str) -> Option<String> {
        if names::is_commit_hash(revision) {
            return Some(revision.to_string());
        }
        let commit = fs::read_to_string(self.root.join("refs").join(revision)).ok()?;
        let commit = commit.trim();
        names::is_safe_name(commit).then(|| commit.to_string())
    }

    /// Records `revision -> commit`, as huggingface_hub does for anything
    /// that is not itself the commit hash.
    pub(crate) fn write_ref(&self, revision: &str, commit: &str) -> Result<(), HubError> {
        if revision == commit || self.commit_for(revision).as_deref() == Some(commit) {
            return Ok(());
        }
        let path = self.root.join("refs").join(revision);
        create_parent(&path)?;
        fs::write(&path, commit).map_err(io_err("write", &path))
    }

    /// Whether `file` is in the snapshot (a dangling link does not count).
    pub(crate) fn has_file(&self, commit: &str, file: &str) -> bool {
        self.snapshot_dir(commit).join(file).is_file()
    }

    /// Whether a previous run learned that `file` does not exist at `commit`.
    pub(crate) fn known_missing(&self, commit: &str, file: &str) -> bool {
        self.no_exist_path(commit, file).exists()
    }

    /// Remembers a 404 so later runs need not ask again for this commit.
    pub(crate) fn mark_missing(&self, commit: &str, file: &str) -> Result<(), HubError> {
        let path = self.no_exist_path(commit, file);
        create_parent(&path)?;
        fs::write(&path, b"").map_err(io_err("write", &path))
    }

    fn no_exist_path(&self, commit: &str, file: &str) -> PathBuf {
        self.root.join(".no_exist").join(commit).join(file)
    }

    /// Points `snapshots/{commit}/{file}` at `blobs/{etag}`.
    pub(crate) fn link(&self, commit: &str, file: &str, etag: &str) -> Result<(), HubError> {
        let pointer = self.snapshot_dir(commit).join(file);
        create_parent(&pointer)?;
        // A stale or dangling pointer from an older run is replaced.
        if fs::symlink_metadata(&pointer).is_ok() {
            fs::remove_file(&pointer).map_err(io_err("remove", &pointer))?;
        }
        // Relative, so the cache still works when moved or mounted elsewhere.
        let depth = file.split('/').count() + 1;
        let target = PathBuf::from("../".repeat(depth)).join("blobs").join(etag);
        match make_link(&target, &self.blob_path(etag), &pointer) {
            // Another process linked it at the same moment: same target.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            other => other.map_err(io_err("link", &pointer)),
        }
    }
}

pub(crate) fn create_parent(path: &Path) -> Result<(), HubError> {
    match path.parent() {
        Some(dir) => fs::create_dir_all(dir).map_err(io_err("create directory", dir)),
        None => Ok(()),
    }
}

#[cfg(unix)]
fn make_link(target: &Path, _blob: &Path, pointer: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, pointer)
}

/// Symlinks need privileges on Windows; huggingface_hub then keeps a copy.
#[cfg(not(unix))]
fn make_link(_target: &Path, blob: &Path, pointer: &Path) -> std::io::Result<()> {
    fs::copy(blob, pointer).map(|_| ())
}

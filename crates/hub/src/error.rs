//! Every way resolving a model can fail, each with a one-line message that
//! names the repo, file or URL involved and, where there is one, the fix.

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("invalid model id {id:?}: {reason}")]
    InvalidRepoId { id: String, reason: &'static str },

    #[error("invalid revision {revision:?}: use a branch, tag or commit hash made of letters, digits, '.', '_', '-' and '/'")]
    InvalidRevision { revision: String },

    #[error("{repo} is not in the Hugging Face cache at {cache} and HF_HUB_OFFLINE is set: run once with a network, or unset HF_HUB_OFFLINE")]
    OfflineNotCached { repo: String, cache: PathBuf },

    #[error("could not reach {url} ({reason}) and {repo} is not cached yet: check the network or HF_ENDPOINT")]
    Network {
        repo: String,
        url: String,
        reason: String,
    },

    #[error("unexpected HTTP {status} from {url}")]
    Http { url: String, status: u16 },

    #[error("repository {repo} was not found on {endpoint}: check the model id; if it is private or gated, set HF_TOKEN")]
    RepoNotFound { repo: String, endpoint: String },

    #[error("revision {revision:?} of {repo} was not found: check the branch, tag or commit")]
    RevisionNotFound { repo: String, revision: String },

    #[error("access to {url} was refused (HTTP {status}): {repo} may be gated or private; accept its terms on the hub and set HF_TOKEN to a token that can read it")]
    Denied {
        repo: String,
        url: String,
        status: u16,
    },

    #[error("{repo} has no {file} at {url}")]
    MissingFile {
        repo: String,
        file: String,
        url: String,
    },

    #[error("{repo} has no model.safetensors (nexttoken does not read pytorch_model.bin): choose a model repo that ships safetensors weights")]
    NoSafetensors { repo: String },

    #[error("unexpected response from {url}: {reason}")]
    BadResponse { url: String, reason: String },

    #[error("download of {file} from {url} stopped after {got} bytes ({reason}): run again to resume it")]
    Interrupted {
        file: String,
        url: String,
        got: u64,
        reason: String,
    },

    #[error("downloaded {file} of {repo} is corrupt ({reason}) even after a second try; it was deleted: run again to fetch it anew")]
    Corrupt {
        repo: String,
        file: String,
        reason: String,
    },

    /// The io error is part of the message, not a `source`: a caller printing the chain
    /// (`{:#}`) would print it twice.
    #[error("could not {action} {path}: {error}")]
    Io {
        action: &'static str,
        path: PathBuf,
        error: io::Error,
    },
}

impl HubError {
    /// Failures of the network or the hub itself rather than answers about
    /// the repo: after these a complete cached snapshot may stand in.
    pub fn is_network(&self) -> bool {
        matches!(
            self,
            HubError::Network { .. } | HubError::Http { .. } | HubError::Interrupted { .. }
        )
    }
}

/// Builds a closure for `map_err` that wraps an I/O error with what was being done.
pub(crate) fn io_err(
    action: &'static str,
    path: &std::path::Path,
) -> impl FnOnce(io::Error) -> HubError {
    let path = path.to_path_buf();
    move |error| HubError::Io {
        action,
        path,
        error,
    }
}

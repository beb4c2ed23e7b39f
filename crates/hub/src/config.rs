//! Where the cache lives and how to reach the hub, read from the same
//! environment variables as Python's `huggingface_hub`, so both tools share
//! one cache and one login.

use std::path::{Path, PathBuf};

pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubConfig {
    /// Base URL of the hub, without a trailing slash.
    pub endpoint: String,
    /// The hub cache directory (the one holding `models--org--name`).
    pub cache_dir: PathBuf,
    /// No network at all: only the cache is used.
    pub offline: bool,
    /// Sent as `Authorization: Bearer` to the hub (never to other hosts).
    pub token: Option<String>,
}

impl HubConfig {
    /// Reads the process environment (and the token file it points at).
    pub fn from_env() -> HubConfig {
        HubConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// Same as [`HubConfig::from_env`] with variables taken from `var`,
    /// so the rules can be checked without touching the process environment.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> HubConfig {
        // An empty variable counts as unset, as it does in huggingface_hub.
        let var = |name: &str| var(name).filter(|v| !v.is_empty());
        let home = var("HOME").or_else(|| var("USERPROFILE"));
        let expand = |value: String| expand_home(&value, home.as_deref());

        let cache_root = var("XDG_CACHE_HOME")
            .map(&expand)
            .unwrap_or_else(|| expand("~/.cache".to_string()));
        let hf_home = var("HF_HOME")
            .map(&expand)
            .unwrap_or_else(|| cache_root.join("huggingface"));
        let cache_dir = var("HF_HUB_CACHE")
            .or_else(|| var("HUGGINGFACE_HUB_CACHE"))
            .map(&expand)
            .unwrap_or_else(|| hf_home.join("hub"));
        let endpoint = var("HF_ENDPOINT")
            .map(|e| e.trim_end_matches('/').to_string())
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
        let offline = var("HF_HUB_OFFLINE")
            .or_else(|| var("TRANSFORMERS_OFFLINE"))
            .is_some_and(|v| is_true(&v));
        let token_file = var("HF_TOKEN_PATH")
            .map(&expand)
            .unwrap_or_else(|| hf_home.join("token"));
        let token = var("HF_TOKEN")
            .or_else(|| var("HUGGING_FACE_HUB_TOKEN"))
            .or_else(|| read_token(&token_file))
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());

        HubConfig {
            endpoint,
            cache_dir,
            offline,
            token,
        }
    }
}

/// huggingface_hub's notion of a true flag.
fn is_true(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_uppercase().as_str(),
        "1" | "ON" | "YES" | "TRUE"
    )
}

/// `~` and `~/...` mean the home directory, as with Python's `expanduser`.
fn expand_home(value: &str, home: Option<&str>) -> PathBuf {
    match (value.strip_prefix('~'), home) {
        (Some(""), Some(home)) => PathBuf::from(home),
        (Some(rest), Some(home)) if rest.starts_with('/') => {
            Path::new(home).join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(value),
    }
}

/// A missing or unreadable token file just means "not logged in".
fn read_token(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

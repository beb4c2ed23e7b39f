//! Which model to run: a directory, or a Hugging Face id resolved through the cache.

use std::path::Path;

use anyhow::{Context, Result};
use nexttoken_hub::{HubConfig, IndicatifProgress};
use nexttoken_model::{DType, Model};

/// The model used when none is named.
pub const DEFAULT_MODEL: &str = "gpt2";

/// Loads `name`: an existing directory, else a hub id (downloaded with a progress bar).
pub fn load(name: Option<&str>) -> Result<Model> {
    load_with(name, DType::F32)
}

/// Like [`load`], with the weight matrices stored as `dtype`.
pub fn load_with(name: Option<&str>, dtype: DType) -> Result<Model> {
    let name = name.unwrap_or(DEFAULT_MODEL);
    let path = Path::new(name);
    if path.is_dir() {
        return Model::load_with(path, name, dtype).with_context(|| format!("loading {name}"));
    }
    let dir = nexttoken_hub::resolve(
        &HubConfig::from_env(),
        name,
        "main",
        &IndicatifProgress::new(),
    )?;
    Model::load_with(&dir, name, dtype)
        .with_context(|| format!("loading {name} from {}", dir.display()))
}

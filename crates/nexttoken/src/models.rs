//! Which model to run: the bundled one, a directory, or a Hugging Face id resolved through
//! the cache.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use nexttoken_hub::{HubConfig, IndicatifProgress};
use nexttoken_model::{DType, Model};

/// The model nexttoken is about, used when it is in the Hugging Face cache.
pub const DEFAULT_MODEL: &str = "gpt2";
/// The small model built into the binary (models/sotu-tiny), so the first run works offline.
pub const BUNDLED_MODEL: &str = "sotu-tiny";
const BUNDLED_ALIASES: [&str; 2] = [BUNDLED_MODEL, "tiny"];
const BUNDLED_CONFIG: &str = include_str!("../../../models/sotu-tiny/config.json");
static BUNDLED_WEIGHTS: &[u8] = include_bytes!("../../../models/sotu-tiny/model.safetensors");

/// Where a model's weights came from (shown on the page as `source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Bundled,
    Dir,
    Hub,
}

impl Source {
    pub fn label(self) -> &'static str {
        match self {
            Source::Bundled => "bundled",
            Source::Dir => "dir",
            Source::Hub => "hub",
        }
    }
}

/// The model built into the binary.
pub fn bundled() -> Result<Model> {
    Model::from_bytes(BUNDLED_MODEL, BUNDLED_CONFIG, BUNDLED_WEIGHTS)
        .context("loading the bundled model")
}

/// Loads what `name` names: the bundled model, an existing directory or `.gguf` file, else a hub id
/// (downloaded with a progress bar). With no name: GPT-2 when cached, else the bundled model.
pub fn load(name: Option<&str>) -> Result<(Model, Source)> {
    load_with(name, DType::F32)
}

/// Like [`load`], with the weight matrices of a directory or hub model stored as `dtype`
/// (the bundled model is small enough to stay f32).
pub fn load_with(name: Option<&str>, dtype: DType) -> Result<(Model, Source)> {
    match name {
        Some(name) if BUNDLED_ALIASES.contains(&name) => Ok((bundled()?, Source::Bundled)),
        Some(name) if Path::new(name).exists() => {
            let model = Model::load_with(Path::new(name), &path_label(Path::new(name)), dtype)
                .with_context(|| format!("loading {name}"))?;
            Ok((model, Source::Dir))
        }
        Some(name) if looks_like_path(name) => bail!("{name}: no such file or directory"),
        Some(name) => {
            let dir = nexttoken_hub::resolve(
                &HubConfig::from_env(),
                name,
                "main",
                &IndicatifProgress::new(),
            )?;
            Ok((load_snapshot(&dir, name, dtype)?, Source::Hub))
        }
        None => match cached_default(&HubConfig::from_env()) {
            Some(dir) => Ok((load_snapshot(&dir, DEFAULT_MODEL, dtype)?, Source::Hub)),
            None => {
                eprintln!(
                    "note: {DEFAULT_MODEL} is not in the Hugging Face cache, so the bundled \
                     {BUNDLED_MODEL} model runs; `--model {DEFAULT_MODEL}` downloads GPT-2"
                );
                Ok((bundled()?, Source::Bundled))
            }
        },
    }
}

/// What a local model is called where others see it (the page, a trace): its directory's or
/// file's own name, never the path to it.
fn path_label(path: &Path) -> String {
    let absolute = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    match absolute.file_name() {
        Some(name) => name.to_string_lossy().into_owned(),
        None => "local model".into(),
    }
}

/// A name that can only be meant as a path: it starts like one. A hub id is `name` or
/// `org/name`.
fn looks_like_path(name: &str) -> bool {
    name.starts_with(['/', '.', '~']) || name.contains('\\') || name.matches('/').count() > 1
}

/// GPT-2's snapshot directory when the cache holds all of it.
pub fn cached_default(hub: &HubConfig) -> Option<PathBuf> {
    nexttoken_hub::cached(hub, DEFAULT_MODEL, "main")
}

/// Loads a downloaded hub snapshot with its weight matrices stored as `dtype`.
pub fn load_snapshot(dir: &Path, name: &str, dtype: DType) -> Result<Model> {
    Model::load_with(dir, name, dtype)
        .with_context(|| format!("loading {name} from {}", dir.display()))
}

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
            Ok((noted(model), Source::Dir))
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
    let model = Model::load_with(dir, name, dtype)
        .with_context(|| format!("loading {name} from {}", dir.display()))?;
    Ok(noted(model))
}

/// Says on stderr what the load assumed (see `Model::notes`).
fn noted(model: Model) -> Model {
    for note in &model.notes {
        eprintln!("note: {note}");
    }
    model
}

/// GPT-2's vocabulary size: a model with its own vocabulary of this size has GPT-2's.
const GPT2_VOCAB_SIZE: u32 = 50_257;

/// A model's files as they are on disk (or in the binary), for a live site to serve.
pub struct ModelFiles {
    /// What the model is called where others see it.
    pub name: String,
    pub config: String,
    /// `None`: the bundled model's weights, in the binary.
    weights: Option<PathBuf>,
}

/// The files of what `name` names (the bundled model, a directory in Hugging Face layout, or a
/// hub id, downloaded when missing). The browser engine runs GPT-2's architecture and
/// vocabulary from safetensors, so other models are refused here, before anything is written.
pub fn files(name: &str) -> Result<ModelFiles> {
    if BUNDLED_ALIASES.contains(&name) {
        return Ok(ModelFiles {
            name: BUNDLED_MODEL.into(),
            config: BUNDLED_CONFIG.into(),
            weights: None,
        });
    }
    let (dir, label) = if Path::new(name).is_dir() {
        (PathBuf::from(name), path_label(Path::new(name)))
    } else if looks_like_path(name) {
        bail!("{name}: no such directory");
    } else {
        let hub = HubConfig::from_env();
        let dir = nexttoken_hub::resolve(&hub, name, "main", &IndicatifProgress::new())?;
        (dir, name.to_string())
    };
    let config = std::fs::read_to_string(dir.join("config.json"))
        .with_context(|| format!("reading {}", dir.join("config.json").display()))?;
    let config_json: serde_json::Value = serde_json::from_str(&config)
        .with_context(|| format!("reading {}", dir.join("config.json").display()))?;
    // The engine tokenizes with GPT-2's vocabulary (built in); a model whose own vocabulary
    // has another size cannot be meant to read it.
    let gpt2 = config_json["model_type"] == "gpt2";
    let own_vocab = ["vocab.json", "tokenizer.json"]
        .iter()
        .any(|f| dir.join(f).is_file())
        && config_json["vocab_size"] != GPT2_VOCAB_SIZE;
    if !gpt2 || own_vocab || !dir.join("model.safetensors").is_file() {
        bail!(
            "{name}: the browser engine runs GPT-2 models with GPT-2's vocabulary from \
             model.safetensors; this is not one"
        );
    }
    Ok(ModelFiles {
        name: label,
        config,
        weights: Some(dir.join("model.safetensors")),
    })
}

impl ModelFiles {
    /// Where the weights came from, as the page's `/api/model` says it.
    pub fn source_label(&self) -> &'static str {
        match self.weights {
            None => "bundled",
            Some(_) => "site",
        }
    }

    pub fn weights(&self) -> Result<Vec<u8>> {
        match &self.weights {
            None => Ok(BUNDLED_WEIGHTS.to_vec()),
            Some(path) => {
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))
            }
        }
    }

    /// The weights file, for models that have one.
    pub fn weights_path(&self) -> Result<PathBuf> {
        self.weights
            .clone()
            .with_context(|| format!("{} is built into nexttoken and has no file", self.name))
    }
}

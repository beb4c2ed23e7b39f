//! A loadable model: an architecture's weights plus the tokenizer that goes with them; and
//! [`Forward`], the one seam through which generation, the trace, analysis and the server run
//! it.

use std::path::Path;
use std::sync::Arc;

use crate::analysis::recorder::Recorder;
use crate::arch::gpt2::config::Config;
use crate::arch::gpt2::forward::Gpt2;
use crate::arch::gpt2::weights::Weights;
use crate::arch::llama::{self, forward::Llama};
use crate::arch::{Architecture, Dims, KvCache};
use crate::checkpoint::checks;
use crate::checkpoint::gguf::Gguf;
use crate::checkpoint::safetensors::SafetensorsFile;
use crate::compute::buf::{DType, Image};
use crate::tokenizer::Tokenizer;
use crate::{Error, Result};

pub struct Model {
    /// What the user asked for (`gpt2`, a path, ...), shown on the page and in traces.
    pub name: String,
    pub arch: Box<dyn Architecture>,
    pub tokenizer: Tokenizer,
    /// What the load assumed that the files did not say (a GPT-2 directory without tokenizer
    /// files reads GPT-2's built-in vocabulary), for a binary to show.
    pub notes: Vec<String>,
    /// The tokens that end the model's text (see [`Model::ends_text`]), ascending.
    pub eos: Vec<u32>,
}

/// How a model is run: a [`Model`] runs a pass at once on the caller's thread; a
/// [`crate::batcher::Session`] runs it in a batch with other generations' passes. Whoever
/// runs passes (a generator, a trace, a view) takes any `Forward` and never asks which.
pub trait Forward {
    /// The model the passes run on.
    fn model(&self) -> &Model;

    /// Runs `tokens` after the positions already in `cache` and returns the logits (V,) of
    /// the last; `rec` sees the activations of the new positions.
    fn forward(
        &self,
        tokens: &[u32],
        cache: &mut KvCache,
        rec: &mut dyn Recorder,
    ) -> Result<Vec<f32>>;
}

impl Model {
    /// Loads a checkpoint: a directory in Hugging Face layout (`config.json`, whose
    /// `model_type` names the family, `model.safetensors`, and the tokenizer's files; GPT-2's
    /// own vocabulary when a GPT-2 has none), or a `.gguf` file.
    pub fn load(path: &Path, name: &str) -> Result<Model> {
        Model::load_with(path, name, DType::F32)
    }

    /// Like [`Model::load`], with the weight matrices stored as `dtype` (see
    /// [`Weights::load_as`]): 16-bit halves the memory and the bytes each decode step reads.
    pub fn load_with(path: &Path, name: &str, dtype: DType) -> Result<Model> {
        if path.extension().is_some_and(|e| e == "gguf") && path.is_file() {
            return Model::load_gguf(path, name, dtype);
        }
        let config_path = path.join("config.json");
        let text = checks::read_text(&config_path, checks::MAX_CONFIG_BYTES)?;
        let bad = |msg: String| Error::Config {
            path: config_path.clone(),
            msg,
        };
        let weights = path.join("model.safetensors");
        match model_type(&text).map_err(bad)?.as_deref() {
            Some("llama") => {
                let config = llama::config::Config::from_json(&text).map_err(bad)?;
                let file = SafetensorsFile::read(&weights)?;
                let weights = llama::weights::Weights::from_safetensors(&file, &config, dtype)?;
                let tokenizer = Tokenizer::from_tokenizer_files(path)?;
                let arch = Box::new(Llama::new(config, weights));
                Model::assemble(name, arch, tokenizer, &config_path, declared_eos(&text))
            }
            Some("gpt2") | None => {
                let config = Config::from_json(&text).map_err(bad)?;
                let weights = Weights::load_as(&weights, &config, dtype)?;
                let (tokenizer, note) = match Tokenizer::from_dir(path)? {
                    Some(own) => (own, None),
                    None => (Tokenizer::gpt2(), Some(builtin_vocabulary(path))),
                };
                let arch = Box::new(Gpt2::new(config, weights));
                let declared = declared_eos(&text);
                let mut model = Model::assemble(name, arch, tokenizer, &config_path, declared)?;
                model.notes.extend(note);
                Ok(model)
            }
            Some(other) => Err(bad(format!(
                "model_type {other:?}: nexttoken runs \"gpt2\" and \"llama\" checkpoints"
            ))),
        }
    }

    /// Loads a GGUF file (a Llama), its weights dequantised and stored as `dtype`, with the
    /// tokenizer it carries.
    pub fn load_gguf(path: &Path, name: &str, dtype: DType) -> Result<Model> {
        let file = Gguf::open(path)?;
        let arch = file.string("general.architecture")?;
        if arch != "llama" {
            return Err(Error::Format {
                path: path.to_path_buf(),
                msg: format!("GGUF architecture {arch:?}: nexttoken runs \"llama\" GGUF files"),
            });
        }
        let config = llama::config::Config::from_gguf(&file)?;
        let tokenizer = Tokenizer::from_gguf(&file)?;
        let weights = llama::weights::Weights::from_gguf(&file, &config, dtype)?;
        let eos = file.uint("tokenizer.ggml.eos_token_id").ok();
        let declared = eos
            .and_then(|id| u32::try_from(id).ok())
            .into_iter()
            .collect();
        let arch = Box::new(Llama::new(config, weights));
        Model::assemble(name, arch, tokenizer, path, declared)
    }

    /// A model held in memory (embedded in a binary) that uses GPT-2's vocabulary.
    pub fn from_bytes(name: &str, config_json: &str, safetensors: &[u8]) -> Result<Model> {
        let label = Path::new(name);
        let config = Config::from_json(config_json).map_err(|msg| Error::Config {
            path: label.join("config.json"),
            msg,
        })?;
        let weights = Weights::from_bytes(safetensors, &label.join("model.safetensors"), &config)?;
        let arch = Box::new(Gpt2::new(config, weights));
        let declared = declared_eos(config_json);
        Model::assemble(
            name,
            arch,
            Tokenizer::gpt2(),
            &label.join("config.json"),
            declared,
        )
    }

    /// A model whose `model.safetensors` is already in memory (see [`Weights::from_image`]),
    /// with GPT-2's vocabulary.
    pub fn from_image(
        name: &str,
        config_json: &str,
        image: Arc<Image>,
        dtype: DType,
    ) -> Result<Model> {
        let label = Path::new(name);
        let config = Config::from_json(config_json).map_err(|msg| Error::Config {
            path: label.join("config.json"),
            msg,
        })?;
        let weights = Weights::from_image(image, &label.join("model.safetensors"), &config, dtype)?;
        let arch = Box::new(Gpt2::new(config, weights));
        let declared = declared_eos(config_json);
        Model::assemble(
            name,
            arch,
            Tokenizer::gpt2(),
            &label.join("config.json"),
            declared,
        )
    }

    fn assemble(
        name: &str,
        arch: Box<dyn Architecture>,
        tokenizer: Tokenizer,
        config_path: &Path,
        declared: Vec<u32>,
    ) -> Result<Model> {
        let vocab_size = arch.dims().vocab_size;
        if tokenizer.vocab_size() > vocab_size {
            return Err(Error::Config {
                path: config_path.to_path_buf(),
                msg: format!(
                    "vocab_size = {vocab_size} but the tokenizer has {} tokens",
                    tokenizer.vocab_size()
                ),
            });
        }
        // `<|endoftext|>` separates documents in the training text: after it comes another,
        // unrelated one, so it ends the text even where the checkpoint names another token.
        let mut eos: Vec<u32> = declared.into_iter().chain(tokenizer.eot_id()).collect();
        eos.retain(|&id| (id as usize) < vocab_size);
        eos.sort_unstable();
        eos.dedup();
        Ok(Model {
            name: name.to_string(),
            arch,
            tokenizer,
            notes: Vec::new(),
            eos,
        })
    }

    /// Whether `id` ends the model's text: its end-of-sequence token (`config.json`'s
    /// `eos_token_id`, one or a list, or a GGUF's `tokenizer.ggml.eos_token_id`: SmolLM2
    /// Instruct's `<|im_end|>` ends its answer), or `<|endoftext|>`. Generation stops after it.
    pub fn ends_text(&self, id: u32) -> bool {
        self.eos.binary_search(&id).is_ok()
    }

    /// The hyperparameters every architecture shares.
    pub fn config(&self) -> &Dims {
        self.arch.dims()
    }

    /// Runs `tokens` after the positions in `cache`: the logits (V,) of the last.
    pub fn forward(
        &self,
        tokens: &[u32],
        cache: &mut KvCache,
        rec: &mut dyn Recorder,
    ) -> Result<Vec<f32>> {
        self.arch.forward(tokens, cache, rec)
    }

    /// Encodes a prompt, refusing one that is empty or longer than the context.
    pub fn encode_prompt(&self, prompt: &str) -> Result<Vec<u32>> {
        let ids = self.tokenizer.encode(prompt);
        let max = self.config().n_positions;
        if ids.is_empty() {
            return Err(Error::Input(
                "the prompt is empty: type at least one character".into(),
            ));
        }
        if ids.len() > max {
            return Err(Error::Input(format!(
                "the prompt is {} tokens; this model reads at most {max}",
                ids.len()
            )));
        }
        Ok(ids)
    }
}

fn builtin_vocabulary(dir: &Path) -> String {
    format!(
        "{} has no vocab.json + merges.txt or tokenizer.json: it reads GPT-2's own vocabulary, \
         built into nexttoken",
        dir.display()
    )
}

/// `config.json`'s `eos_token_id`: one id, a list of them, or none.
fn declared_eos(text: &str) -> Vec<u32> {
    let config: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    let id = |v: &serde_json::Value| v.as_u64().and_then(|id| u32::try_from(id).ok());
    match &config["eos_token_id"] {
        serde_json::Value::Array(ids) => ids.iter().filter_map(id).collect(),
        one => id(one).into_iter().collect(),
    }
}

/// `config.json`'s `model_type`, if it has one.
fn model_type(text: &str) -> std::result::Result<Option<String>, String> {
    #[derive(serde::Deserialize)]
    struct Typed {
        model_type: Option<String>,
    }
    let typed: Typed = serde_json::from_str(text).map_err(|e| e.to_string())?;
    Ok(typed.model_type)
}

impl Forward for Model {
    fn model(&self) -> &Model {
        self
    }

    fn forward(
        &self,
        tokens: &[u32],
        cache: &mut KvCache,
        rec: &mut dyn Recorder,
    ) -> Result<Vec<f32>> {
        Model::forward(self, tokens, cache, rec)
    }
}

impl<F: Forward + ?Sized> Forward for &F {
    fn model(&self) -> &Model {
        (**self).model()
    }

    fn forward(
        &self,
        tokens: &[u32],
        cache: &mut KvCache,
        rec: &mut dyn Recorder,
    ) -> Result<Vec<f32>> {
        (**self).forward(tokens, cache, rec)
    }
}

impl<F: Forward + ?Sized> Forward for Arc<F> {
    fn model(&self) -> &Model {
        (**self).model()
    }

    fn forward(
        &self,
        tokens: &[u32],
        cache: &mut KvCache,
        rec: &mut dyn Recorder,
    ) -> Result<Vec<f32>> {
        (**self).forward(tokens, cache, rec)
    }
}

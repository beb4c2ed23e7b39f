//! A loadable model: an architecture's weights plus the tokenizer that goes with them; and
//! [`Forward`], the one seam through which generation, the trace, analysis and the server run
//! it.

use std::path::Path;
use std::sync::Arc;

use crate::analysis::recorder::Recorder;
use crate::arch::gpt2::config::Config;
use crate::arch::gpt2::forward::Gpt2;
use crate::arch::gpt2::weights::Weights;
use crate::arch::{Architecture, Dims, KvCache};
use crate::compute::buf::DType;
use crate::tokenizer::Tokenizer;
use crate::{Error, Result};

pub struct Model {
    /// What the user asked for (`gpt2`, a path, ...), shown on the page and in traces.
    pub name: String,
    pub arch: Box<dyn Architecture>,
    pub tokenizer: Tokenizer,
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
    /// Loads a directory in Hugging Face layout: `config.json`, `model.safetensors`, and
    /// `vocab.json` + `merges.txt` or `tokenizer.json` (GPT-2's own vocabulary when absent).
    pub fn load(dir: &Path, name: &str) -> Result<Model> {
        Model::load_with(dir, name, DType::F32)
    }

    /// Like [`Model::load`], with the weight matrices stored as `dtype` (see
    /// [`Weights::load_as`]): 16-bit halves the memory and the bytes each decode step reads.
    pub fn load_with(dir: &Path, name: &str, dtype: DType) -> Result<Model> {
        let config = Config::from_file(&dir.join("config.json"))?;
        let weights = Weights::load_as(&dir.join("model.safetensors"), &config, dtype)?;
        let tokenizer = Tokenizer::from_dir(dir)?.unwrap_or_else(Tokenizer::gpt2);
        Model::assemble(name, config, weights, tokenizer, &dir.join("config.json"))
    }

    /// A model held in memory (embedded in a binary) that uses GPT-2's vocabulary.
    pub fn from_bytes(name: &str, config_json: &str, safetensors: &[u8]) -> Result<Model> {
        let label = Path::new(name);
        let config = Config::from_json(config_json).map_err(|msg| Error::Config {
            path: label.join("config.json"),
            msg,
        })?;
        let weights = Weights::from_bytes(safetensors, &label.join("model.safetensors"), &config)?;
        Model::assemble(
            name,
            config,
            weights,
            Tokenizer::gpt2(),
            &label.join("config.json"),
        )
    }

    fn assemble(
        name: &str,
        config: Config,
        weights: Weights,
        tokenizer: Tokenizer,
        config_path: &Path,
    ) -> Result<Model> {
        if tokenizer.vocab_size() > config.vocab_size {
            return Err(Error::Config {
                path: config_path.to_path_buf(),
                msg: format!(
                    "vocab_size = {} but the tokenizer has {} tokens",
                    config.vocab_size,
                    tokenizer.vocab_size()
                ),
            });
        }
        Ok(Model {
            name: name.to_string(),
            arch: Box::new(Gpt2::new(config, weights)),
            tokenizer,
        })
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

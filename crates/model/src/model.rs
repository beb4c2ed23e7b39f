//! A loadable model: GPT-2 weights plus the tokenizer that goes with them.

use std::path::Path;

use crate::arch::gpt2::config::Config;
use crate::arch::gpt2::forward::Gpt2;
use crate::arch::gpt2::weights::Weights;
use crate::compute::buf::DType;
use crate::tokenizer::Tokenizer;
use crate::{Error, Result};

pub struct Model {
    /// What the user asked for (`gpt2`, a path, ...), shown on the page and in traces.
    pub name: String,
    pub gpt2: Gpt2,
    pub tokenizer: Tokenizer,
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
            gpt2: Gpt2::new(config, weights),
            tokenizer,
        })
    }

    pub fn config(&self) -> &Config {
        &self.gpt2.config
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

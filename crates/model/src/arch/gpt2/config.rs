//! `config.json` in the Hugging Face GPT-2 layout.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::checkpoint::checks;
use crate::{Error, Result};

/// The activation inside the MLP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// GPT-2's tanh approximation (`gelu_new`, also called `gelu_pytorch_tanh`).
    GeluNew,
    /// The exact erf form (`gelu`).
    Gelu,
    Relu,
}

/// The hyperparameters of a GPT-2 checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    pub n_layer: usize,
    pub n_head: usize,
    pub n_embd: usize,
    /// Width of the MLP's hidden layer (`n_inner`, 4 × n_embd when absent).
    pub n_inner: usize,
    pub n_positions: usize,
    pub vocab_size: usize,
    pub layer_norm_epsilon: f32,
    pub activation: Activation,
}

/// The fields as they appear on disk. Missing ones take `GPT2Config`'s defaults, as HF does.
#[derive(Deserialize)]
struct RawConfig {
    model_type: Option<String>,
    n_layer: Option<usize>,
    n_head: Option<usize>,
    n_embd: Option<usize>,
    n_inner: Option<usize>,
    n_positions: Option<usize>,
    vocab_size: Option<usize>,
    layer_norm_epsilon: Option<f64>,
    activation_function: Option<String>,
    scale_attn_weights: Option<bool>,
    scale_attn_by_inverse_layer_idx: Option<bool>,
}

/// Bounds that keep a hostile or mistyped config from asking for absurd allocations.
const MAX_LAYERS: usize = 256;
const MAX_WIDTH: usize = 1 << 16;
const MAX_VOCAB: usize = 1 << 20;
const MAX_POSITIONS: usize = 1 << 17;

impl Config {
    /// GPT-2 small: 12 layers × 12 heads, d = 768, 1,024 positions, 50,257 tokens.
    pub fn gpt2_small() -> Config {
        Config {
            n_layer: 12,
            n_head: 12,
            n_embd: 768,
            n_inner: 3072,
            n_positions: 1024,
            vocab_size: 50257,
            layer_norm_epsilon: 1e-5,
            activation: Activation::GeluNew,
        }
    }

    pub fn head_dim(&self) -> usize {
        self.n_embd / self.n_head
    }

    /// Reads and validates `config.json`.
    pub fn from_file(path: &Path) -> Result<Config> {
        let text = checks::read_text(path, checks::MAX_CONFIG_BYTES)?;
        Config::from_json(&text).map_err(|msg| Error::Config {
            path: path.to_path_buf(),
            msg,
        })
    }

    /// Parses and validates the JSON text of a config; the error is a plain message.
    pub fn from_json(text: &str) -> std::result::Result<Config, String> {
        let raw: RawConfig = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let small = Config::gpt2_small();
        if let Some(t) = raw.model_type.as_deref() {
            if t != "gpt2" {
                return Err(format!("model_type is {t:?}, only \"gpt2\" is supported"));
            }
        }
        if raw.scale_attn_weights == Some(false)
            || raw.scale_attn_by_inverse_layer_idx == Some(true)
        {
            return Err(
                "only GPT-2's standard 1/sqrt(head_dim) attention scaling is supported".into(),
            );
        }
        let n_embd = raw.n_embd.unwrap_or(small.n_embd);
        let config = Config {
            n_layer: raw.n_layer.unwrap_or(small.n_layer),
            n_head: raw.n_head.unwrap_or(small.n_head),
            n_embd,
            n_inner: raw.n_inner.unwrap_or(4 * n_embd),
            n_positions: raw.n_positions.unwrap_or(small.n_positions),
            vocab_size: raw.vocab_size.unwrap_or(small.vocab_size),
            layer_norm_epsilon: raw.layer_norm_epsilon.unwrap_or(1e-5) as f32,
            activation: parse_activation(raw.activation_function.as_deref())?,
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> std::result::Result<(), String> {
        let bounded = [
            ("n_layer", self.n_layer, MAX_LAYERS),
            ("n_head", self.n_head, MAX_WIDTH),
            ("n_embd", self.n_embd, MAX_WIDTH),
            ("n_inner", self.n_inner, 4 * MAX_WIDTH),
            ("n_positions", self.n_positions, MAX_POSITIONS),
            ("vocab_size", self.vocab_size, MAX_VOCAB),
        ];
        for (name, value, max) in bounded {
            if value == 0 || value > max {
                return Err(format!("{name} = {value} is outside 1..={max}"));
            }
        }
        if !self.n_embd.is_multiple_of(self.n_head) {
            return Err(format!(
                "n_embd = {} is not divisible by n_head = {}",
                self.n_embd, self.n_head
            ));
        }
        let eps = self.layer_norm_epsilon;
        if !(eps.is_finite() && eps > 0.0) {
            return Err(format!(
                "layer_norm_epsilon = {eps} must be a positive number"
            ));
        }
        Ok(())
    }
}

fn parse_activation(name: Option<&str>) -> std::result::Result<Activation, String> {
    match name.unwrap_or("gelu_new") {
        "gelu_new" | "gelu_pytorch_tanh" => Ok(Activation::GeluNew),
        "gelu" => Ok(Activation::Gelu),
        "relu" => Ok(Activation::Relu),
        other => Err(format!("activation_function {other:?} is not supported")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_gpt2_small() {
        assert_eq!(Config::from_json("{}").unwrap(), Config::gpt2_small());
    }

    #[test]
    fn reads_fields() {
        let c = Config::from_json(
            r#"{"n_layer":2,"n_head":4,"n_embd":32,"n_positions":64,"vocab_size":100,
                "layer_norm_epsilon":1e-6,"activation_function":"gelu","n_inner":null}"#,
        )
        .unwrap();
        assert_eq!((c.n_layer, c.n_head, c.n_embd, c.n_inner), (2, 4, 32, 128));
        assert_eq!((c.n_positions, c.vocab_size, c.head_dim()), (64, 100, 8));
        assert_eq!(c.activation, Activation::Gelu);
        assert_eq!(c.layer_norm_epsilon, 1e-6);
    }

    #[test]
    fn rejects_bad_configs() {
        for bad in [
            r#"{"n_embd":30,"n_head":4}"#,
            r#"{"n_layer":0}"#,
            r#"{"vocab_size":100000000}"#,
            r#"{"activation_function":"swish"}"#,
            r#"{"model_type":"llama"}"#,
            r#"{"layer_norm_epsilon":-1}"#,
            r#"{"n_layer":"two"}"#,
            "not json",
        ] {
            assert!(Config::from_json(bad).is_err(), "{bad} should be rejected");
        }
    }
}

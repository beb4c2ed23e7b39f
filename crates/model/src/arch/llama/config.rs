//! Llama's hyperparameters, from a Hugging Face `config.json` or a GGUF file's metadata.

use serde::Deserialize;

use crate::checkpoint::gguf::Gguf;
use crate::Result;

/// The hyperparameters of a Llama-family checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    /// Key/value heads: each serves `num_attention_heads / num_key_value_heads` query heads.
    pub num_key_value_heads: usize,
    pub hidden_size: usize,
    pub head_dim: usize,
    /// Width of the gated MLP's hidden layer.
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    pub vocab_size: usize,
    pub rms_norm_eps: f32,
    /// The base of the rotary angles: pair i of a head turns by position × base^(−2i/D).
    pub rope_theta: f32,
    /// Whether the unembedding is the token embedding (no `lm_head` of its own).
    pub tie_word_embeddings: bool,
}

/// The fields as `LlamaConfig` writes them; missing ones take its defaults.
#[derive(Deserialize)]
struct RawConfig {
    num_hidden_layers: usize,
    num_attention_heads: usize,
    num_key_value_heads: Option<usize>,
    hidden_size: usize,
    head_dim: Option<usize>,
    intermediate_size: usize,
    max_position_embeddings: Option<usize>,
    vocab_size: usize,
    rms_norm_eps: Option<f64>,
    rope_theta: Option<f64>,
    tie_word_embeddings: Option<bool>,
    hidden_act: Option<String>,
    rope_scaling: Option<serde_json::Value>,
    /// transformers 5 writes `{"rope_theta": ..., "rope_type": "default"}` here instead.
    rope_parameters: Option<serde_json::Value>,
    attention_bias: Option<bool>,
    mlp_bias: Option<bool>,
}

/// Bounds that keep a hostile or mistyped config from asking for absurd allocations.
const MAX_LAYERS: usize = 256;
const MAX_WIDTH: usize = 1 << 16;
const MAX_VOCAB: usize = 1 << 20;
const MAX_POSITIONS: usize = 1 << 17;

impl Config {
    /// Parses and validates the JSON text of a `config.json` whose `model_type` is `llama`.
    pub fn from_json(text: &str) -> std::result::Result<Config, String> {
        let raw: RawConfig = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if raw.hidden_act.as_deref().is_some_and(|a| a != "silu") {
            return Err(format!(
                "hidden_act {:?}: only silu is supported",
                raw.hidden_act
            ));
        }
        if raw.rope_scaling.as_ref().is_some_and(|s| !s.is_null()) {
            return Err("rope_scaling is not supported (plain rotary angles only)".into());
        }
        if raw.attention_bias == Some(true) || raw.mlp_bias == Some(true) {
            return Err("biases in attention or the MLP are not supported".into());
        }
        let mut rope_theta = raw.rope_theta;
        if let Some(p) = raw.rope_parameters.as_ref().filter(|p| !p.is_null()) {
            if p["rope_type"] != "default" {
                return Err(format!(
                    "rope_parameters {p}: only the default rotary angles"
                ));
            }
            rope_theta = rope_theta.or(p["rope_theta"].as_f64());
        }
        let heads = raw.num_attention_heads;
        let config = Config {
            num_hidden_layers: raw.num_hidden_layers,
            num_attention_heads: heads,
            num_key_value_heads: raw.num_key_value_heads.unwrap_or(heads),
            hidden_size: raw.hidden_size,
            head_dim: raw.head_dim.unwrap_or(raw.hidden_size / heads.max(1)),
            intermediate_size: raw.intermediate_size,
            max_position_embeddings: raw.max_position_embeddings.unwrap_or(2048),
            vocab_size: raw.vocab_size,
            rms_norm_eps: raw.rms_norm_eps.unwrap_or(1e-6) as f32,
            rope_theta: rope_theta.unwrap_or(10000.0) as f32,
            tie_word_embeddings: raw.tie_word_embeddings.unwrap_or(false),
        };
        config.validate()?;
        Ok(config)
    }

    /// The hyperparameters of a GGUF file whose `general.architecture` is `llama`. The
    /// embedding is tied when the file has no `output.weight`.
    pub fn from_gguf(g: &Gguf) -> Result<Config> {
        let n = |key: &str| -> Result<usize> { Ok(g.uint(&format!("llama.{key}"))? as usize) };
        let heads = n("attention.head_count")?;
        let hidden = n("embedding_length")?;
        let vocab = match g.uint("llama.vocab_size") {
            Ok(v) => v as usize,
            Err(_) => g.array("tokenizer.ggml.tokens")?.len(),
        };
        let config = Config {
            num_hidden_layers: n("block_count")?,
            num_attention_heads: heads,
            num_key_value_heads: n("attention.head_count_kv").unwrap_or(heads),
            hidden_size: hidden,
            head_dim: n("rope.dimension_count").unwrap_or(hidden / heads.max(1)),
            intermediate_size: n("feed_forward_length")?,
            max_position_embeddings: n("context_length")?,
            vocab_size: vocab,
            rms_norm_eps: g.float("llama.attention.layer_norm_rms_epsilon")? as f32,
            rope_theta: g.float("llama.rope.freq_base").unwrap_or(10000.0) as f32,
            tie_word_embeddings: !g.has("output.weight"),
        };
        config.validate().map_err(|msg| crate::Error::Config {
            path: g.path().to_path_buf(),
            msg,
        })?;
        Ok(config)
    }

    fn validate(&self) -> std::result::Result<(), String> {
        let bounded = [
            ("num_hidden_layers", self.num_hidden_layers, MAX_LAYERS),
            ("num_attention_heads", self.num_attention_heads, MAX_WIDTH),
            ("num_key_value_heads", self.num_key_value_heads, MAX_WIDTH),
            ("hidden_size", self.hidden_size, MAX_WIDTH),
            ("head_dim", self.head_dim, MAX_WIDTH),
            ("intermediate_size", self.intermediate_size, 8 * MAX_WIDTH),
            (
                "max_position_embeddings",
                self.max_position_embeddings,
                MAX_POSITIONS,
            ),
            ("vocab_size", self.vocab_size, MAX_VOCAB),
        ];
        for (name, value, max) in bounded {
            if value == 0 || value > max {
                return Err(format!("{name} = {value} is outside 1..={max}"));
            }
        }
        if !self
            .num_attention_heads
            .is_multiple_of(self.num_key_value_heads)
        {
            return Err(format!(
                "{} query heads cannot share {} key/value heads evenly",
                self.num_attention_heads, self.num_key_value_heads
            ));
        }
        if !self.head_dim.is_multiple_of(2) {
            return Err(format!(
                "head_dim = {} is odd: rotary angles turn pairs",
                self.head_dim
            ));
        }
        let (eps, theta) = (self.rms_norm_eps, self.rope_theta);
        if !(eps.is_finite() && eps > 0.0 && theta.is_finite() && theta > 1.0) {
            return Err(format!(
                "rms_norm_eps = {eps} or rope_theta = {theta} is out of range"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_smollm2_135m() {
        let c = Config::from_json(
            r#"{"model_type":"llama","num_hidden_layers":30,"num_attention_heads":9,
                "num_key_value_heads":3,"hidden_size":576,"intermediate_size":1536,
                "max_position_embeddings":8192,"vocab_size":49152,"rms_norm_eps":1e-5,
                "rope_theta":100000,"tie_word_embeddings":true,"hidden_act":"silu",
                "rope_scaling":null}"#,
        )
        .unwrap();
        assert_eq!(
            (c.head_dim, c.num_key_value_heads, c.rope_theta),
            (64, 3, 1e5)
        );
        assert!(c.tie_word_embeddings);
    }

    #[test]
    fn rejects_what_it_would_get_wrong() {
        let base =
            r#""num_hidden_layers":2,"hidden_size":64,"intermediate_size":128,"vocab_size":100"#;
        for bad in [
            r#""num_attention_heads":4,"num_key_value_heads":3"#,
            r#""num_attention_heads":4,"hidden_act":"gelu""#,
            r#""num_attention_heads":4,"rope_scaling":{"type":"linear","factor":2}"#,
            r#""num_attention_heads":4,"attention_bias":true"#,
            r#""num_attention_heads":4,"rope_parameters":{"rope_type":"llama3","rope_theta":5e5}"#,
            r#""num_attention_heads":0"#,
            r#""num_attention_heads":4,"head_dim":7"#,
        ] {
            let text = format!("{{{base},{bad}}}");
            assert!(
                Config::from_json(&text).is_err(),
                "{bad} should be rejected"
            );
        }
    }
}

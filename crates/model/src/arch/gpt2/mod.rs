//! GPT-2 (and its siblings distilgpt2, gpt2-medium, -large, -xl): learned positions,
//! LayerNorm, GELU MLP, `Conv1D` layers, tied embeddings.

pub mod config;
pub mod forward;
pub mod weights;

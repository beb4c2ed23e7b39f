//! Llama and the models built like it (SmolLM2, TinyLlama, ...): rotary positions, RMSNorm, a
//! gated MLP, grouped key/value heads, `nn.Linear` layers without biases.

pub mod config;
pub mod forward;
pub mod weights;

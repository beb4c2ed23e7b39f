//! The loop: logits to a distribution and a token, one generation over its KV cache, many
//! generations batched together, and the serialisable trace of a run.

pub mod batcher;
pub mod explain;
pub mod generate;
pub mod sampling;
pub mod trace;

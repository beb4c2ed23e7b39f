//! Looking inside a run: recorders that receive activations by TransformerLens hook name,
//! the embedding norms, the logit lens, and attention heads read from their patterns.

pub mod embedding;
pub mod heads;
pub mod lens;
pub mod recorder;

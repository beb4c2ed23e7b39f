//! Looking inside a run: recorders that receive activations by TransformerLens hook name,
//! the embedding norms, the logit lens, attention heads read from their patterns, activation
//! patching (a recorder that overwrites) and each token's surprisal.

pub mod divergence;
pub mod embedding;
pub mod heads;
pub mod lens;
pub mod patch;
pub mod recorder;
pub mod surprisal;
mod sweep;

//! nexttoken-model: GPT-2 small written to be read.
//!
//! No web dependencies live here: the server and CLI crate depend on this one.

pub mod error;
pub mod tokenizer;

pub use error::{Error, Result};
pub use tokenizer::Tokenizer;

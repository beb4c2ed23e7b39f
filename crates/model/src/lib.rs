//! nexttoken-model: GPT-2 small written to be read.
//!
//! No web dependencies live here: the server and CLI crate depend on this one.

mod attention;
pub mod batcher;
mod buf;
pub mod config;
mod convert;
pub mod error;
pub mod explain;
pub mod forward;
pub mod generate;
pub mod heads;
pub mod kernels;
pub mod lens;
mod matmul;
pub mod model;
pub mod ops;
mod pages;
pub mod pool;
pub mod recorder;
pub mod sampling;
pub mod tokenizer;
pub mod trace;
pub mod weights;

pub use batcher::Batcher;
pub use buf::{Buf, DType, Data};
pub use config::Config;
pub use error::{Error, Result};
pub use forward::{Gpt2, KvCache, Sequence};
pub use generate::{GenerateOptions, Generator, Prefix};
pub use model::Model;
pub use recorder::{ActivationCache, NoRecorder, Recorder, ResidNorms};
pub use sampling::Sampling;
pub use tokenizer::Tokenizer;
pub use trace::{trace, trace_batched, trace_while, Trace};
pub use weights::Weights;

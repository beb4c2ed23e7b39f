//! nexttoken-model: GPT-2 small written to be read.
//!
//! No web dependencies live here: the server and CLI crate depend on this one.
//!
//! The crate is laid out in rooms by purpose:
//! - [`arch`]: each architecture's config, weights and forward pass;
//! - [`compute`]: weight buffers, matrix products, kernels and the thread pool;
//! - [`checkpoint`]: checkpoint files into weight buffers;
//! - [`generation`]: sampling, the generation loop, batching and the trace;
//! - [`analysis`]: recorders, the logit lens and attention heads;
//! - [`tokenizer`]: byte-level BPE.

pub mod analysis;
pub mod arch;
pub mod checkpoint;
pub mod compute;
pub mod error;
pub mod generation;
pub mod model;
pub mod tokenizer;

// The rooms' modules under their short names, as other crates know them.
pub use analysis::{divergence, embedding, heads, lens, patch, recorder, surprisal};
pub use compute::{kernels, ops, pool};
pub use generation::{batcher, explain, generate, sampling, trace};

pub use arch::gpt2::config::Config;
pub use arch::gpt2::forward::Gpt2;
pub use arch::gpt2::weights::Weights;
pub use arch::{Architecture, Dims, KvCache, Sequence, Stop};
pub use batcher::{Batcher, Session};
pub use compute::buf::{Buf, DType, Data, Image};
pub use error::{Error, Result};
pub use generate::{GenerateOptions, Generator, Prefix};
pub use model::{Forward, Model};
pub use recorder::{ActivationCache, NoRecorder, Recorder, ResidNorms};
pub use sampling::Sampling;
pub use tokenizer::Tokenizer;
pub use trace::{trace, trace_while, trace_with, Finish, Trace, Traced};

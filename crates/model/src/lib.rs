//! nexttoken-model: GPT-2 small written to be read.
//!
//! No web dependencies live here: the server and CLI crate depend on this one.

mod buf;
pub mod config;
pub mod error;
pub mod explain;
pub mod forward;
pub mod ops;
pub mod recorder;
pub mod sampling;
pub mod weights;

pub use buf::Buf;
pub use config::Config;
pub use error::{Error, Result};
pub use forward::{Gpt2, KvCache};
pub use recorder::{ActivationCache, NoRecorder, Recorder, ResidNorms};
pub use weights::Weights;

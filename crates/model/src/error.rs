//! Typed errors. The library never prints; binaries decide how to show these.

use std::path::PathBuf;

/// Everything that can go wrong while loading or running a model.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The io error is part of the message, not a `source`: a caller printing the chain
    /// (`{:#}`) would print it twice.
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: invalid config: {msg}", path.display())]
    Config { path: PathBuf, msg: String },
    #[error("{}: {msg}", path.display())]
    Format { path: PathBuf, msg: String },
    #[error("{}: tensor `{name}`: {msg}", path.display())]
    Tensor {
        path: PathBuf,
        name: String,
        msg: String,
    },
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// The checkpoint's chat template did not parse, or refused the conversation.
    #[error("chat template: {0}")]
    ChatTemplate(String),
    /// The caller asked for something the model cannot do (too many tokens, unknown id, ...).
    #[error("{0}")]
    Input(String),
    /// The pass was abandoned: its owner raised the [`Stop`](crate::arch::Stop) it carried.
    #[error("stopped: the run was abandoned")]
    Cancelled,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            error,
        }
    }
}

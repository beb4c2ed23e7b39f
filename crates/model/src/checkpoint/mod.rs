//! From checkpoint files to weight buffers: reading files into memory and converting stored
//! dtypes, without holding two copies of the weights; and GGUF, dequantised at load.

pub(crate) mod checks;
pub(crate) mod convert;
pub mod gguf;
mod gguf_header;
pub(crate) mod pages;
pub(crate) mod safetensors;

//! From checkpoint files to weight buffers: reading files into memory and converting stored
//! dtypes, without holding two copies of the weights.

pub(crate) mod convert;
pub(crate) mod pages;

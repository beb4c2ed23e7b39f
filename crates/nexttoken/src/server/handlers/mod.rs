//! One module per endpoint of docs/api.md.

pub mod attention;
pub mod bounds;
pub mod bpe;
pub mod compare;
pub mod distribution;
pub mod heads;
pub mod info;
pub mod lens;
pub mod step;
pub mod switch;
pub mod tokenize;
pub mod trace;
pub mod vocab;

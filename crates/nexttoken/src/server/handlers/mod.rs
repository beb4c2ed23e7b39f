//! One module per endpoint of docs/api.md.

pub mod distribution;
pub mod info;
pub mod step;
pub mod switch;
pub mod tokenize;
pub mod trace;

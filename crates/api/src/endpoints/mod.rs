//! One module per endpoint of docs/api.md: its request, its answer and the function between.

pub mod attention;
pub mod bpe;
pub mod chat;
pub mod compare;
pub mod distribution;
pub mod heads;
pub mod info;
pub mod lens;
pub mod pair;
pub mod patch;
pub mod step;
pub mod surprisal;
pub mod tokenize;
pub mod trace;
pub mod vocab;

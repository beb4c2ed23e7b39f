//! The `nexttoken` library: what the binary runs, exposed so the API tests can drive the
//! server's router in-process and the export without spawning the binary.

pub mod export;
pub mod live;
pub mod models;
pub mod server;

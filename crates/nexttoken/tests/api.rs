//! API tests: the real router and the tiny fixture model, in-process (no sockets).
//! One test binary; its modules live in `tests/api/`.

#[path = "api/helpers.rs"]
mod helpers;

#[path = "api/binary.rs"]
mod binary;
#[path = "api/connections.rs"]
mod connections;
#[path = "api/errors.rs"]
mod errors;
#[path = "api/export.rs"]
mod export;
#[path = "api/generation.rs"]
mod generation;
#[path = "api/guard.rs"]
mod guard;
#[path = "api/info.rs"]
mod info;
#[path = "api/memory.rs"]
mod memory;
#[path = "api/patch.rs"]
mod patch;
#[path = "api/pool.rs"]
mod pool;
#[path = "api/robustness.rs"]
mod robustness;
#[path = "api/static_files.rs"]
mod static_files;
#[path = "api/views.rs"]
mod views;
#[path = "api/views_bounds.rs"]
mod views_bounds;

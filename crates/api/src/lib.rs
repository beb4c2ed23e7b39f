//! nexttoken-api: the JSON API of docs/api.md, with no transport in it. Each endpoint is one
//! function from a parsed request to its answer, run against an [`Engine`] (a loaded model and
//! its caches); every bound a request must respect lives in [`bounds`]. The HTTP server (axum,
//! its pool and timeouts) and the browser engine (crates/wasm, in a Web Worker) both parse,
//! call and serialise through here, so the page gets the same JSON from either.

pub mod bounds;
pub mod endpoints;
mod engine;
mod error;
pub mod lab;
pub mod prefix_cache;
pub mod recent;
mod route;

pub use bounds::Bounds;
pub use endpoints::*;
pub use engine::Engine;
pub use error::Error;
pub use route::{handle, Answer};

/// A mutex's data even when another thread panicked holding it: every value kept under these
/// locks (caches) stays whole between statements.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

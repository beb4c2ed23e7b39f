//! The threads that share the work of a forward pass: one persistent pool, so the ~50 matrix
//! products of every decode step cost a wake-up each, not a thread spawn.
//!
//! WebAssembly without shared memory has one thread: there the work runs where it is called.

#[cfg(not(target_family = "wasm"))]
use std::sync::OnceLock;

#[cfg(not(target_family = "wasm"))]
use rayon::{ThreadPool, ThreadPoolBuilder};

#[cfg(not(target_family = "wasm"))]
static POOL: OnceLock<ThreadPool> = OnceLock::new();

/// `NEXTTOKEN_THREADS` when it is a positive number, else every available core.
#[cfg(not(target_family = "wasm"))]
pub fn threads() -> usize {
    pool().current_num_threads()
}

/// Runs `f` on the pool, where the matrix products inside it can split across the threads.
#[cfg(not(target_family = "wasm"))]
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    pool().install(f)
}

#[cfg(not(target_family = "wasm"))]
fn pool() -> &'static ThreadPool {
    POOL.get_or_init(|| {
        let threads = std::env::var("NEXTTOKEN_THREADS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("nexttoken-{i}"))
            .build()
            .expect("starting the thread pool")
    })
}

#[cfg(target_family = "wasm")]
pub fn threads() -> usize {
    1
}

#[cfg(target_family = "wasm")]
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    f()
}

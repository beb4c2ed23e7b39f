//! The threads that share the work of a forward pass: one persistent pool, so the ~50 matrix
//! products of every decode step cost a wake-up each, not a thread spawn.
//!
//! WebAssembly has one thread unless the program running the model hands it a pool ([`set`]):
//! a build with shared memory, whose threads are Web Workers the page started. Without one the
//! work runs where it is called.

use std::sync::OnceLock;

use rayon::ThreadPool;

static POOL: OnceLock<ThreadPool> = OnceLock::new();

/// How many threads share a forward pass: natively `NEXTTOKEN_THREADS` when it is a positive
/// number, else every available core.
pub fn threads() -> usize {
    pool().map_or(1, ThreadPool::current_num_threads)
}

/// Runs `f` on the pool, where the matrix products inside it can split across the threads.
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    match pool() {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

#[cfg(not(target_family = "wasm"))]
fn pool() -> Option<&'static ThreadPool> {
    Some(POOL.get_or_init(|| {
        let threads = std::env::var("NEXTTOKEN_THREADS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("nexttoken-{i}"))
            .build()
            .expect("starting the thread pool")
    }))
}

#[cfg(target_family = "wasm")]
fn pool() -> Option<&'static ThreadPool> {
    POOL.get()
}

/// Makes `pool` the one every forward pass runs on; it is handed back if one was set before.
/// The pool's threads must share this instance's memory.
#[cfg(target_family = "wasm")]
pub fn set(pool: ThreadPool) -> Result<(), ThreadPool> {
    POOL.set(pool)
}

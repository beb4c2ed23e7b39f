//! The engine on several threads: only in the build with shared memory (`+atomics`, see
//! crates/nexttoken/src/live/threads.rs), which pages served cross-origin isolated run.
//!
//! Each thread is a Web Worker holding an instance of this module on the same memory
//! (web/js/engine/threads.js). The page gives each a stack and a thread-local block from
//! [`nt_thread_alloc`], sets them, and calls [`nt_thread_run`], which waits for one of rayon's
//! threads to run; once every worker waits, [`nt_threads`] builds the pool, with the thread
//! that calls it as one of its threads, and every forward pass splits across them.
//!
//! Rayon's threads are handed over through a channel, not by starting a worker from inside
//! the build: a browser starts a worker only once the thread that asked for it returns to its
//! event loop, which a thread waiting for rayon never does.

use std::alloc::Layout;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{LazyLock, Mutex};

use nexttoken_model::compute::pool;
use rayon::{ThreadBuilder, ThreadPoolBuilder};

use crate::{finish, set_up};

/// Rayon's threads, from the pool's build to the workers waiting to run them.
static THREADS: LazyLock<(Sender<ThreadBuilder>, Mutex<Receiver<ThreadBuilder>>)> =
    LazyLock::new(|| {
        let (send, receive) = mpsc::channel();
        (send, Mutex::new(receive))
    });

/// `size` zeroed bytes aligned to `align`, never freed: a worker's stack or thread-local
/// block, which lives as long as the page. Null when the layout is invalid or memory is out.
#[no_mangle]
pub extern "C" fn nt_thread_alloc(size: usize, align: usize) -> *mut u8 {
    match Layout::from_size_align(size.max(1), align) {
        // SAFETY: the layout has a non-zero size.
        Ok(layout) => unsafe { std::alloc::alloc_zeroed(layout) },
        Err(_) => std::ptr::null_mut(),
    }
}

/// Runs one of the pool's threads on this worker, once [`nt_threads`] hands it over; returns
/// only if the pool is never built.
#[no_mangle]
pub extern "C" fn nt_thread_run() {
    let thread = THREADS.1.lock().map(|receive| receive.recv());
    if let Ok(Ok(thread)) = thread {
        thread.run();
    }
}

/// Builds the pool of `threads` threads: this one and `threads - 1` workers waiting in
/// [`nt_thread_run`]. Returns 0, or 1 with the error's message as the output.
#[no_mangle]
pub extern "C" fn nt_threads(threads: usize) -> u32 {
    set_up();
    let built = ThreadPoolBuilder::new()
        .num_threads(threads)
        .use_current_thread()
        .spawn_handler(|thread| {
            // The receiving end lives in a static: a send cannot fail.
            THREADS
                .0
                .send(thread)
                .map_err(|_| std::io::Error::other("no worker waits"))
        })
        .build()
        .map_err(|e| format!("the engine's threads could not start: {e}"))
        .and_then(|pool| {
            pool::set(pool).map_err(|_| "the engine's threads were started already".to_string())
        });
    finish(built.map(|()| Vec::new()))
}

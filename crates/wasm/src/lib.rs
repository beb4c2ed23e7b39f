//! The engine for the browser: `nexttoken-model` compiled to WebAssembly behind a handful of
//! plain `extern "C"` functions that take and give bytes (JSON, or a model's files). Their
//! other side is `web/js/engine/wasm.js`; a Web Worker owns the instance, so one model and one
//! call at a time. The build with shared memory adds threads (threads.rs): more workers, each
//! with an instance of its own on the same memory, that only ever run the pool's work.
//!
//! Buffers cross the boundary one way each: the page asks [`nt_alloc`] for room, writes its
//! bytes there and hands the buffer to a call, which owns and frees it. Answers wait in one
//! output buffer ([`nt_out_ptr`], [`nt_out_len`]) until the next call.

mod bench;
mod engine;
mod kernels;
mod memory;
#[cfg(target_feature = "atomics")]
mod threads;

pub use engine::Engine;
pub use memory::{nt_alloc, nt_free, nt_image, nt_out_len, nt_out_ptr};
#[cfg(target_feature = "atomics")]
pub use threads::{nt_thread_alloc, nt_thread_run, nt_threads};

use std::cell::RefCell;

use memory::{set_output, take, take_image};

thread_local! {
    static ENGINE: RefCell<Engine> = RefCell::new(Engine::default());
}

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "env")]
extern "C" {
    /// The browser's clock (`performance.now`), for the traces' `elapsed_ms`.
    fn nt_now() -> f64;

    /// Before each block of a pass (and after the last, `block == blocks`): the worker reports
    /// progress to the page and answers 0 to go on, 1 when the page cancelled the call, 2 to
    /// pause first in [`nt_pause`] (see web/js/engine/wasm.js).
    fn nt_layer(block: u32, blocks: u32, rows: u32) -> u32;

    /// A pause in which the worker reads its messages (WebAssembly's JavaScript Promise
    /// Integration suspends the call meanwhile); then 0 to go on or 1 to abandon the pass.
    fn nt_pause() -> u32;
}

/// Loads a model from the `model.safetensors` image made by [`nt_image`] (GPT-2's
/// vocabulary); `options` is JSON: `{"name", "config" (config.json's object), "dtype" (how
/// matrices are stored: f32, f16, bf16), "source" (where it came from, for /api/model)}`.
/// Returns 0, or 1 with the error's message as the output.
///
/// # Safety
/// `options` and its length must come from [`nt_alloc`], and are not used again by the
/// caller.
#[no_mangle]
pub unsafe extern "C" fn nt_load(options: *mut u8, options_len: usize) -> u32 {
    set_up();
    let options = take(options, options_len);
    let loaded = match take_image() {
        Some(image) => ENGINE.with_borrow_mut(|engine| engine.load(&options, image)),
        None => Err("no model.safetensors was written (nt_image) before the load".into()),
    };
    finish(loaded.map(|()| Vec::new()))
}

/// Times prefill and decoding on the loaded model as `nexttoken bench` does natively (see
/// bench.rs); `body` is JSON of its sizes. Returns 0 with the JSON report as the output, or
/// 1 with the error's message.
///
/// # Safety
/// As for [`nt_load`].
#[no_mangle]
pub unsafe extern "C" fn nt_bench(body: *mut u8, body_len: usize) -> u32 {
    set_up();
    let body = take(body, body_len);
    finish(ENGINE.with_borrow(|engine| engine.bench(&body)))
}

/// Checks the engine's kernels against the portable loops (kernels.rs) on values drawn from
/// `seed`. Returns 0 with JSON `{"path", "products"}` as the output, or 1 with the first
/// product whose bits differ.
#[no_mangle]
pub extern "C" fn nt_check_kernels(seed: u32) -> u32 {
    set_up();
    finish(kernels::check(u64::from(seed)).map(String::into_bytes))
}

/// 0 with `Ok`'s bytes as the output, or 1 with the error's message.
fn finish(result: Result<Vec<u8>, String>) -> u32 {
    let (status, output) = match result {
        Ok(bytes) => (0, bytes),
        Err(message) => (1, message.into_bytes()),
    };
    set_output(output);
    status
}

/// Answers one request of docs/api.md: its method (`GET`, `POST`), its path as the page
/// sends it, and its JSON body (empty for a GET). Returns the HTTP status; the output holds
/// the JSON answer.
///
/// # Safety
/// As for [`nt_load`].
#[no_mangle]
pub unsafe extern "C" fn nt_request(
    method: *mut u8,
    method_len: usize,
    path: *mut u8,
    path_len: usize,
    body: *mut u8,
    body_len: usize,
) -> u32 {
    set_up();
    let (method, path) = (take(method, method_len), take(path, path_len));
    let body = take(body, body_len);
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let answer = ENGINE.with_borrow(|engine| engine.request(&text(&method), &text(&path), &body));
    set_output(answer.body.into_bytes());
    u32::from(answer.status)
}

/// Milliseconds on the browser's clock.
#[cfg(target_arch = "wasm32")]
fn now_ms() -> f64 {
    // SAFETY: an import without arguments that returns a number.
    unsafe { nt_now() }
}

/// Natively (the crate's own tests) nothing is timed this way.
#[cfg(not(target_arch = "wasm32"))]
fn now_ms() -> f64 {
    0.0
}

/// The page's say between a pass's blocks: true abandons the pass.
#[cfg(target_arch = "wasm32")]
fn between_layers(block: usize, blocks: usize, rows: usize) -> bool {
    let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    // SAFETY: imports that take and give numbers.
    unsafe {
        match nt_layer(n(block), n(blocks), n(rows)) {
            0 => false,
            2 => nt_pause() != 0,
            _ => true,
        }
    }
}

fn set_up() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        #[cfg(target_arch = "wasm32")]
        {
            nexttoken_model::compute::clock::set_clock(now_ms);
            nexttoken_model::arch::watch_passes(between_layers);
        }
        std::panic::set_hook(Box::new(|info| set_output(info.to_string().into_bytes())));
    });
}

//! Wall time for a trace's `elapsed_ms`. `std::time::Instant` panics on
//! wasm32-unknown-unknown, which has no clock of its own: there the embedder (the browser
//! binding) hands one in with [`set_clock`], and without one a run reports 0 ms.

/// Measures from its creation.
pub struct Stopwatch(f64);

impl Stopwatch {
    pub fn start() -> Stopwatch {
        Stopwatch(now_ms())
    }

    pub fn elapsed_ms(&self) -> f64 {
        now_ms() - self.0
    }
}

/// Milliseconds since the first call.
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
fn now_ms() -> f64 {
    static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    ORIGIN
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_secs_f64()
        * 1e3
}

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
static CLOCK: std::sync::OnceLock<fn() -> f64> = std::sync::OnceLock::new();

/// Sets the clock runs are timed with, in milliseconds from any fixed origin (the browser's
/// `performance.now`); the first call wins.
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
pub fn set_clock(now_ms: fn() -> f64) {
    let _ = CLOCK.set(now_ms);
}

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
fn now_ms() -> f64 {
    CLOCK.get().map_or(0.0, |clock| clock())
}

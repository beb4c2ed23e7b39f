//! How downloads report progress. The library never prints: the caller
//! passes a [`Progress`] (a terminal bar, a web page, nothing).

use std::sync::{Mutex, MutexGuard};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Told about each file transfer; object-safe so it can be `&dyn Progress`.
pub trait Progress: Send + Sync {
    /// A transfer of `file` begins; `total` is its full size when known and
    /// `already` the bytes kept from an earlier, interrupted run.
    fn start(&self, file: &str, total: Option<u64>, already: u64);
    /// `bytes` more arrived.
    fn advance(&self, bytes: u64);
    /// The transfer of `file` ended, complete or not.
    fn finish(&self, file: &str);
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _file: &str, _total: Option<u64>, _already: u64) {}
    fn advance(&self, _bytes: u64) {}
    fn finish(&self, _file: &str) {}
}

/// A terminal bar on stderr per file: bytes, rate and ETA. indicatif hides
/// it when stderr is not a terminal.
#[derive(Debug, Default)]
pub struct IndicatifProgress {
    bar: Mutex<Option<ProgressBar>>,
}

impl IndicatifProgress {
    pub fn new() -> IndicatifProgress {
        IndicatifProgress::default()
    }

    fn bar(&self) -> MutexGuard<'_, Option<ProgressBar>> {
        // A panic elsewhere while holding the lock leaves a usable bar.
        self.bar
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

const BAR_TEMPLATE: &str = "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}";
const SPINNER_TEMPLATE: &str = "{msg} {spinner} {bytes} {bytes_per_sec}";

impl Progress for IndicatifProgress {
    fn start(&self, file: &str, total: Option<u64>, already: u64) {
        let template = if total.is_some() {
            BAR_TEMPLATE
        } else {
            SPINNER_TEMPLATE
        };
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr())
            .with_style(style)
            .with_message(file.to_string());
        bar.set_position(already);
        // The rate and ETA are about this run, not the bytes resumed from.
        bar.reset_eta();
        *self.bar() = Some(bar);
    }

    fn advance(&self, bytes: u64) {
        if let Some(bar) = self.bar().as_ref() {
            bar.inc(bytes);
        }
    }

    fn finish(&self, _file: &str) {
        if let Some(bar) = self.bar().take() {
            bar.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_templates_parse() {
        // An invalid template would silently fall back to a plain bar.
        assert!(ProgressStyle::with_template(BAR_TEMPLATE).is_ok());
        assert!(ProgressStyle::with_template(SPINNER_TEMPLATE).is_ok());
    }

    #[test]
    fn a_bar_tracks_resumed_and_new_bytes() {
        let progress = IndicatifProgress::new();
        progress.start("model.safetensors", Some(100), 40);
        progress.advance(25);
        let position = progress.bar().as_ref().map(ProgressBar::position);
        assert_eq!(position, Some(65));
        progress.finish("model.safetensors");
        assert!(progress.bar().is_none());
    }
}

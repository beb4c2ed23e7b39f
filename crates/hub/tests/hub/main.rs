//! Integration tests against a fake hub on loopback, each with its own cache.

mod download;
mod env;
mod failures;
mod fake_hub;
mod offline;

use std::path::Path;
use std::sync::Mutex;

use nexttoken_hub::{HubConfig, Progress};

use fake_hub::FakeHub;

pub fn config(hub: &FakeHub, cache: &Path) -> HubConfig {
    HubConfig {
        endpoint: hub.url.clone(),
        cache_dir: cache.to_path_buf(),
        offline: false,
        token: None,
    }
}

pub fn temp_cache() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Start {
        file: String,
        total: Option<u64>,
        already: u64,
    },
    Advance(u64),
    Finish(String),
}

/// Keeps every progress call, to check what a progress bar would be told.
#[derive(Default)]
pub struct Recorder(Mutex<Vec<Event>>);

impl Recorder {
    pub fn events(&self) -> Vec<Event> {
        self.0.lock().expect("recorder").clone()
    }

    /// Bytes reported between the start and finish of `file`'s transfers.
    pub fn advanced(&self, file: &str) -> u64 {
        let mut current = String::new();
        let mut total = 0;
        for event in self.events() {
            match event {
                Event::Start { file, .. } => current = file,
                Event::Advance(n) if current == file => total += n,
                _ => {}
            }
        }
        total
    }
}

impl Progress for Recorder {
    fn start(&self, file: &str, total: Option<u64>, already: u64) {
        let file = file.to_string();
        self.0.lock().expect("recorder").push(Event::Start {
            file,
            total,
            already,
        });
    }
    fn advance(&self, bytes: u64) {
        self.0.lock().expect("recorder").push(Event::Advance(bytes));
    }
    fn finish(&self, file: &str) {
        self.0
            .lock()
            .expect("recorder")
            .push(Event::Finish(file.to_string()));
    }
}

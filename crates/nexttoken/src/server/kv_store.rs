//! The model's state after recently stepped sequences, so that `/api/step`, which is sent the
//! whole sequence every time, runs only the tokens added since the last step (one, as the page
//! steps) instead of the whole sequence again.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::lock;

use nexttoken_model::Prefix;

/// Positions kept in all entries together: GPT-2 small holds 72 KiB of keys and values per
/// position, so 2,048 positions are ~150 MB (two full contexts, or many short sequences).
pub const MAX_POSITIONS: usize = 2048;

/// Token ids and the state after them, most recent first.
#[derive(Default)]
pub struct KvStore {
    entries: Mutex<VecDeque<(Vec<u32>, Prefix)>>,
    /// Requests that found a state to continue from.
    hits: AtomicU64,
}

impl KvStore {
    /// Takes out the entry for the longest stored sequence that starts `tokens` (all of them
    /// included), if any. Taken out, so two requests never extend one cache at once.
    pub fn take(&self, tokens: &[u32]) -> Option<Prefix> {
        let mut entries = lock(&self.entries);
        let at = entries
            .iter()
            .enumerate()
            .filter(|(_, (key, _))| tokens.starts_with(key))
            .max_by_key(|(_, (key, _))| key.len())
            .map(|(at, _)| at)?;
        self.hits.fetch_add(1, Ordering::Relaxed);
        entries.remove(at).map(|(_, prefix)| prefix)
    }

    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Keeps the state after `tokens`, dropping the least recently used beyond
    /// [`MAX_POSITIONS`].
    pub fn put(&self, tokens: Vec<u32>, prefix: Prefix) {
        if tokens.is_empty() || tokens.len() != prefix.cache.len() || tokens.len() > MAX_POSITIONS {
            return; // not a state of exactly these tokens, or too big to keep
        }
        let mut entries = lock(&self.entries);
        entries.retain(|(key, _)| *key != tokens);
        entries.push_front((tokens, prefix));
        while entries.iter().map(|(key, _)| key.len()).sum::<usize>() > MAX_POSITIONS {
            entries.pop_back();
        }
    }

    /// Positions held now.
    pub fn positions(&self) -> usize {
        let entries = lock(&self.entries);
        entries.iter().map(|(key, _)| key.len()).sum()
    }
}

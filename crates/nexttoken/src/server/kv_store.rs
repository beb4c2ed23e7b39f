//! The model's state after recently stepped sequences, so that `/api/step`, which is sent the
//! whole sequence every time, runs only the tokens added since the last step (one, as the page
//! steps) instead of the whole sequence again, and a branch only the tokens after it.

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
    /// Takes out the stored state that serves `tokens` best, cut back to what they share: a
    /// stored sequence that starts `tokens` serves whole; one that goes on differently (a
    /// branch) or further (a step taken back) serves the positions both share, but not the
    /// last of `tokens`, which runs again for its prediction. Taken out, so two requests
    /// never extend one cache at once.
    pub fn take(&self, tokens: &[u32]) -> Option<Prefix> {
        let mut entries = lock(&self.entries);
        let (at, usable) = entries
            .iter()
            .enumerate()
            .map(|(at, (key, _))| (at, usable(key, tokens)))
            .filter(|&(_, usable)| usable > 0)
            .max_by_key(|&(_, usable)| usable)?;
        self.hits.fetch_add(1, Ordering::Relaxed);
        entries
            .remove(at)
            .map(|(_, prefix)| prefix.truncate(usable))
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

/// How many positions of the state after `key` a request for `tokens` can reuse.
fn usable(key: &[u32], tokens: &[u32]) -> usize {
    if tokens.starts_with(key) {
        return key.len();
    }
    let shared = key.iter().zip(tokens).take_while(|(a, b)| a == b).count();
    shared.min(tokens.len().saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::usable;

    #[test]
    fn a_stored_state_serves_what_it_shares_with_the_request() {
        assert_eq!(usable(&[1, 2, 3], &[1, 2, 3, 4]), 3, "a step further");
        assert_eq!(usable(&[1, 2, 3], &[1, 2, 3]), 3, "the same tokens");
        assert_eq!(
            usable(&[1, 2, 3, 4], &[1, 2, 3]),
            2,
            "a step back reruns its last"
        );
        assert_eq!(usable(&[1, 2, 7, 8], &[1, 2, 3, 4]), 2, "a branch");
        assert_eq!(usable(&[1, 9], &[1, 2]), 1);
        assert_eq!(usable(&[1, 2], &[1]), 0, "nothing left to reuse");
        assert_eq!(usable(&[5], &[1, 2]), 0);
    }
}

//! Every layer's attention thumbnails for recently asked token sequences. The page asks for
//! the thumbnails one layer at a time; one forward pass gives every layer's patterns, so the
//! first request computes all of them and the others read them here, instead of one full
//! forward pass per layer (12 passes for GPT-2 small, most of a long prompt's wait).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::lock;

/// Entries kept: a GPT-2-small entry at 64 cells a side is 2.4 MB (12 × 12 × 64 × 64 floats).
pub const CAPACITY: usize = 4;

/// `[layer][head]` → a `size × size` grid.
pub type Thumbnails = Vec<Vec<Vec<Vec<f32>>>>;

/// Filled once by whichever request gets there first, holding the lock while it computes:
/// concurrent requests for the same sequence wait for it rather than running the model again.
/// A failed computation leaves it empty for the next request to try.
pub type Slot = Arc<Mutex<Option<Arc<Thumbnails>>>>;

/// The token ids and the grid size (cells a side).
type Key = (Vec<u32>, usize);

/// Least recently used first out.
#[derive(Default)]
pub struct OverviewCache {
    entries: Mutex<VecDeque<(Key, Slot)>>,
}

impl OverviewCache {
    /// The slot for `tokens` at `size`, created empty when new; moved to the front either way.
    pub fn slot(&self, tokens: &[u32], size: usize) -> Slot {
        let mut entries = lock(&self.entries);
        let found = entries
            .iter()
            .position(|((key, s), _)| *s == size && key == tokens);
        let entry = match found.and_then(|at| entries.remove(at)) {
            Some(entry) => entry,
            None => ((tokens.to_vec(), size), Slot::default()),
        };
        let slot = Arc::clone(&entry.1);
        entries.push_front(entry);
        entries.truncate(CAPACITY);
        slot
    }

    pub fn len(&self) -> usize {
        lock(&self.entries).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_sequence_and_size_share_one_slot() {
        let cache = OverviewCache::default();
        let a = cache.slot(&[1, 2, 3], 64);
        assert!(Arc::ptr_eq(&a, &cache.slot(&[1, 2, 3], 64)));
        assert!(!Arc::ptr_eq(&a, &cache.slot(&[1, 2, 3], 32)));
        assert!(!Arc::ptr_eq(&a, &cache.slot(&[1, 2], 64)));
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn evicts_the_least_recently_used() {
        let cache = OverviewCache::default();
        let zero = cache.slot(&[0], 8);
        let one = cache.slot(&[1], 8);
        for i in 2..CAPACITY as u32 {
            cache.slot(&[i], 8);
        }
        cache.slot(&[0], 8); // 0 is now the most recent; 1 the oldest
        cache.slot(&[99], 8);
        assert_eq!(cache.len(), CAPACITY);
        assert!(Arc::ptr_eq(&zero, &cache.slot(&[0], 8)));
        assert!(!Arc::ptr_eq(&one, &cache.slot(&[1], 8)));
    }
}

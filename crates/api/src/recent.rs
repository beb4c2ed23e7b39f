//! Results the page asks for again and again about the same token sequence, kept for the few
//! most recent sequences: every layer's attention thumbnails (the page asks a layer at a time;
//! one forward pass gives all of them) and the residual stream the logit lens decodes (a reader
//! moves along the text a position at a time; one pass gives every position).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::lock;

/// Filled once by whichever request gets there first, holding the lock while it computes:
/// concurrent requests for the same key wait for it rather than running the model again. A
/// failed computation leaves it empty for the next request to try.
pub type Slot<V> = Arc<Mutex<Option<Arc<V>>>>;

/// Least recently used first out, `capacity` keys at most.
pub struct Recent<K, V> {
    capacity: usize,
    entries: Mutex<VecDeque<(K, Slot<V>)>>,
}

impl<K: PartialEq, V> Recent<K, V> {
    pub fn new(capacity: usize) -> Self {
        Recent {
            capacity,
            entries: Mutex::new(VecDeque::new()),
        }
    }

    /// The slot for `key`, created empty when new; moved to the front either way.
    pub fn slot(&self, key: K) -> Slot<V> {
        let mut entries = lock(&self.entries);
        let found = entries.iter().position(|(k, _)| *k == key);
        let entry = match found.and_then(|at| entries.remove(at)) {
            Some(entry) => entry,
            None => (key, Slot::default()),
        };
        let slot = Arc::clone(&entry.1);
        entries.push_front(entry);
        entries.truncate(self.capacity);
        slot
    }

    /// The slot's value, computed by `make` when it is empty.
    pub fn get_or_make<E>(&self, key: K, make: impl FnOnce() -> Result<V, E>) -> Result<Arc<V>, E> {
        let slot = self.slot(key);
        let mut filled = lock(&slot);
        if let Some(value) = &*filled {
            return Ok(Arc::clone(value));
        }
        Ok(Arc::clone(filled.insert(Arc::new(make()?))))
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
    fn the_same_key_shares_one_slot() {
        let cache: Recent<(Vec<u32>, usize), u8> = Recent::new(4);
        let a = cache.slot((vec![1, 2, 3], 64));
        assert!(Arc::ptr_eq(&a, &cache.slot((vec![1, 2, 3], 64))));
        assert!(!Arc::ptr_eq(&a, &cache.slot((vec![1, 2, 3], 32))));
        assert!(!Arc::ptr_eq(&a, &cache.slot((vec![1, 2], 64))));
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn evicts_the_least_recently_used() {
        let capacity = 4;
        let cache: Recent<Vec<u32>, u8> = Recent::new(capacity);
        let zero = cache.slot(vec![0]);
        let one = cache.slot(vec![1]);
        for i in 2..capacity as u32 {
            cache.slot(vec![i]);
        }
        cache.slot(vec![0]); // 0 is now the most recent; 1 the oldest
        cache.slot(vec![99]);
        assert_eq!(cache.len(), capacity);
        assert!(Arc::ptr_eq(&zero, &cache.slot(vec![0])));
        assert!(!Arc::ptr_eq(&one, &cache.slot(vec![1])));
    }

    #[test]
    fn a_failed_make_leaves_the_slot_for_the_next_try() {
        let cache: Recent<u8, u8> = Recent::new(2);
        assert_eq!(cache.get_or_make(1, || Err("no")), Err("no"));
        assert_eq!(cache.get_or_make(1, || Ok::<_, &str>(7)).map(|v| *v), Ok(7));
        assert_eq!(cache.get_or_make(1, || Err("unused")).map(|v| *v), Ok(7));
    }
}

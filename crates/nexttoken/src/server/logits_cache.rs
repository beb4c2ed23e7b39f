//! Recently computed next-token logits, keyed by the token ids that produced them, so a
//! slider on the page (temperature, top-k, top-p) reshapes a distribution without a new
//! forward pass.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use super::lock;

/// Entries kept: 64 GPT-2 logit vectors are ~13 MB.
pub const CAPACITY: usize = 64;

/// Token ids and the logits (V,) after them.
type Entry = (Vec<u32>, Arc<Vec<f32>>);

/// Least recently used first out. A linear scan over 64 keys costs far less than the
/// forward pass a hit saves.
#[derive(Default)]
pub struct LogitsCache {
    entries: Mutex<VecDeque<Entry>>,
}

impl LogitsCache {
    /// The cached logits after `tokens`, moved to the front; `None` on a miss.
    pub fn get(&self, tokens: &[u32]) -> Option<Arc<Vec<f32>>> {
        let mut entries = lock(&self.entries);
        let at = entries.iter().position(|(key, _)| key == tokens)?;
        let entry = entries.remove(at)?;
        let logits = Arc::clone(&entry.1);
        entries.push_front(entry);
        Some(logits)
    }

    pub fn insert(&self, tokens: Vec<u32>, logits: Arc<Vec<f32>>) {
        let mut entries = lock(&self.entries);
        entries.retain(|(key, _)| *key != tokens);
        entries.push_front((tokens, logits));
        entries.truncate(CAPACITY);
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

    fn logits(v: f32) -> Arc<Vec<f32>> {
        Arc::new(vec![v])
    }

    #[test]
    fn evicts_the_least_recently_used() {
        let cache = LogitsCache::default();
        for i in 0..CAPACITY as u32 {
            cache.insert(vec![i], logits(i as f32));
        }
        assert!(cache.get(&[0]).is_some()); // 0 is now the most recent; 1 the oldest
        cache.insert(vec![999], logits(9.0));
        assert_eq!(cache.len(), CAPACITY);
        assert!(cache.get(&[1]).is_none());
        assert_eq!(cache.get(&[0]).map(|l| l[0]), Some(0.0));
        assert_eq!(cache.get(&[999]).map(|l| l[0]), Some(9.0));
    }

    #[test]
    fn reinserting_a_key_keeps_one_entry() {
        let cache = LogitsCache::default();
        cache.insert(vec![1, 2], logits(1.0));
        cache.insert(vec![1, 2], logits(2.0));
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.get(&[1, 2]).map(|l| l[0]), Some(2.0));
        assert!(cache.get(&[1]).is_none());
    }
}

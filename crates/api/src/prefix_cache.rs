//! What the model computed after recent token sequences, within a budget of bytes: the logits
//! after each sequence, so a slider on the page (temperature, top-k, top-p) or a comparison
//! reshapes a distribution without a forward pass, and for sequences that were stepped or
//! traced also the keys and values, so `/api/step`, sent the whole sequence every time, runs
//! only the tokens added since (one, as the page steps).
//!
//! Every entry is counted by the bytes it holds (its ids, its logits, its keys and values, each
//! allocation's full size), and the least recently used go first once the sum passes the
//! budget: memory stays bounded whatever mix of short and long sequences arrives.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use nexttoken_model::{KvCache, Prefix};

use crate::lock;

/// The default budget: GPT-2 small holds 72 KiB of keys and values a position, so 256 MiB
/// keep about 3,600 positions (three and a half full contexts, or hundreds of short ones).
pub const DEFAULT_BUDGET_BYTES: usize = 256 << 20;

/// What one entry costs beside its buffers: the entry itself and the queue's slot for it.
const ENTRY_OVERHEAD: usize = 128;

/// Token ids and what the model computed after them.
struct Entry {
    tokens: Vec<u32>,
    logits: Arc<Vec<f32>>, // (V,)
    /// The keys and values of `tokens`, when they were kept to continue from.
    kv: Option<KvCache>,
    bytes: usize,
}

impl Entry {
    fn new(tokens: Vec<u32>, logits: Arc<Vec<f32>>, kv: Option<KvCache>) -> Entry {
        let bytes = ENTRY_OVERHEAD
            + tokens.capacity() * size_of::<u32>()
            + logits.capacity() * size_of::<f32>()
            + kv.as_ref().map_or(0, KvCache::bytes);
        Entry {
            tokens,
            logits,
            kv,
            bytes,
        }
    }
}

#[derive(Default)]
struct Entries {
    /// Most recently used first.
    queue: VecDeque<Entry>,
    bytes: usize,
}

/// The server's one cache of model results; no entry outlives the budget.
pub struct PrefixCache {
    entries: Mutex<Entries>,
    budget: usize,
    /// Requests that found keys and values to continue from.
    hits: AtomicU64,
}

impl PrefixCache {
    /// A cache that holds at most `budget` bytes.
    pub fn new(budget: usize) -> PrefixCache {
        PrefixCache {
            entries: Mutex::default(),
            budget,
            hits: AtomicU64::new(0),
        }
    }

    /// The logits after exactly `tokens`, kept alone or with their keys and values; the entry
    /// becomes the most recently used.
    pub fn logits(&self, tokens: &[u32]) -> Option<Arc<Vec<f32>>> {
        let mut entries = lock(&self.entries);
        let at = entries.queue.iter().position(|e| e.tokens == tokens)?;
        let entry = entries.queue.remove(at)?;
        let logits = Arc::clone(&entry.logits);
        entries.queue.push_front(entry);
        Some(logits)
    }

    /// Keeps the logits after `tokens`. An entry that also holds their keys and values stays
    /// as it is: it has the same logits.
    pub fn put_logits(&self, tokens: Vec<u32>, logits: Arc<Vec<f32>>) {
        if tokens.is_empty() || self.logits(&tokens).is_some() {
            return;
        }
        self.insert(Entry::new(tokens, logits, None));
    }

    /// Takes out the kept state that serves `tokens` best, cut back to what they share: a
    /// kept sequence that starts `tokens` serves whole; one that goes on differently (a branch)
    /// or further (a step taken back) serves the positions both share, but not the last of
    /// `tokens`, which runs again for its prediction. Taken out, so two requests never extend
    /// one cache at once; the caller puts back the state it ends in.
    pub fn take_state(&self, tokens: &[u32]) -> Option<Prefix> {
        let mut entries = lock(&self.entries);
        let (at, usable) = entries
            .queue
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kv.is_some())
            .map(|(at, e)| (at, usable(&e.tokens, tokens)))
            .filter(|&(_, usable)| usable > 0)
            .max_by_key(|&(_, usable)| usable)?;
        let entry = entries.queue.remove(at)?;
        entries.bytes -= entry.bytes;
        drop(entries);
        self.hits.fetch_add(1, Ordering::Relaxed);
        let prefix = Prefix {
            cache: entry.kv?,
            logits: Arc::unwrap_or_clone(entry.logits),
        };
        Some(prefix.truncate(usable))
    }

    /// Keeps the state after `tokens` (its logits included) to continue from, in the bytes
    /// its positions need: the room reserved for later positions is given back first.
    pub fn put_state(&self, tokens: Vec<u32>, mut prefix: Prefix) {
        if tokens.is_empty() || tokens.len() != prefix.cache.len() {
            return; // not a state of exactly these tokens
        }
        prefix.cache.shrink_to_fit();
        let logits = Arc::new(prefix.logits);
        self.insert(Entry::new(tokens, logits, Some(prefix.cache)));
    }

    /// Adds `entry` as the most recently used in place of any with its tokens, then drops the
    /// least recently used until the budget holds (`entry` too, if it alone is over).
    fn insert(&self, entry: Entry) {
        let mut entries = lock(&self.entries);
        if let Some(at) = entries.queue.iter().position(|e| e.tokens == entry.tokens) {
            let old = entries.queue.remove(at).map_or(0, |e| e.bytes);
            entries.bytes -= old;
        }
        entries.bytes += entry.bytes;
        entries.queue.push_front(entry);
        while entries.bytes > self.budget {
            let Some(old) = entries.queue.pop_back() else {
                break;
            };
            entries.bytes -= old.bytes;
        }
    }

    /// The budget in bytes.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Bytes held now.
    pub fn bytes(&self) -> usize {
        lock(&self.entries).bytes
    }

    /// Sequences held now, with or without their keys and values.
    pub fn len(&self) -> usize {
        lock(&self.entries).queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Positions whose keys and values are held now.
    pub fn positions(&self) -> usize {
        let entries = lock(&self.entries);
        entries
            .queue
            .iter()
            .filter_map(|e| e.kv.as_ref())
            .map(KvCache::len)
            .sum()
    }

    /// Requests that found a state to continue from, since the start.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
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
    use std::path::Path;
    use std::sync::OnceLock;

    use nexttoken_model::{Model, NoRecorder};

    use super::*;

    fn logits(v: f32) -> Arc<Vec<f32>> {
        Arc::new(vec![v; 4])
    }

    /// Room for exactly `n` logits-only entries of one token.
    fn room_for(n: usize) -> usize {
        n * Entry::new(vec![0], logits(0.0), None).bytes
    }

    #[test]
    fn evicts_the_least_recently_used_past_the_budget() {
        let cache = PrefixCache::new(room_for(3));
        for i in 0..3 {
            cache.put_logits(vec![i], logits(i as f32));
        }
        assert!(cache.logits(&[0]).is_some()); // 0 is now the most recent; 1 the oldest
        cache.put_logits(vec![9], logits(9.0));
        assert_eq!(cache.len(), 3);
        assert!(cache.logits(&[1]).is_none());
        assert_eq!(cache.logits(&[0]).map(|l| l[0]), Some(0.0));
        assert_eq!(cache.logits(&[9]).map(|l| l[0]), Some(9.0));
        assert!(cache.bytes() <= cache.budget());
    }

    #[test]
    fn an_entry_over_the_budget_is_not_kept() {
        let cache = PrefixCache::new(room_for(1));
        cache.put_logits(vec![1], Arc::new(vec![0.0; 1000]));
        assert!(cache.is_empty());
        assert_eq!(cache.bytes(), 0);
    }

    #[test]
    fn reinserting_a_key_keeps_one_entry() {
        let cache = PrefixCache::new(1 << 20);
        cache.put_state(vec![1, 2], prefix(2, 1.0));
        cache.put_state(vec![1, 2], prefix(2, 2.0));
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.logits(&[1, 2]).map(|l| l[0]), Some(2.0));
        // Logits alone do not replace the state that has them.
        cache.put_logits(vec![1, 2], logits(3.0));
        assert_eq!(cache.positions(), 2);
        assert!(cache.logits(&[1]).is_none());
    }

    #[test]
    fn a_state_is_taken_by_the_longest_prefix_and_counted_in_bytes() {
        let cache = PrefixCache::new(1 << 20);
        cache.put_state(vec![1], prefix(1, 1.0));
        cache.put_state(vec![1, 2], prefix(2, 2.0));
        cache.put_logits(vec![1, 2, 3], logits(3.0)); // no keys: never a state
        let held = cache.bytes();
        let taken = cache.take_state(&[1, 2, 3, 4]).expect("a state");
        assert_eq!((taken.cache.len(), taken.logits[0]), (2, 2.0));
        assert!(cache.bytes() < held);
        assert!(cache
            .take_state(&[1, 2, 3])
            .is_some_and(|p| p.cache.len() == 1));
        assert!(cache.take_state(&[1, 2]).is_none());
        assert_eq!(cache.hits(), 2);
        assert!(cache.logits(&[1, 2, 3]).is_some());
        // A branch gets the shared positions, without the prediction after them.
        cache.put_state(vec![1, 2, 3], prefix(3, 3.0));
        let branch = cache.take_state(&[1, 2, 9]).expect("the shared start");
        assert_eq!((branch.cache.len(), branch.logits.len()), (2, 0));
    }

    #[test]
    fn a_kept_state_serves_what_it_shares_with_the_request() {
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

    #[test]
    fn a_kept_state_gives_back_the_room_of_unwritten_positions() {
        let cache = PrefixCache::new(usize::MAX);
        let state = prefix(1, 0.0);
        let reserved = state.cache.bytes(); // room for every position of the context
        cache.put_state(vec![7], state);
        let kept = cache.bytes() - room_for(1);
        // 2 layers × (keys, values) × 1 position × 32 floats of 4 bytes.
        assert_eq!(kept, 2 * 2 * 32 * 4, "of {reserved} bytes reserved");
    }

    /// The state after `n` tokens of the tiny fixture model, with logits `v`.
    fn prefix(n: usize, v: f32) -> Prefix {
        static MODEL: OnceLock<Model> = OnceLock::new();
        let model = MODEL.get_or_init(|| {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tiny-gpt2");
            Model::load(&dir, "tiny-gpt2").expect("the fixture loads")
        });
        let mut cache = KvCache::new(model.config());
        let ids: Vec<u32> = (0..n as u32).collect();
        model
            .forward(&ids, &mut cache, &mut NoRecorder)
            .expect("runs");
        Prefix {
            cache,
            logits: vec![v; 4],
        }
    }
}

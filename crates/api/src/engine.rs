//! A loaded model and what belongs to it alone: its caches of logits, states and attention
//! thumbnails, the thread that batches concurrent generations' forward passes, and the bounds
//! its requests are held to.

use std::sync::Arc;

use nexttoken_model::{Batcher, KvCache, Model, NoRecorder};

use crate::bounds::Bounds;
use crate::overview_cache::OverviewCache;
use crate::prefix_cache::PrefixCache;
use crate::Error;

pub struct Engine {
    pub model: Arc<Model>,
    /// Logits after recent sequences, and the states of stepped ones for `/api/step` to
    /// continue, within a budget of bytes.
    pub cache: PrefixCache,
    /// Every layer's attention thumbnails of recent sequences.
    pub overviews: OverviewCache,
    /// Where no thread can start (WebAssembly in a browser), passes run on the caller's.
    pub batcher: Batcher,
    pub bounds: Bounds,
}

impl Engine {
    /// `cache_bytes` bounds what [`Engine::cache`] holds.
    pub fn new(model: Arc<Model>, bounds: Bounds, cache_bytes: usize) -> Engine {
        Engine {
            batcher: Batcher::new(Arc::clone(&model)),
            model,
            cache: PrefixCache::new(cache_bytes),
            overviews: OverviewCache::default(),
            bounds,
        }
    }

    /// The logits after `tokens`: from the cache, else one forward pass (then cached).
    pub fn logits_after(&self, tokens: Vec<u32>) -> Result<Arc<Vec<f32>>, Error> {
        if let Some(logits) = self.cache.logits(&tokens) {
            return Ok(logits);
        }
        let mut cache = KvCache::new(self.model.config());
        let logits = self.model.forward(&tokens, &mut cache, &mut NoRecorder)?;
        let logits = Arc::new(logits);
        self.cache.put_logits(tokens, Arc::clone(&logits));
        Ok(logits)
    }
}

//! A loaded model and what belongs to it alone: its caches of logits, states, attention
//! thumbnails and the lens's residual stream, the thread that batches concurrent generations'
//! forward passes, and the bounds its requests are held to.

use std::sync::Arc;

use nexttoken_model::lens::LensStream;
use nexttoken_model::{Batcher, KvCache, Model, NoRecorder, Stop};

use crate::bounds::Bounds;
use crate::endpoints::attention::Thumbnails;
use crate::prefix_cache::PrefixCache;
use crate::recent::Recent;
use crate::Error;

/// Thumbnail sets kept: a GPT-2-small one at 64 cells a side is 2.4 MB (12 × 12 × 64 × 64 floats).
const OVERVIEWS_KEPT: usize = 4;

pub struct Engine {
    pub model: Arc<Model>,
    /// Logits after recent sequences, and the states of stepped ones for `/api/step` to
    /// continue, within a budget of bytes.
    pub cache: PrefixCache,
    /// Every layer's attention thumbnails of recent sequences, by (tokens, cells a side).
    pub overviews: Recent<(Vec<u32>, usize), Thumbnails>,
    /// The residual stream the logit lens decodes, of the latest sequence.
    pub lens: Recent<Vec<u32>, LensStream>,
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
            overviews: Recent::new(OVERVIEWS_KEPT),
            lens: Recent::new(1),
            bounds,
        }
    }

    /// The logits after `tokens`: from the cache, else one forward pass (then cached) that
    /// ends with `Error::Cancelled` at the next layer once `stop` is raised.
    pub fn logits_after(&self, tokens: Vec<u32>, stop: &Stop) -> Result<Arc<Vec<f32>>, Error> {
        if let Some(logits) = self.cache.logits(&tokens) {
            return Ok(logits);
        }
        let mut cache = KvCache::new(self.model.config());
        cache.set_stop(Some(stop.clone()));
        let logits = self.model.forward(&tokens, &mut cache, &mut NoRecorder)?;
        let logits = Arc::new(logits);
        self.cache.put_logits(tokens, Arc::clone(&logits));
        Ok(logits)
    }
}

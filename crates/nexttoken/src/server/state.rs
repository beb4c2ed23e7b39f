//! What every handler shares: the loaded model (swappable once GPT-2 arrives), the limits,
//! the model pool and the background download.

use std::sync::{Arc, PoisonError, RwLock};

use nexttoken_model::{Batcher, KvCache, Model, NoRecorder};

use super::errors::ApiError;
use super::limits::Limits;
use super::overview_cache::OverviewCache;
use super::pool::{Pool, PoolConfig};
use super::prefix_cache::PrefixCache;
use super::upgrade::Upgrade;
use crate::models::Source;

/// A model and what belongs to it alone: its source, its cached logits, states and attention
/// thumbnails, and the thread that batches the forward passes of concurrent traces.
pub struct Loaded {
    pub model: Arc<Model>,
    pub source: Source,
    /// Logits after recent sequences, and the states of stepped ones for `/api/step` to
    /// continue, within `Limits::cache_bytes`.
    pub cache: PrefixCache,
    /// Every layer's attention thumbnails of recent sequences.
    pub overviews: OverviewCache,
    pub batcher: Batcher,
}

pub struct AppState {
    /// Handlers take a snapshot at their start, so a switch never changes a request midway.
    loaded: RwLock<Arc<Loaded>>,
    pub limits: Limits,
    pub pool: Pool,
    /// Present when the server started on the bundled model and fetches GPT-2; it stays,
    /// reporting `ready`, after the switch.
    pub upgrade: Option<Arc<Upgrade>>,
}

impl AppState {
    pub fn new(model: Arc<Model>, source: Source, limits: Limits, pool: PoolConfig) -> Arc<Self> {
        Self::with_upgrade(model, source, limits, pool, None)
    }

    pub fn with_upgrade(
        model: Arc<Model>,
        source: Source,
        limits: Limits,
        pool: PoolConfig,
        upgrade: Option<Arc<Upgrade>>,
    ) -> Arc<Self> {
        Arc::new(AppState {
            loaded: RwLock::new(loaded(model, source, limits.cache_bytes)),
            limits,
            pool: Pool::new(pool),
            upgrade,
        })
    }

    /// The model serving now.
    pub fn loaded(&self) -> Arc<Loaded> {
        Arc::clone(&self.loaded.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Serves `model` from now on; requests already running finish on the old one.
    pub fn switch(&self, model: Model, source: Source) {
        let next = loaded(Arc::new(model), source, self.limits.cache_bytes);
        *self.loaded.write().unwrap_or_else(PoisonError::into_inner) = next;
    }
}

impl Loaded {
    /// The logits after `tokens`: from the cache, else one forward pass (then cached).
    pub fn logits_after(&self, tokens: Vec<u32>) -> Result<Arc<Vec<f32>>, ApiError> {
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

fn loaded(model: Arc<Model>, source: Source, cache_bytes: usize) -> Arc<Loaded> {
    Arc::new(Loaded {
        batcher: Batcher::new(Arc::clone(&model)),
        model,
        source,
        cache: PrefixCache::new(cache_bytes),
        overviews: OverviewCache::default(),
    })
}

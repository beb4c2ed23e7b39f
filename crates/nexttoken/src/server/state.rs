//! What every handler shares: the loaded model (swappable once GPT-2 arrives), the limits,
//! the model pool and the background download.

use std::ops::Deref;
use std::sync::{Arc, PoisonError, RwLock};

use nexttoken_api::Engine;
use nexttoken_model::Model;

use super::limits::Limits;
use super::pool::{Pool, PoolConfig};
use super::upgrade::Upgrade;
use crate::models::Source;

/// The engine the API's endpoints run on (a model and its caches), and where its model came
/// from.
pub struct Loaded {
    pub engine: Engine,
    pub source: Source,
}

impl Deref for Loaded {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        &self.engine
    }
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
            loaded: RwLock::new(loaded(model, source, &limits)),
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
        let next = loaded(Arc::new(model), source, &self.limits);
        *self.loaded.write().unwrap_or_else(PoisonError::into_inner) = next;
    }
}

fn loaded(model: Arc<Model>, source: Source, limits: &Limits) -> Arc<Loaded> {
    Arc::new(Loaded {
        engine: Engine::new(model, limits.bounds(), limits.cache_bytes),
        source,
    })
}

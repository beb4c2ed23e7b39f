//! What every handler shares: the model, where it came from, the limits, the model pool and
//! the logits cache.

use std::path::Path;
use std::sync::Arc;

use nexttoken_model::Model;

use super::limits::Limits;
use super::logits_cache::LogitsCache;
use super::pool::{Pool, PoolConfig};

pub struct AppState {
    pub model: Arc<Model>,
    /// Where the weights came from, for `/api/model`: "hub", "dir" or "bundled".
    pub source: String,
    pub limits: Limits,
    pub pool: Pool,
    pub logits: LogitsCache,
}

impl AppState {
    pub fn new(model: Arc<Model>, source: &str, limits: Limits, pool: PoolConfig) -> Arc<Self> {
        Arc::new(AppState {
            model,
            source: source.to_string(),
            limits,
            pool: Pool::new(pool),
            logits: LogitsCache::default(),
        })
    }
}

/// The source label of a `--model` value, decided the way `crate::models::load` decides it.
pub fn source_label(model_arg: Option<&str>) -> &'static str {
    match model_arg {
        Some(name) if Path::new(name).is_dir() => "dir",
        _ => "hub",
    }
}

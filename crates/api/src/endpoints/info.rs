//! `/api/health` and `/api/model`: answered from memory, without running the model. A
//! transport adds its own parts (the server its pool's gauges and GPT-2's download).

use nexttoken_model::batcher::BatchStats;
use nexttoken_model::trace::ModelInfo;
use serde::Serialize;

use crate::bounds::TOP_N;
use crate::Engine;

/// The decode batches of the model serving now, and what its cache holds.
#[derive(Serialize)]
pub struct Health {
    status: &'static str,
    batches: BatchStats,
    cache: CacheInfo,
}

#[derive(Serialize)]
struct CacheInfo {
    bytes: usize,
    budget_bytes: usize,
    entries: usize,
    positions: usize,
}

pub fn health(engine: &Engine) -> Health {
    let cache = &engine.cache;
    Health {
        status: "ok",
        batches: engine.batcher.stats(),
        cache: CacheInfo {
            bytes: cache.bytes(),
            budget_bytes: cache.budget(),
            entries: cache.len(),
            positions: cache.positions(),
        },
    }
}

#[derive(Serialize)]
pub struct ModelResponse {
    #[serde(flatten)]
    model: ModelInfo,
    /// Where the model came from (`hub`, `bundled`, `local`, `browser`, ...).
    source: String,
    /// Whether its checkpoint ships a chat template, for `/api/chat`.
    chat_template: bool,
    limits: LimitsInfo,
}

#[derive(Serialize)]
struct LimitsInfo {
    max_steps: usize,
    max_prompt_tokens: usize,
    max_body_bytes: usize,
    max_top_n: u64,
    cache_bytes: usize,
}

pub fn model(engine: &Engine, source: &str) -> ModelResponse {
    ModelResponse {
        model: ModelInfo::of(&engine.model),
        source: source.to_string(),
        chat_template: engine.model.tokenizer.chat_template().is_some(),
        limits: LimitsInfo {
            max_steps: engine.bounds.max_steps,
            max_prompt_tokens: engine.model.config().n_positions,
            max_body_bytes: engine.bounds.max_body_bytes,
            max_top_n: *TOP_N.end(),
            cache_bytes: engine.cache.budget(),
        },
    }
}

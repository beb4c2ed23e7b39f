//! The architectures: for each family its hyperparameters, its weights named as in the
//! checkpoint, and its forward pass, behind one trait ([`Architecture`]) that the rest of the
//! crate runs. A new family is one module here that implements it.

pub mod attention;
pub mod gpt2;
pub mod llama;
pub mod rope;
mod sequence;

pub use sequence::{KvCache, Sequence};

use crate::analysis::recorder::Recorder;
use crate::compute::pool;
use crate::Result;

/// The hyperparameters every family has, which generation, analysis and the page read.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Dims {
    pub n_layer: usize,
    /// Query heads per layer.
    pub n_head: usize,
    /// Key/value heads per layer: `n_head / n_kv_head` query heads share each one.
    pub n_kv_head: usize,
    /// Width of the residual stream.
    pub n_embd: usize,
    pub head_dim: usize,
    /// The longest context, in tokens.
    pub n_positions: usize,
    pub vocab_size: usize,
}

impl Dims {
    /// Width of one position's keys (or values) in the cache: every key/value head's.
    pub fn kv_width(&self) -> usize {
        self.n_kv_head * self.head_dim
    }
}

/// What a family's forward pass offers the rest of the crate. Only [`Architecture::run`] and
/// the accessors are written per family; the checks and the thread pool are shared.
pub trait Architecture: Send + Sync {
    fn dims(&self) -> &Dims;

    /// The family's name as Hugging Face's `model_type` spells it (`gpt2`, `llama`).
    fn family(&self) -> &'static str;

    /// Every hook name the forward pass offers, in the order it fires (TransformerLens's).
    fn hook_names(&self) -> Vec<String>;

    /// Runs every sequence of `batch` after its own cache, appending each one's keys and
    /// values, and returns each one's logits (V,) of its last new position. The inputs have
    /// passed [`check`] and it runs on the pool: call [`Architecture::forward_batch`].
    fn run(&self, batch: &mut [Sequence]) -> Vec<Vec<f32>>;

    /// The final norm then the unembedding of residual rows (T, C): logits (T, V). The logit
    /// lens reads any layer's residual this way.
    fn decode_residual(&self, x: &[f32]) -> Vec<f32>;

    /// Token `id`'s row of the embedding matrix, as f32 (C,).
    fn token_embedding(&self, id: u32) -> Vec<f32>;

    /// Position `p`'s row of a learned position table (C,); `None` for a family without one.
    fn position_embedding(&self, p: usize) -> Option<Vec<f32>>;

    /// Bytes the weights occupy in their stored types.
    fn weight_bytes(&self) -> usize;

    /// Runs every sequence of `batch` after its own cache and returns each one's logits (V,)
    /// of its last new position. Each recorder sees its own sequence's activations (T, ...)
    /// only. A sequence that fails the checks fails the batch before anything runs.
    fn forward_batch(&self, batch: &mut [Sequence]) -> Result<Vec<Vec<f32>>> {
        for seq in batch.iter() {
            sequence::check(self.dims(), seq.tokens, seq.cache)?;
        }
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let logits = pool::install(|| self.run(batch));
        for seq in batch.iter_mut() {
            seq.cache.len += seq.tokens.len();
        }
        Ok(logits)
    }

    /// Runs `tokens` after the positions already in `cache` and returns the logits (V,) of
    /// the last new position. A recorder that wants `logits` gets every new position's (T, V).
    fn forward(
        &self,
        tokens: &[u32],
        cache: &mut KvCache,
        rec: &mut dyn Recorder,
    ) -> Result<Vec<f32>> {
        let mut batch = [Sequence {
            tokens,
            cache,
            rec: Some(rec),
        }];
        Ok(self.forward_batch(&mut batch)?.swap_remove(0))
    }
}

//! The architectures: for each family its hyperparameters, its weights named as in the
//! checkpoint, and its forward pass, behind one trait ([`Architecture`]) that the rest of the
//! crate runs. A new family is one module here that implements it.

pub mod attention;
pub mod gpt2;
pub mod llama;
pub mod rope;
mod sequence;

pub use sequence::{watch_passes, KvCache, Sequence, Stop, Watch};

use crate::analysis::recorder::Recorder;
use crate::compute::pool;
use crate::{Error, Result};

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

/// What a family's forward pass offers the rest of the crate. Only [`Architecture::embed`],
/// [`Architecture::run_from`] and the accessors are written per family; the checks and the
/// thread pool are shared.
pub trait Architecture: Send + Sync {
    fn dims(&self) -> &Dims;

    /// The family's name as Hugging Face's `model_type` spells it (`gpt2`, `llama`).
    fn family(&self) -> &'static str;

    /// Every hook name the forward pass offers, in the order it fires (TransformerLens's).
    fn hook_names(&self) -> Vec<String>;

    /// The residual stream entering block 0 for every sequence's new tokens, stacked (T, C).
    fn embed(&self, batch: &mut [Sequence]) -> Vec<f32>;

    /// Runs blocks `from..n_layer` on `x` (T, C), the stacked residual entering block `from`,
    /// appending each sequence's keys and values to those blocks of its cache, then the final
    /// norm and the unembedding: each one's logits (V,) of its last new position. Before each
    /// block it asks whether every sequence's [`Stop`] is raised and, if so, returns nothing.
    /// The inputs have passed the checks and it runs on the pool: call
    /// [`Architecture::forward_batch`] or [`Architecture::resume_batch`].
    fn run_from(&self, from: usize, x: Vec<f32>, batch: &mut [Sequence]) -> Vec<Vec<f32>>;

    /// A whole pass: the embedding, then every block.
    fn run(&self, batch: &mut [Sequence]) -> Vec<Vec<f32>> {
        let x = self.embed(batch);
        self.run_from(0, x, batch)
    }

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
    /// only. A sequence that fails the checks fails the batch before anything runs; a batch
    /// whose every cache's [`Stop`] is raised (or that the [`Watch`] abandons) ends within a
    /// layer, caches as they were.
    fn forward_batch(&self, batch: &mut [Sequence]) -> Result<Vec<Vec<f32>>> {
        for seq in batch.iter() {
            sequence::check(self.dims(), 0, seq.tokens, seq.cache)?;
        }
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let logits = pool::install(|| self.run(batch));
        let d = self.dims();
        // An abandoned pass returns no logits (the batch has sequences).
        if logits.is_empty() || sequence::abandoned(batch, d.n_layer, d.n_layer) {
            for seq in batch.iter_mut() {
                seq.cache.forget_new(d.kv_width());
            }
            return Err(Error::Cancelled);
        }
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

    /// Runs every sequence of `batch` from block `from` on, as [`Architecture::forward_batch`]
    /// would from the start: `x` (T, C) is the stacked residual entering block `from` for every
    /// sequence's new tokens (recorded in an earlier pass, perhaps patched), and each cache
    /// holds the positions before them in blocks `from..` (see [`KvCache::resumable`]). Leaves
    /// every cache as it found it. An activation patching sweep runs this way: everything
    /// before the patched block and position is the unpatched run's, so it is not run again.
    fn resume_batch(
        &self,
        from: usize,
        x: Vec<f32>,
        batch: &mut [Sequence],
    ) -> Result<Vec<Vec<f32>>> {
        let d = self.dims();
        if from >= d.n_layer {
            return Err(Error::Input(format!(
                "block {from} does not exist: the model has {}",
                d.n_layer
            )));
        }
        let rows: usize = batch.iter().map(|s| s.tokens.len()).sum();
        if x.len() != rows * d.n_embd {
            return Err(Error::Input(format!(
                "{} residual values for {rows} positions of width {}",
                x.len(),
                d.n_embd
            )));
        }
        for seq in batch.iter() {
            sequence::check(d, from, seq.tokens, seq.cache)?;
        }
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let logits = pool::install(|| self.run_from(from, x, batch));
        for seq in batch.iter_mut() {
            seq.cache.forget_new(d.kv_width());
        }
        match logits.is_empty() || sequence::abandoned(batch, d.n_layer, d.n_layer) {
            true => Err(Error::Cancelled),
            false => Ok(logits),
        }
    }
}

//! The reference forward pass: one readable GPT-2, with a KV cache and a recorder.
//!
//! embeddings → n_layer × [ln_1 → causal self-attention → add → ln_2 → MLP → add]
//! → ln_f → tied unembedding.
//!
//! It runs a batch of sequences, each after its own KV cache: the matrix products see the new
//! rows of every sequence stacked, so decoding N sequences at once reads each weight once, not
//! N times. Only attention looks at one sequence at a time. A single sequence is a batch of one.

use crate::attention;
use crate::config::Config;
use crate::ops::{activate, add_assign, layer_norm, linear, matmul};
use crate::pool;
use crate::recorder::{NoRecorder, Recorder};
use crate::weights::{Block, Weights};
use crate::{Error, Result};

/// A GPT-2 model: hyperparameters and weights.
pub struct Gpt2 {
    pub config: Config,
    pub weights: Weights,
}

/// Keys and values of every position seen so far, per layer, so each new token attends to
/// the past without recomputing it.
#[derive(Debug, Clone)]
pub struct KvCache {
    pub(crate) keys: Vec<Vec<f32>>,   // n_layer × (S, C)
    pub(crate) values: Vec<Vec<f32>>, // n_layer × (S, C)
    len: usize,
}

/// One sequence of a batch: its new tokens, run after the positions in its cache.
pub struct Sequence<'a> {
    pub tokens: &'a [u32],
    pub cache: &'a mut KvCache,
}

impl KvCache {
    /// Reserves room for the whole context up front: the pages become resident only as
    /// positions are written, and the cache never reallocates (a doubling `Vec` would copy it
    /// and briefly hold it twice).
    pub fn new(config: &Config) -> KvCache {
        let full = || Vec::with_capacity(config.n_positions * config.n_embd);
        KvCache {
            keys: (0..config.n_layer).map(|_| full()).collect(),
            values: (0..config.n_layer).map(|_| full()).collect(),
            len: 0,
        }
    }

    /// A cache of no model, left behind while its contents are away in a batch: the forward
    /// pass refuses it.
    pub(crate) fn detached() -> KvCache {
        KvCache {
            keys: Vec::new(),
            values: Vec::new(),
            len: 0,
        }
    }

    /// How many positions the cache holds.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Gpt2 {
    pub fn new(config: Config, weights: Weights) -> Gpt2 {
        Gpt2 { config, weights }
    }

    /// Runs `tokens` after the positions already in `cache` and returns the logits (V,) of the
    /// last new position. A recorder that wants `logits` gets every new position's (T, V).
    /// The matrix products share the work across [`pool`]'s threads.
    pub fn forward(
        &self,
        tokens: &[u32],
        cache: &mut KvCache,
        rec: &mut dyn Recorder,
    ) -> Result<Vec<f32>> {
        self.check_input(tokens, cache)?;
        let mut batch = [Sequence { tokens, cache }];
        let mut logits = pool::install(|| self.run(&mut batch, rec));
        Ok(logits.swap_remove(0))
    }

    /// Runs every sequence of `batch` after its own cache and returns each one's logits (V,)
    /// of its last new position, the same as [`Gpt2::forward`] on each would (within float
    /// rounding: the products sum in another order). Nothing is recorded: a recorder sees
    /// one sequence's activations.
    pub fn forward_batch(&self, batch: &mut [Sequence]) -> Result<Vec<Vec<f32>>> {
        for seq in batch.iter() {
            self.check_input(seq.tokens, seq.cache)?;
        }
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        Ok(pool::install(|| self.run(batch, &mut NoRecorder)))
    }

    fn run(&self, batch: &mut [Sequence], rec: &mut dyn Recorder) -> Vec<Vec<f32>> {
        let (e, v) = (self.config.n_embd, self.config.vocab_size);
        let mut x = self.embed(batch, rec); // (T, C): every sequence's new rows stacked
        for (l, block) in self.weights.h.iter().enumerate() {
            self.block(l, block, &mut x, batch, rec);
        }
        let t = x.len() / e;
        let xf = layer_norm(&x, &self.weights.ln_f, self.config.layer_norm_epsilon); // (T, C)
        record(rec, "ln_final.hook_normalized", &[t, e], &xf);
        for seq in batch.iter_mut() {
            seq.cache.len += seq.tokens.len();
        }
        if rec.wants("logits") {
            let all = self.unembed(&xf); // (T, V)
            rec.record("logits", &[t, v], &all);
            return vec![all[all.len() - v..].to_vec()]; // recorded runs are one sequence
        }
        let mut last = Vec::with_capacity(batch.len() * e); // (B, C): each sequence's last row
        let mut end = 0;
        for seq in batch.iter() {
            end += seq.tokens.len();
            last.extend_from_slice(&xf[(end - 1) * e..end * e]);
        }
        self.unembed(&last)
            .chunks_exact(v)
            .map(<[f32]>::to_vec)
            .collect() // B × (V,)
    }

    fn check_input(&self, tokens: &[u32], cache: &KvCache) -> Result<()> {
        let c = &self.config;
        if tokens.is_empty() {
            return Err(Error::Input("at least one token is needed".into()));
        }
        if cache.keys.len() != c.n_layer {
            return Err(Error::Input(format!(
                "the KV cache has {} layers, the model {}",
                cache.keys.len(),
                c.n_layer
            )));
        }
        if cache.len + tokens.len() > c.n_positions {
            return Err(Error::Input(format!(
                "{} tokens do not fit in the context of {} positions",
                cache.len + tokens.len(),
                c.n_positions
            )));
        }
        match tokens.iter().find(|&&t| t as usize >= c.vocab_size) {
            Some(t) => Err(Error::Input(format!(
                "token id {t} is outside the vocabulary (0..{})",
                c.vocab_size
            ))),
            None => Ok(()),
        }
    }

    /// Looks up each token's row of `wte` and adds the row of `wpe` for its position.
    fn embed(&self, batch: &[Sequence], rec: &mut dyn Recorder) -> Vec<f32> {
        let e = self.config.n_embd;
        let (mut tok, mut pos) = (Vec::new(), Vec::new()); // (T, C) each
        for seq in batch {
            for &t in seq.tokens {
                let start = tok.len();
                tok.resize(start + e, 0.0);
                self.weights.wte.read_f32(t as usize * e, &mut tok[start..]); // may be 16-bit
            }
            let p = seq.cache.len;
            pos.extend_from_slice(&self.weights.wpe[p * e..(p + seq.tokens.len()) * e]);
        }
        let t = tok.len() / e;
        record(rec, "hook_embed", &[t, e], &tok);
        record(rec, "hook_pos_embed", &[t, e], &pos);
        let mut x = tok;
        add_assign(&mut x, &pos);
        x
    }

    fn block(
        &self,
        l: usize,
        w: &Block,
        x: &mut [f32],
        batch: &mut [Sequence],
        rec: &mut dyn Recorder,
    ) {
        let c = &self.config;
        let shape = [x.len() / c.n_embd, c.n_embd];
        record(rec, &format!("blocks.{l}.hook_resid_pre"), &shape, x);
        let h = layer_norm(x, &w.ln_1, c.layer_norm_epsilon); // (T, C)
        let attn_out = attention::attention(c, l, &w.attn, &h, batch, rec); // (T, C)
        record(rec, &format!("blocks.{l}.hook_attn_out"), &shape, &attn_out);
        add_assign(x, &attn_out);
        record(rec, &format!("blocks.{l}.hook_resid_mid"), &shape, x);
        let mut hidden = linear(&layer_norm(x, &w.ln_2, c.layer_norm_epsilon), &w.mlp.c_fc); // (T, 4C)
        activate(&mut hidden, c.activation);
        let mlp_out = linear(&hidden, &w.mlp.c_proj); // (T, C)
        record(rec, &format!("blocks.{l}.hook_mlp_out"), &shape, &mlp_out);
        add_assign(x, &mlp_out);
        record(rec, &format!("blocks.{l}.hook_resid_post"), &shape, x);
    }

    /// Final residual (T, C) times the transposed unembedding (V, C): one logit per token.
    pub(crate) fn unembed(&self, xf: &[f32]) -> Vec<f32> {
        let (e, v) = (self.config.n_embd, self.config.vocab_size);
        let t = xf.len() / e;
        let mut logits = vec![0.0; t * v]; // (T, V)
        matmul(
            xf,
            self.weights.unembedding().data(),
            &mut logits,
            t,
            e,
            v,
            true,
        );
        logits
    }
}

/// Hands `data` to the recorder only when it asks for `name`.
pub(crate) fn record(rec: &mut dyn Recorder, name: &str, shape: &[usize], data: &[f32]) {
    if rec.wants(name) {
        rec.record(name, shape, data);
    }
}

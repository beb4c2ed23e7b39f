//! The reference forward pass: one readable GPT-2, with a KV cache and a recorder.
//!
//! embeddings → n_layer × [ln_1 → causal self-attention → add → ln_2 → MLP → add]
//! → ln_f → tied unembedding.
//!
//! It runs a batch of sequences, each after its own KV cache: the matrix products see the new
//! rows of every sequence stacked, so decoding N sequences at once reads each weight once, not
//! N times. Only attention looks at one sequence at a time. A single sequence is a batch of one.

use super::attention;
use super::config::Config;
use super::weights::{Block, Weights};
use crate::analysis::recorder::Recorder;
use crate::compute::ops::{activate, add_assign, layer_norm, linear, matmul};
use crate::compute::pool;
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

/// One sequence of a batch: its new tokens, run after the positions in its cache, and what
/// records its activations (nothing when `None`).
pub struct Sequence<'a> {
    pub tokens: &'a [u32],
    pub cache: &'a mut KvCache,
    pub rec: Option<&'a mut dyn Recorder>,
}

impl<'a> Sequence<'a> {
    /// A sequence that records nothing.
    pub fn new(tokens: &'a [u32], cache: &'a mut KvCache) -> Sequence<'a> {
        Sequence {
            tokens,
            cache,
            rec: None,
        }
    }

    /// Whether this sequence's recorder asks for `name`.
    pub(crate) fn wants(&self, name: &str) -> bool {
        self.rec.as_ref().is_some_and(|r| r.wants(name))
    }
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

    /// Keeps the first `len` positions (all of them when `len` is larger): a position's keys
    /// and values depend only on the tokens up to it, so they stay exact for any sequence
    /// that starts with those tokens.
    pub fn truncate(&mut self, len: usize) {
        let len = len.min(self.len);
        let held = self.len.max(1);
        for rows in self.keys.iter_mut().chain(self.values.iter_mut()) {
            let c = rows.len() / held;
            rows.truncate(len * c); // (len, C)
        }
        self.len = len;
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
        let mut batch = [Sequence {
            tokens,
            cache,
            rec: Some(rec),
        }];
        Ok(self.forward_batch(&mut batch)?.swap_remove(0))
    }

    /// Runs every sequence of `batch` after its own cache and returns each one's logits (V,)
    /// of its last new position, as [`Gpt2::forward`] on each would. Up to 16 rows in all (a
    /// batch of decode steps) every row goes through the same arithmetic as alone; more rows
    /// take the GEMM, which sums in another order (equal within float rounding). Each
    /// recorder sees its own sequence's activations (T, ...) only. A sequence that fails the
    /// checks fails the batch before anything runs.
    pub fn forward_batch(&self, batch: &mut [Sequence]) -> Result<Vec<Vec<f32>>> {
        for seq in batch.iter() {
            self.check_input(seq.tokens, seq.cache)?;
        }
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        Ok(pool::install(|| self.run(batch)))
    }

    fn run(&self, batch: &mut [Sequence]) -> Vec<Vec<f32>> {
        let (e, v) = (self.config.n_embd, self.config.vocab_size);
        let mut x = self.embed(batch); // (T, C): every sequence's new rows stacked
        for (l, block) in self.weights.h.iter().enumerate() {
            self.block(l, block, &mut x, batch);
        }
        let xf = layer_norm(&x, &self.weights.ln_f, self.config.layer_norm_epsilon); // (T, C)
        record_rows(batch, "ln_final.hook_normalized", e, &xf);
        for seq in batch.iter_mut() {
            seq.cache.len += seq.tokens.len();
        }
        if batch.iter().any(|s| s.wants("logits")) {
            let all = self.unembed(&xf); // (T, V)
            record_rows(batch, "logits", v, &all);
            return last_rows(batch, v, &all);
        }
        let last = last_rows(batch, e, &xf).concat(); // (B, C): each sequence's last row
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
    fn embed(&self, batch: &mut [Sequence]) -> Vec<f32> {
        let e = self.config.n_embd;
        let (mut tok, mut pos) = (Vec::new(), Vec::new()); // (T, C) each
        for seq in batch.iter() {
            for &t in seq.tokens {
                let start = tok.len();
                tok.resize(start + e, 0.0);
                self.weights.wte.read_f32(t as usize * e, &mut tok[start..]); // may be 16-bit
            }
            let p = seq.cache.len;
            pos.extend_from_slice(&self.weights.wpe[p * e..(p + seq.tokens.len()) * e]);
        }
        record_rows(batch, "hook_embed", e, &tok);
        record_rows(batch, "hook_pos_embed", e, &pos);
        let mut x = tok;
        add_assign(&mut x, &pos);
        x
    }

    fn block(&self, l: usize, w: &Block, x: &mut [f32], batch: &mut [Sequence]) {
        let (c, e) = (&self.config, self.config.n_embd);
        record_rows(batch, &format!("blocks.{l}.hook_resid_pre"), e, x);
        let h = layer_norm(x, &w.ln_1, c.layer_norm_epsilon); // (T, C)
        let attn_out = attention::attention(c, l, &w.attn, &h, batch); // (T, C)
        record_rows(batch, &format!("blocks.{l}.hook_attn_out"), e, &attn_out);
        add_assign(x, &attn_out);
        record_rows(batch, &format!("blocks.{l}.hook_resid_mid"), e, x);
        let mut hidden = linear(&layer_norm(x, &w.ln_2, c.layer_norm_epsilon), &w.mlp.c_fc); // (T, 4C)
        activate(&mut hidden, c.activation);
        let mlp_out = linear(&hidden, &w.mlp.c_proj); // (T, C)
        record_rows(batch, &format!("blocks.{l}.hook_mlp_out"), e, &mlp_out);
        add_assign(x, &mlp_out);
        record_rows(batch, &format!("blocks.{l}.hook_resid_post"), e, x);
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

/// Hands each sequence's rows of the stacked `data` (T, width) to its recorder, when it asks
/// for `name`.
fn record_rows(batch: &mut [Sequence], name: &str, width: usize, data: &[f32]) {
    let mut row = 0;
    for seq in batch.iter_mut() {
        let t = seq.tokens.len();
        if let Some(rec) = seq.rec.as_deref_mut() {
            let rows = &data[row * width..(row + t) * width]; // (T_i, width)
            record(rec, name, &[t, width], rows);
        }
        row += t;
    }
}

/// Each sequence's last row of the stacked `data` (T, width).
fn last_rows(batch: &[Sequence], width: usize, data: &[f32]) -> Vec<Vec<f32>> {
    let mut end = 0;
    batch
        .iter()
        .map(|seq| {
            end += seq.tokens.len();
            data[(end - 1) * width..end * width].to_vec()
        })
        .collect()
}

/// Hands `data` to the recorder only when it asks for `name`.
pub(crate) fn record(rec: &mut dyn Recorder, name: &str, shape: &[usize], data: &[f32]) {
    if rec.wants(name) {
        rec.record(name, shape, data);
    }
}

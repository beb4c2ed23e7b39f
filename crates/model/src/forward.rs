//! The reference forward pass: one readable GPT-2, with a KV cache and a recorder.
//!
//! embeddings → n_layer × [ln_1 → causal self-attention → add → ln_2 → MLP → add]
//! → ln_f → tied unembedding.

use rayon::prelude::*;

use crate::buf::Data;
use crate::config::Config;
use crate::kernels::Shape;
use crate::ops::{activate, add_assign, layer_norm, linear, matmul, matmul_strided, softmax};
use crate::pool;
use crate::recorder::Recorder;
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
    keys: Vec<Vec<f32>>,   // n_layer × (S, C)
    values: Vec<Vec<f32>>, // n_layer × (S, C)
    len: usize,
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
        pool::install(|| Ok(self.run(tokens, cache, rec)))
    }

    fn run(&self, tokens: &[u32], cache: &mut KvCache, rec: &mut dyn Recorder) -> Vec<f32> {
        let c = &self.config;
        let mut x = self.embed(tokens, cache.len, rec); // (T, C)
        for (l, block) in self.weights.h.iter().enumerate() {
            self.block(l, block, &mut x, cache, rec);
        }
        cache.len += tokens.len();
        let xf = layer_norm(&x, &self.weights.ln_f, c.layer_norm_epsilon); // (T, C)
        record(
            rec,
            "ln_final.hook_normalized",
            &[tokens.len(), c.n_embd],
            &xf,
        );
        if rec.wants("logits") {
            let all = self.unembed(&xf); // (T, V)
            rec.record("logits", &[tokens.len(), c.vocab_size], &all);
            return all[all.len() - c.vocab_size..].to_vec();
        }
        self.unembed(&xf[xf.len() - c.n_embd..]) // (V,)
    }

    fn check_input(&self, tokens: &[u32], cache: &KvCache) -> Result<()> {
        let c = &self.config;
        if tokens.is_empty() {
            return Err(Error::Input("at least one token is needed".into()));
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
    fn embed(&self, tokens: &[u32], start: usize, rec: &mut dyn Recorder) -> Vec<f32> {
        let e = self.config.n_embd;
        let mut tok = vec![0.0; tokens.len() * e]; // (T, C)
        for (&t, row) in tokens.iter().zip(tok.chunks_exact_mut(e)) {
            self.weights.wte.read_f32(t as usize * e, row); // wte may be 16-bit
        }
        let pos = self.weights.wpe[start * e..(start + tokens.len()) * e].to_vec(); // (T, C)
        record(rec, "hook_embed", &[tokens.len(), e], &tok);
        record(rec, "hook_pos_embed", &[tokens.len(), e], &pos);
        let mut x = tok;
        add_assign(&mut x, &pos);
        x
    }

    fn block(
        &self,
        l: usize,
        w: &Block,
        x: &mut [f32],
        cache: &mut KvCache,
        rec: &mut dyn Recorder,
    ) {
        let c = &self.config;
        let shape = [x.len() / c.n_embd, c.n_embd];
        record(rec, &format!("blocks.{l}.hook_resid_pre"), &shape, x);
        let attn_out = self.attention(
            l,
            w,
            &layer_norm(x, &w.ln_1, c.layer_norm_epsilon),
            cache,
            rec,
        ); // (T, C)
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

    /// Causal multi-head self-attention of the new positions over everything in the cache.
    fn attention(
        &self,
        l: usize,
        w: &Block,
        h: &[f32],
        cache: &mut KvCache,
        rec: &mut dyn Recorder,
    ) -> Vec<f32> {
        let (e, n_head, d) = (
            self.config.n_embd,
            self.config.n_head,
            self.config.head_dim(),
        );
        let qkv = linear(h, &w.attn.c_attn); // (T, 3C)
        let t = qkv.len() / (3 * e);
        for row in qkv.chunks_exact(3 * e) {
            cache.keys[l].extend_from_slice(&row[e..2 * e]); // (S, C)
            cache.values[l].extend_from_slice(&row[2 * e..]); // (S, C)
        }
        let (keys, values) = (&cache.keys[l], &cache.values[l]);
        let dims = HeadDims {
            e,
            d,
            t,
            s: keys.len() / e, // positions in the cache, the new ones included
        };
        let s = dims.s;
        let mut pattern = vec![0.0; n_head * t * s]; // (H, T, S)
        let outs: Vec<Vec<f32>> = pattern
            .par_chunks_exact_mut(t * s) // each head on its own thread
            .enumerate()
            .map(|(head, p)| attend(head, p, &qkv, keys, values, dims))
            .collect(); // H × (T, D)
        let mut z = vec![0.0; t * e]; // (T, C): the heads' outputs side by side
        for (head, out) in outs.iter().enumerate() {
            for (z, o) in z.chunks_exact_mut(e).zip(out.chunks_exact(d)) {
                z[head * d..(head + 1) * d].copy_from_slice(o);
            }
        }
        record(
            rec,
            &format!("blocks.{l}.attn.hook_pattern"),
            &[n_head, t, s],
            &pattern,
        );
        linear(&z, &w.attn.c_proj) // (T, C)
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

/// Sizes for one head's attention: width C, head width D, new positions T, cached S.
#[derive(Clone, Copy)]
struct HeadDims {
    e: usize,
    d: usize,
    t: usize,
    s: usize,
}

/// One head: scores (T, S) = q kᵀ / √D, causal softmax, then the pattern-weighted sum of
/// values (T, D). The head's q, k and v are width-D slices of wider rows (`qkv` (T, 3C), the
/// cache's (S, C)), so the products read them with row strides. Writes the pattern (T, S)
/// into `p` and returns the output.
fn attend(
    head: usize,
    p: &mut [f32],
    qkv: &[f32],
    keys: &[f32],
    values: &[f32],
    HeadDims { e, d, t, s }: HeadDims,
) -> Vec<f32> {
    let scale = 1.0 / (d as f32).sqrt();
    let qk = Shape {
        m: t,
        k: d,
        n: s,
        xs: 3 * e,
        ws: e,
    };
    matmul_strided(&qkv[head * d..], Data::F32(&keys[head * d..]), p, qk, true);
    for (i, row) in p.chunks_exact_mut(s).enumerate() {
        let visible = s - t + i + 1; // causal: a query sees itself and the past
        row[..visible].iter_mut().for_each(|v| *v *= scale);
        softmax(&mut row[..visible]);
        row[visible..].fill(0.0);
    }
    let mut out = vec![0.0; t * d]; // (T, D)
    let pv = Shape {
        m: t,
        k: s,
        n: d,
        xs: s,
        ws: e,
    };
    matmul_strided(p, Data::F32(&values[head * d..]), &mut out, pv, false);
    out
}

/// Hands `data` to the recorder only when it asks for `name`.
fn record(rec: &mut dyn Recorder, name: &str, shape: &[usize], data: &[f32]) {
    if rec.wants(name) {
        rec.record(name, shape, data);
    }
}

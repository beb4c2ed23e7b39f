//! GPT-2's forward pass, one readable file:
//!
//! embeddings (`wte` + `wpe`) → n_layer × [ln_1 → causal self-attention → add → ln_2 → MLP
//! → add] → ln_f → tied unembedding.
//!
//! It runs a batch of sequences, each after its own KV cache: the matrix products see the new
//! rows of every sequence stacked, so decoding N sequences at once reads each weight once, not
//! N times. Only attention looks at one sequence at a time. A single sequence is a batch of one.

use super::config::Config;
use super::weights::{Block, Weights};
use crate::analysis::recorder::hook_names;
use crate::arch::sequence::{abandoned, final_logits, hook_rows};
use crate::arch::{attention, Architecture, Dims, Sequence};
use crate::compute::ops::{activate, add_assign, layer_norm, linear, matmul, Layout};

/// A GPT-2 model: hyperparameters and weights.
pub struct Gpt2 {
    pub config: Config,
    pub weights: Weights,
    dims: Dims,
}

impl Gpt2 {
    pub fn new(config: Config, weights: Weights) -> Gpt2 {
        let dims = Dims {
            n_layer: config.n_layer,
            n_head: config.n_head,
            n_kv_head: config.n_head,
            n_embd: config.n_embd,
            head_dim: config.head_dim(),
            n_positions: config.n_positions,
            vocab_size: config.vocab_size,
        };
        Gpt2 {
            config,
            weights,
            dims,
        }
    }

    fn block(&self, l: usize, w: &Block, x: &mut [f32], batch: &mut [Sequence]) {
        let (c, e) = (&self.config, self.config.n_embd);
        hook_rows(batch, &format!("blocks.{l}.hook_resid_pre"), &[e], x);
        let h = layer_norm(x, &w.ln_1, c.layer_norm_epsilon); // (T, C)
        let mut attn_out = self.attention(l, w, &h, batch); // (T, C)
        hook_rows(
            batch,
            &format!("blocks.{l}.hook_attn_out"),
            &[e],
            &mut attn_out,
        );
        add_assign(x, &attn_out);
        hook_rows(batch, &format!("blocks.{l}.hook_resid_mid"), &[e], x);
        let mut hidden = linear(&layer_norm(x, &w.ln_2, c.layer_norm_epsilon), &w.mlp.c_fc); // (T, 4C)
        activate(&mut hidden, c.activation);
        let mut mlp_out = linear(&hidden, &w.mlp.c_proj); // (T, C)
        hook_rows(
            batch,
            &format!("blocks.{l}.hook_mlp_out"),
            &[e],
            &mut mlp_out,
        );
        add_assign(x, &mlp_out);
        hook_rows(batch, &format!("blocks.{l}.hook_resid_post"), &[e], x);
    }

    /// `c_attn` makes queries, keys and values side by side; the keys and values join each
    /// sequence's cache, then every head attends and `c_proj` mixes the heads.
    fn attention(&self, l: usize, w: &Block, h: &[f32], batch: &mut [Sequence]) -> Vec<f32> {
        let e = self.config.n_embd;
        let qkv = linear(h, &w.attn.c_attn); // (T, 3C)
        let mut rows = qkv.chunks_exact(3 * e);
        for seq in batch.iter_mut() {
            for r in rows.by_ref().take(seq.tokens.len()) {
                seq.cache.keys[l].extend_from_slice(&r[e..2 * e]); // (S, C)
                seq.cache.values[l].extend_from_slice(&r[2 * e..]); // (S, C)
            }
        }
        let z = attention::attend(&self.dims, l, &qkv, 3 * e, batch); // (T, C)
        linear(&z, &w.attn.c_proj) // (T, C)
    }

    /// Final residual (T, C) times the transposed unembedding (V, C): one logit per token.
    fn unembed(&self, xf: &[f32]) -> Vec<f32> {
        let (e, v) = (self.config.n_embd, self.config.vocab_size);
        let t = xf.len() / e;
        let mut logits = vec![0.0; t * v]; // (T, V)
        let wte = self.weights.unembedding().data();
        matmul(xf, wte, &mut logits, t, e, v, Layout::OutIn);
        logits
    }
}

impl Architecture for Gpt2 {
    fn dims(&self) -> &Dims {
        &self.dims
    }

    fn family(&self) -> &'static str {
        "gpt2"
    }

    fn hook_names(&self) -> Vec<String> {
        hook_names(&["hook_embed", "hook_pos_embed"], self.config.n_layer)
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
            let p = seq.cache.len();
            pos.extend_from_slice(&self.weights.wpe[p * e..(p + seq.tokens.len()) * e]);
        }
        hook_rows(batch, "hook_embed", &[e], &mut tok);
        hook_rows(batch, "hook_pos_embed", &[e], &mut pos);
        let mut x = tok;
        add_assign(&mut x, &pos);
        x
    }

    fn run_from(&self, from: usize, mut x: Vec<f32>, batch: &mut [Sequence]) -> Vec<Vec<f32>> {
        let (e, v) = (self.config.n_embd, self.config.vocab_size);
        for (l, block) in self.weights.h.iter().enumerate().skip(from) {
            if abandoned(batch, l, self.dims().n_layer) {
                return Vec::new(); // forward_batch reports it
            }
            self.block(l, block, &mut x, batch);
        }
        let mut xf = layer_norm(&x, &self.weights.ln_f, self.config.layer_norm_epsilon); // (T, C)
        hook_rows(batch, "ln_final.hook_normalized", &[e], &mut xf);
        final_logits(batch, &xf, (e, v), |rows| self.unembed(rows))
    }

    fn decode_residual(&self, x: &[f32]) -> Vec<f32> {
        self.unembed(&layer_norm(
            x,
            &self.weights.ln_f,
            self.config.layer_norm_epsilon,
        ))
    }

    fn token_embedding(&self, id: u32) -> Vec<f32> {
        let e = self.config.n_embd;
        let mut row = vec![0.0; e]; // (C,)
        self.weights.wte.read_f32(id as usize * e, &mut row);
        row
    }

    fn position_embedding(&self, p: usize) -> Option<Vec<f32>> {
        let e = self.config.n_embd;
        self.weights
            .wpe
            .get(p * e..(p + 1) * e)
            .map(<[f32]>::to_vec)
    }

    fn weight_bytes(&self) -> usize {
        self.weights.bytes()
    }
}

//! Llama's forward pass, one readable file beside GPT-2's. What differs:
//!
//! - no position table: `embed_tokens` alone starts the residual stream, and positions enter
//!   inside attention, as rotary angles that turn each head's queries and keys ([`Rope`]);
//! - RMSNorm instead of LayerNorm: rows scaled to unit root mean square, no mean, no bias;
//! - grouped key/value heads: several query heads share one key/value head;
//! - a gated MLP (SwiGLU): `down(silu(gate(x)) · up(x))`;
//! - `nn.Linear` layers without biases, weights stored (out, in).
//!
//! embed_tokens → n_layer × [input_layernorm → attention → add → post_attention_layernorm →
//! gated MLP → add] → norm → unembedding (tied to `embed_tokens` in small models).

use super::config::Config;
use super::weights::{Layer, Weights};
use crate::analysis::recorder::hook_names;
use crate::arch::rope::Rope;
use crate::arch::sequence::{abandoned, final_logits, hook_rows};
use crate::arch::{attention, Architecture, Dims, Sequence};
use crate::compute::ops::{add_assign, matmul, project, rms_norm, silu_mul, Layout};

/// A Llama-family model: hyperparameters, weights, and its rotary angles.
pub struct Llama {
    pub config: Config,
    pub weights: Weights,
    dims: Dims,
    rope: Rope,
}

impl Llama {
    pub fn new(config: Config, weights: Weights) -> Llama {
        let dims = Dims {
            n_layer: config.num_hidden_layers,
            n_head: config.num_attention_heads,
            n_kv_head: config.num_key_value_heads,
            n_embd: config.hidden_size,
            head_dim: config.head_dim,
            n_positions: config.max_position_embeddings,
            vocab_size: config.vocab_size,
        };
        let rope = Rope::new(config.head_dim, config.rope_theta);
        Llama {
            config,
            weights,
            dims,
            rope,
        }
    }

    fn layer(&self, l: usize, w: &Layer, x: &mut [f32], batch: &mut [Sequence]) {
        let (c, e) = (&self.config, self.config.hidden_size);
        hook_rows(batch, &format!("blocks.{l}.hook_resid_pre"), &[e], x);
        let h = rms_norm(x, &w.input_layernorm, c.rms_norm_eps); // (T, C)
        let mut attn_out = self.attention(l, w, &h, batch); // (T, C)
        hook_rows(
            batch,
            &format!("blocks.{l}.hook_attn_out"),
            &[e],
            &mut attn_out,
        );
        add_assign(x, &attn_out);
        hook_rows(batch, &format!("blocks.{l}.hook_resid_mid"), &[e], x);
        let h = rms_norm(x, &w.post_attention_layernorm, c.rms_norm_eps); // (T, C)
        let mut gate = project(&h, &w.mlp.gate_proj); // (T, I)
        silu_mul(&mut gate, &project(&h, &w.mlp.up_proj));
        let mut mlp_out = project(&gate, &w.mlp.down_proj); // (T, C)
        hook_rows(
            batch,
            &format!("blocks.{l}.hook_mlp_out"),
            &[e],
            &mut mlp_out,
        );
        add_assign(x, &mlp_out);
        hook_rows(batch, &format!("blocks.{l}.hook_resid_post"), &[e], x);
    }

    /// Queries, keys and values; the queries and keys of each sequence turned by their
    /// positions' angles; the keys and values join the cache; every query head attends with
    /// its group's key/value head; `o_proj` mixes the heads.
    fn attention(&self, l: usize, w: &Layer, h: &[f32], batch: &mut [Sequence]) -> Vec<f32> {
        let a = &w.self_attn;
        let (qw, kvw) = (a.q_proj.n_out, a.k_proj.n_out);
        let mut q = project(h, &a.q_proj); // (T, H·D)
        let mut k = project(h, &a.k_proj); // (T, KV·D)
        let v = project(h, &a.v_proj); // (T, KV·D)
        let mut row = 0;
        for seq in batch.iter_mut() {
            let (rows, first) = (row..row + seq.tokens.len(), seq.cache.len());
            self.rope
                .rotate(&mut q[rows.start * qw..rows.end * qw], qw, first);
            self.rope
                .rotate(&mut k[rows.start * kvw..rows.end * kvw], kvw, first);
            seq.cache.keys[l].extend_from_slice(&k[rows.start * kvw..rows.end * kvw]); // (S, KV·D)
            seq.cache.values[l].extend_from_slice(&v[rows.start * kvw..rows.end * kvw]);
            row = rows.end;
        }
        let z = attention::attend(&self.dims, l, &q, qw, batch); // (T, H·D)
        project(&z, &a.o_proj) // (T, C)
    }

    /// Final residual (T, C) times the transposed unembedding (V, C): one logit per token.
    fn unembed(&self, xf: &[f32]) -> Vec<f32> {
        let (e, v) = (self.config.hidden_size, self.config.vocab_size);
        let t = xf.len() / e;
        let mut logits = vec![0.0; t * v]; // (T, V)
        let w = self.weights.unembedding().data();
        matmul(xf, w, &mut logits, t, e, v, Layout::OutIn);
        logits
    }
}

impl Architecture for Llama {
    fn dims(&self) -> &Dims {
        &self.dims
    }

    fn family(&self) -> &'static str {
        "llama"
    }

    fn hook_names(&self) -> Vec<String> {
        hook_names(&["hook_embed"], self.config.num_hidden_layers)
    }

    /// Looks up each token's row of `embed_tokens`.
    fn embed(&self, batch: &mut [Sequence]) -> Vec<f32> {
        let e = self.config.hidden_size;
        let mut x = Vec::new(); // (T, C)
        for &t in batch.iter().flat_map(|seq| seq.tokens) {
            let start = x.len();
            x.resize(start + e, 0.0);
            self.weights
                .embed_tokens
                .read_f32(t as usize * e, &mut x[start..]);
        }
        hook_rows(batch, "hook_embed", &[e], &mut x);
        x
    }

    fn run_from(&self, from: usize, mut x: Vec<f32>, batch: &mut [Sequence]) -> Vec<Vec<f32>> {
        let (e, v) = (self.config.hidden_size, self.config.vocab_size);
        for (l, layer) in self.weights.layers.iter().enumerate().skip(from) {
            if abandoned(batch, l, self.dims().n_layer) {
                return Vec::new(); // forward_batch reports it
            }
            self.layer(l, layer, &mut x, batch);
        }
        let mut xf = rms_norm(&x, &self.weights.norm, self.config.rms_norm_eps); // (T, C)
        hook_rows(batch, "ln_final.hook_normalized", &[e], &mut xf);
        final_logits(batch, &xf, (e, v), |rows| self.unembed(rows))
    }

    fn decode_residual(&self, x: &[f32]) -> Vec<f32> {
        self.unembed(&rms_norm(x, &self.weights.norm, self.config.rms_norm_eps))
    }

    fn token_embedding(&self, id: u32) -> Vec<f32> {
        let e = self.config.hidden_size;
        let mut row = vec![0.0; e]; // (C,)
        self.weights
            .embed_tokens
            .read_f32(id as usize * e, &mut row);
        row
    }

    fn position_embedding(&self, _: usize) -> Option<Vec<f32>> {
        None // positions are rotary angles inside attention, not a table
    }

    fn weight_bytes(&self) -> usize {
        self.weights.bytes()
    }
}

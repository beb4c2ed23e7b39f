//! The parameters of a Llama, named as in Hugging Face's checkpoints (`model.embed_tokens`,
//! `model.layers.{i}.self_attn.q_proj`, `model.norm`, `lm_head`), read from a
//! `model.safetensors` or from a GGUF file under llama.cpp's names.

use std::collections::HashSet;

use super::config::Config;
use crate::checkpoint::checks;
use crate::checkpoint::gguf::Gguf;
use crate::checkpoint::pages::Arena;
use crate::checkpoint::safetensors::SafetensorsFile;
use crate::compute::buf::{Buf, DType};
use crate::{Error, Result};

/// `nn.Linear` without a bias: the weight is stored (n_out, n_in), so `y = x @ weightᵀ`.
#[derive(Debug)]
pub struct Linear {
    pub weight: Buf, // (n_out, n_in)
    pub n_in: usize,
    pub n_out: usize,
}

#[derive(Debug)]
pub struct SelfAttn {
    pub q_proj: Linear, // (H·D, C)
    pub k_proj: Linear, // (KV·D, C)
    pub v_proj: Linear, // (KV·D, C)
    pub o_proj: Linear, // (C, H·D)
}

/// The gated MLP: `down(silu(gate(x)) · up(x))`.
#[derive(Debug)]
pub struct Mlp {
    pub gate_proj: Linear, // (I, C)
    pub up_proj: Linear,   // (I, C)
    pub down_proj: Linear, // (C, I)
}

/// One decoder layer `model.layers.{i}`.
#[derive(Debug)]
pub struct Layer {
    pub input_layernorm: Buf, // (C,) RMSNorm gain
    pub self_attn: SelfAttn,
    pub post_attention_layernorm: Buf, // (C,)
    pub mlp: Mlp,
}

#[derive(Debug)]
pub struct Weights {
    pub embed_tokens: Buf, // (V, C)
    pub layers: Vec<Layer>,
    pub norm: Buf, // (C,)
    /// The output matrix (V, C) of an untied checkpoint; tied ones reuse `embed_tokens`.
    pub lm_head: Option<Buf>,
}

/// Reads one tensor by its Hugging Face name, checked against a row-major shape, stored as the
/// given type.
type Load<'a> = dyn FnMut(&str, &[usize], DType) -> Result<Buf> + 'a;

impl Weights {
    /// The matrix that turns the final residual into logits.
    pub fn unembedding(&self) -> &Buf {
        self.lm_head.as_ref().unwrap_or(&self.embed_tokens) // (V, C)
    }

    /// Bytes the weights occupy in their stored types.
    pub fn bytes(&self) -> usize {
        let size = |b: &Buf| b.len() * b.dtype().size();
        let lin = |l: &Linear| size(&l.weight);
        let layer = |l: &Layer| {
            let (a, m) = (&l.self_attn, &l.mlp);
            size(&l.input_layernorm)
                + size(&l.post_attention_layernorm)
                + [&a.q_proj, &a.k_proj, &a.v_proj, &a.o_proj]
                    .map(lin)
                    .iter()
                    .sum::<usize>()
                + [&m.gate_proj, &m.up_proj, &m.down_proj]
                    .map(lin)
                    .iter()
                    .sum::<usize>()
        };
        size(&self.embed_tokens)
            + size(&self.norm)
            + self.lm_head.as_ref().map_or(0, size)
            + self.layers.iter().map(layer).sum::<usize>()
    }

    /// Reads a Hugging Face `model.safetensors`; matrices are stored as `dtype`.
    pub(crate) fn from_safetensors(
        file: &SafetensorsFile,
        c: &Config,
        dtype: DType,
    ) -> Result<Weights> {
        let has_head = file.has("lm_head.weight") && !c.tie_word_embeddings;
        let mut used = HashSet::new();
        let weights = Weights::load(c, dtype, has_head, &mut |name, shape, dt| {
            used.insert(name.to_string());
            let buf = file.tensor(name, shape, dt)?;
            checks::finite(file.path(), name, &buf)?;
            Ok(buf)
        })?;
        // Rotary frequencies are computed, not read; a tied model's file may keep its head.
        let ignorable = |name: &str| {
            name.ends_with(".rotary_emb.inv_freq")
                || (name == "lm_head.weight" && c.tie_word_embeddings)
        };
        let names = file.names();
        let stored = names.iter().map(String::as_str);
        checks::all_used(file.path(), stored, &used, ignorable)?;
        Ok(weights)
    }

    /// Reads a GGUF file, dequantising every tensor into one arena of huge pages (see
    /// [`Arena`]), which the buffers view in place. llama.cpp's converter permutes the rows
    /// of `attn_q` and `attn_k` within each head to pair adjacent values for its rotation;
    /// they are put back in Hugging Face's order (value i pairs with i + D/2).
    pub fn from_gguf(g: &Gguf, c: &Config, dtype: DType) -> Result<Weights> {
        let has_head = g.has("output.weight");
        let (tensors, values) = g.counts();
        let io = |e| Error::io(g.path(), e);
        let mut arena = Arena::new(tensors, values * DType::F32.size()).map_err(io)?;
        let mut used = HashSet::new();
        let mut spans = Vec::new();
        // Every tensor into the arena first; then the weights, each a view of its span.
        Weights::load(c, dtype, has_head, &mut |name, shape, dt| {
            let stored = gguf_name(name);
            let mut values = g.tensor(&stored, shape)?;
            if name.ends_with("q_proj.weight") || name.ends_with("k_proj.weight") {
                values = unpermute(&values, shape[0] / c.head_dim, c.head_dim, shape[1]);
            }
            spans.push((arena.push(&values, dt), dt));
            used.insert(stored);
            Ok(Buf::owned(Vec::new()))
        })?;
        let image = arena.finish().map_err(io)?;
        let mut spans = spans.into_iter();
        let weights = Weights::load(c, dtype, has_head, &mut |name, _, _| {
            let stored = gguf_name(name);
            let view = spans
                .next()
                .and_then(|(span, dt)| Buf::mapped(&image, &image[span], dt));
            let buf = view.ok_or_else(|| Error::Tensor {
                path: g.path().to_path_buf(),
                name: stored.clone(),
                msg: "not where the load put it".into(),
            })?;
            checks::finite(g.path(), &stored, &buf)?;
            Ok(buf)
        })?;
        // llama.cpp stores Llama 3's scaled rotary frequencies, which the config describes.
        let ignorable = |name: &str| name == "rope_freqs.weight";
        checks::all_used(g.path(), g.names(), &used, ignorable)?;
        Ok(weights)
    }

    fn load(c: &Config, dtype: DType, has_head: bool, load: &mut Load) -> Result<Weights> {
        let (v, e) = (c.vocab_size, c.hidden_size);
        let mut vector = |name: &str| load(name, &[e], DType::F32);
        let norm = vector("model.norm.weight")?;
        let layers = (0..c.num_hidden_layers)
            .map(|i| layer(&format!("model.layers.{i}"), c, dtype, load))
            .collect::<Result<Vec<_>>>()?;
        let lm_head = match has_head {
            true => Some(load("lm_head.weight", &[v, e], dtype)?),
            false => None,
        };
        Ok(Weights {
            embed_tokens: load("model.embed_tokens.weight", &[v, e], dtype)?,
            layers,
            norm,
            lm_head,
        })
    }
}

fn layer(name: &str, c: &Config, dtype: DType, load: &mut Load) -> Result<Layer> {
    let (e, inner) = (c.hidden_size, c.intermediate_size);
    let (q, kv) = (
        c.num_attention_heads * c.head_dim,
        c.num_key_value_heads * c.head_dim,
    );
    let mut linear = |part: &str, n_in: usize, n_out: usize| -> Result<Linear> {
        let weight = load(&format!("{name}.{part}.weight"), &[n_out, n_in], dtype)?;
        Ok(Linear {
            weight,
            n_in,
            n_out,
        })
    };
    let self_attn = SelfAttn {
        q_proj: linear("self_attn.q_proj", e, q)?,
        k_proj: linear("self_attn.k_proj", e, kv)?,
        v_proj: linear("self_attn.v_proj", e, kv)?,
        o_proj: linear("self_attn.o_proj", q, e)?,
    };
    let mlp = Mlp {
        gate_proj: linear("mlp.gate_proj", e, inner)?,
        up_proj: linear("mlp.up_proj", e, inner)?,
        down_proj: linear("mlp.down_proj", inner, e)?,
    };
    Ok(Layer {
        input_layernorm: load(&format!("{name}.input_layernorm.weight"), &[e], DType::F32)?,
        self_attn,
        post_attention_layernorm: load(
            &format!("{name}.post_attention_layernorm.weight"),
            &[e],
            DType::F32,
        )?,
        mlp,
    })
}

/// llama.cpp's name for a Hugging Face tensor name.
fn gguf_name(hf: &str) -> String {
    const PARTS: [(&str, &str); 9] = [
        ("input_layernorm", "attn_norm"),
        ("self_attn.q_proj", "attn_q"),
        ("self_attn.k_proj", "attn_k"),
        ("self_attn.v_proj", "attn_v"),
        ("self_attn.o_proj", "attn_output"),
        ("post_attention_layernorm", "ffn_norm"),
        ("mlp.gate_proj", "ffn_gate"),
        ("mlp.up_proj", "ffn_up"),
        ("mlp.down_proj", "ffn_down"),
    ];
    match hf {
        "model.embed_tokens.weight" => return "token_embd.weight".into(),
        "model.norm.weight" => return "output_norm.weight".into(),
        "lm_head.weight" => return "output.weight".into(),
        _ => {}
    }
    let rest = hf.strip_prefix("model.layers.").unwrap_or(hf);
    let (layer, part) = rest.split_once('.').unwrap_or((rest, ""));
    let part = part.strip_suffix(".weight").unwrap_or(part);
    let gguf = PARTS
        .iter()
        .find(|(h, _)| *h == part)
        .map_or(part, |(_, g)| g);
    format!("blk.{layer}.{gguf}.weight")
}

/// Rows of a (heads·D, cols) matrix from llama.cpp's order back to Hugging Face's: within a
/// head, llama.cpp's row 2i + j is Hugging Face's row j·D/2 + i.
fn unpermute(w: &[f32], heads: usize, d: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; w.len()];
    for h in 0..heads {
        for r in 0..d {
            let (j, i) = (r / (d / 2), r % (d / 2));
            let from = (h * d + 2 * i + j) * cols;
            out[(h * d + r) * cols..][..cols].copy_from_slice(&w[from..from + cols]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_llama_cpp() {
        let cases = [
            ("model.embed_tokens.weight", "token_embd.weight"),
            (
                "model.layers.3.self_attn.k_proj.weight",
                "blk.3.attn_k.weight",
            ),
            (
                "model.layers.12.mlp.down_proj.weight",
                "blk.12.ffn_down.weight",
            ),
            (
                "model.layers.0.post_attention_layernorm.weight",
                "blk.0.ffn_norm.weight",
            ),
            ("model.norm.weight", "output_norm.weight"),
        ];
        for (hf, gguf) in cases {
            assert_eq!(gguf_name(hf), gguf);
        }
    }

    /// llama.cpp's converter permutes with `reshape(heads, 2, D/2, cols).swapaxes(1, 2)`;
    /// un-permuting must give the original rows back.
    #[test]
    fn unpermute_inverts_the_converters_permutation() {
        let (heads, d, cols) = (3, 8, 2);
        let hf: Vec<f32> = (0..heads * d * cols).map(|i| i as f32).collect();
        let mut permuted = vec![0.0; hf.len()];
        for h in 0..heads {
            for j in 0..2 {
                for i in 0..d / 2 {
                    let (to, from) = (h * d + 2 * i + j, h * d + j * d / 2 + i);
                    permuted[to * cols..][..cols].copy_from_slice(&hf[from * cols..][..cols]);
                }
            }
        }
        assert_eq!(unpermute(&permuted, heads, d, cols), hf);
    }
}

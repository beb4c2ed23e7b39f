//! The parameters of GPT-2, named as in the checkpoint (`wte`, `wpe`, `h.{i}.attn.c_attn`, `ln_f`).

use std::cell::RefCell;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;
use safetensors::{Dtype, SafeTensors};

use super::config::Config;
use crate::checkpoint::checks;
use crate::checkpoint::convert::{self, Source};
use crate::checkpoint::pages;
use crate::compute::buf::{Buf, DType, Image};
use crate::compute::kernels::slabs;
use crate::{Error, Result};

/// `ln_1`, `ln_2`, `ln_f`: a learned gain and bias per channel.
#[derive(Debug)]
pub struct LayerNorm {
    pub weight: Buf, // (C,)
    pub bias: Buf,   // (C,)
}

/// GPT-2's `Conv1D`: a linear layer whose weight is stored `[in, out]` (the transpose of
/// `nn.Linear`), so `y = x @ weight + bias`. It stays `[in, out]` in every dtype: the matrix
/// products sum each output over the rows of `weight` in order (the axpy order), which a
/// prefill's GEMM and a decode step's row-streaming kernel both follow. Converted to 16 bits
/// at load, its values are stored in slabs of columns where the kernels read those faster
/// (`kernels::slabs`): the same sums, each thread's columns in long runs of memory.
#[derive(Debug)]
pub struct Conv1D {
    pub weight: Buf, // (n_in, n_out), in slabs of columns when `slabs`
    pub bias: Buf,   // (n_out,)
    pub n_in: usize,
    pub n_out: usize,
    pub slabs: bool,
}

#[derive(Debug)]
pub struct Attention {
    pub c_attn: Conv1D, // (C, 3C): queries, keys and values side by side
    pub c_proj: Conv1D, // (C, C)
}

#[derive(Debug)]
pub struct Mlp {
    pub c_fc: Conv1D,   // (C, 4C)
    pub c_proj: Conv1D, // (4C, C)
}

/// One transformer block `h.{i}`.
#[derive(Debug)]
pub struct Block {
    pub ln_1: LayerNorm,
    pub attn: Attention,
    pub ln_2: LayerNorm,
    pub mlp: Mlp,
}

#[derive(Debug)]
pub struct Weights {
    pub wte: Buf, // (V, C) token embeddings, also the unembedding (tied)
    pub wpe: Buf, // (P, C) learned positional embeddings
    pub h: Vec<Block>,
    pub ln_f: LayerNorm,
    /// An untied output matrix (V, C), present only in checkpoints that store `lm_head.weight`.
    pub lm_head: Option<Buf>,
}

impl Weights {
    /// The matrix that turns the final residual into logits: `lm_head` or, tied, `wte`.
    pub fn unembedding(&self) -> &Buf {
        self.lm_head.as_ref().unwrap_or(&self.wte) // (V, C)
    }

    /// Bytes the weights occupy in their stored types (mapped or owned).
    pub fn bytes(&self) -> usize {
        let size = |b: &Buf| b.len() * b.dtype().size();
        let ln = |l: &LayerNorm| size(&l.weight) + size(&l.bias);
        let conv = |c: &Conv1D| size(&c.weight) + size(&c.bias);
        let blocks: usize = self
            .h
            .iter()
            .map(|b| {
                ln(&b.ln_1)
                    + ln(&b.ln_2)
                    + conv(&b.attn.c_attn)
                    + conv(&b.attn.c_proj)
                    + conv(&b.mlp.c_fc)
                    + conv(&b.mlp.c_proj)
            })
            .sum();
        size(&self.wte)
            + size(&self.wpe)
            + ln(&self.ln_f)
            + self.lm_head.as_ref().map_or(0, size)
            + blocks
    }

    /// Reads a `model.safetensors` file and checks every tensor against `config`.
    pub fn load(path: &Path, config: &Config) -> Result<Weights> {
        Weights::load_as(path, config, DType::F32)
    }

    /// Like [`Weights::load`], with the matrices (`wte`, `lm_head`, every `Conv1D` weight)
    /// stored as `dtype`, converted at load when the file holds another type. Vectors (biases,
    /// gains, `wpe`) stay f32.
    pub fn load_as(path: &Path, config: &Config, dtype: DType) -> Result<Weights> {
        let file = checks::open_regular(path)?;
        let map = match dtype {
            // Used in place: read once into huge pages, where decoding streams them fastest.
            DType::F32 => {
                let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
                let len = usize::try_from(len).map_err(|_| Error::Format {
                    path: path.to_path_buf(),
                    msg: format!("{len} bytes do not fit in memory"),
                })?;
                let start = crate::checkpoint::safetensors::data_start(&file);
                pages::read_file(&file, len, start).map(|m| Arc::new(m) as Arc<Image>)
            }
            // Every tensor is read (converted chunk by chunk) from the file, never through
            // the mapping, which only locates them: their f32 source never becomes resident,
            // and once loaded the model holds nothing of the file.
            // SAFETY: the map is read-only; like every mmap-based loader we assume the file is
            // not truncated by another process while the model is loaded.
            _ => unsafe { Mmap::map(&file) }.map(|m| Arc::new(m) as Arc<Image>),
        }
        .map_err(|e| Error::io(path, e))?;
        let source = match dtype {
            DType::F32 => Source::Loaded { map: &map },
            _ => Source::Mapped {
                file: &file,
                map: &map,
            },
        };
        Reader::new(path, &map, source, dtype)?.weights(config)
    }

    /// Reads a whole safetensors file already in memory (the browser engine streams a download
    /// into one), with the matrices stored as `dtype`: tensors of that type are used in place,
    /// so an f32 file costs no second copy. `label` names it in errors.
    pub fn from_image(
        image: Arc<Image>,
        label: &Path,
        config: &Config,
        dtype: DType,
    ) -> Result<Weights> {
        let source = Source::Loaded { map: &image };
        Reader::new(label, &image, source, dtype)?.weights(config)
    }

    /// Reads a safetensors image held in memory (a model embedded in the binary); `label`
    /// names it in errors. Tensors are copied, so `bytes` need not outlive the weights.
    pub fn from_bytes(bytes: &[u8], label: &Path, config: &Config) -> Result<Weights> {
        Reader::new(label, bytes, Source::Memory, DType::F32)?.weights(config)
    }
}

struct Reader<'a> {
    path: PathBuf,
    st: SafeTensors<'a>,
    /// Where `st`'s bytes live: a mapped file lets tensors be used in place.
    source: Source<'a>,
    /// How matrices are stored.
    dtype: DType,
    /// The stored names read so far: what is left over at the end is an error.
    used: RefCell<HashSet<String>>,
}

impl<'a> Reader<'a> {
    fn new(path: &Path, bytes: &'a [u8], source: Source<'a>, dtype: DType) -> Result<Reader<'a>> {
        let st = SafeTensors::deserialize(bytes).map_err(|e| Error::Format {
            path: path.to_path_buf(),
            msg: format!("not a valid safetensors file: {e}"),
        })?;
        Ok(Reader {
            path: path.to_path_buf(),
            st,
            source,
            dtype,
            used: RefCell::new(HashSet::new()),
        })
    }

    fn weights(&self, c: &Config) -> Result<Weights> {
        let (v, p, e) = (c.vocab_size, c.n_positions, c.n_embd);
        let h = (0..c.n_layer)
            .map(|i| self.block(&format!("h.{i}"), c))
            .collect::<Result<Vec<_>>>()?;
        let lm_head = match self.find("lm_head.weight") {
            Some(_) => Some(self.tensor("lm_head.weight", &[v, e], self.dtype)?),
            None => None,
        };
        let weights = Weights {
            wte: self.tensor("wte.weight", &[v, e], self.dtype)?,
            wpe: self.tensor("wpe.weight", &[p, e], DType::F32)?,
            h,
            ln_f: self.layer_norm("ln_f", e)?,
            lm_head,
        };
        // `h.{i}.attn.bias` and `.masked_bias` are the causal mask and its fill value, which
        // Hugging Face's GPT-2 stores as buffers; the forward pass masks by position instead.
        let buffer = |name: &str| name.ends_with(".attn.bias") || name.ends_with(".masked_bias");
        let names = self.st.names();
        let stored = names.iter().copied();
        checks::all_used(&self.path, stored, &self.used.borrow(), buffer)?;
        Ok(weights)
    }

    fn block(&self, name: &str, c: &Config) -> Result<Block> {
        let (e, inner) = (c.n_embd, c.n_inner);
        Ok(Block {
            ln_1: self.layer_norm(&format!("{name}.ln_1"), e)?,
            attn: Attention {
                c_attn: self.conv1d(&format!("{name}.attn.c_attn"), e, 3 * e)?,
                c_proj: self.conv1d(&format!("{name}.attn.c_proj"), e, e)?,
            },
            ln_2: self.layer_norm(&format!("{name}.ln_2"), e)?,
            mlp: Mlp {
                c_fc: self.conv1d(&format!("{name}.mlp.c_fc"), e, inner)?,
                c_proj: self.conv1d(&format!("{name}.mlp.c_proj"), inner, e)?,
            },
        })
    }

    fn layer_norm(&self, name: &str, width: usize) -> Result<LayerNorm> {
        Ok(LayerNorm {
            weight: self.tensor(&format!("{name}.weight"), &[width], DType::F32)?,
            bias: self.tensor(&format!("{name}.bias"), &[width], DType::F32)?,
        })
    }

    fn conv1d(&self, name: &str, n_in: usize, n_out: usize) -> Result<Conv1D> {
        // In slabs of columns where converted to 16 bits and the kernels read those faster.
        let slabs = slabs::pay(self.dtype).then_some((n_in, n_out));
        let weight = format!("{name}.weight");
        let (weight, slabs) = self.load(&weight, &[n_in, n_out], self.dtype, slabs)?;
        Ok(Conv1D {
            weight,
            bias: self.tensor(&format!("{name}.bias"), &[n_out], DType::F32)?,
            n_in,
            n_out,
            slabs,
        })
    }

    /// The stored key for `name`: with the `transformer.` prefix or without it.
    fn find(&self, name: &str) -> Option<String> {
        let names = self.st.names();
        [format!("transformer.{name}"), name.to_string()]
            .into_iter()
            .find(|k| names.iter().any(|n| **n == *k))
    }

    fn tensor(&self, name: &str, shape: &[usize], dtype: DType) -> Result<Buf> {
        Ok(self.load(name, shape, dtype, None)?.0)
    }

    /// Tensor `name` as `dtype` ([`convert::tensor_in`]): a (k, n) matrix `slabs` in slabs of
    /// columns where converted to 16 bits, and whether it is.
    fn load(
        &self,
        name: &str,
        shape: &[usize],
        dtype: DType,
        slabs: Option<(usize, usize)>,
    ) -> Result<(Buf, bool)> {
        let (bytes, from) = self.view(name, shape)?;
        let (buf, in_slabs) = convert::tensor_in(bytes, from, dtype, self.source, slabs)
            .map_err(|e| Error::io(&self.path, e))?;
        checks::finite(&self.path, name, &buf)?;
        Ok((buf, in_slabs))
    }

    /// The stored bytes and dtype of `name`, checked against `shape`.
    fn view(&self, name: &str, shape: &[usize]) -> Result<(&'a [u8], DType)> {
        let err = |msg: String| Error::Tensor {
            path: self.path.clone(),
            name: name.to_string(),
            msg,
        };
        let key = self.find(name).ok_or_else(|| err("missing".into()))?;
        let view = self.st.tensor(&key).map_err(|e| err(e.to_string()))?;
        self.used.borrow_mut().insert(key);
        if view.shape() != shape {
            return Err(err(format!("shape {:?}, expected {shape:?}", view.shape())));
        }
        let from = match view.dtype() {
            Dtype::F32 => DType::F32,
            Dtype::F16 => DType::F16,
            Dtype::BF16 => DType::Bf16,
            other => return Err(err(format!("dtype {other:?}, expected F32, F16 or BF16"))),
        };
        Ok((view.data(), from))
    }
}

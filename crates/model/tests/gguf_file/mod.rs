//! GGUF files written byte by byte for tests (and the `gguf` fuzz target's seed): a tiny valid
//! Llama, and the fields to damage it with. The layout is llama.cpp's `gguf.md`: magic,
//! version, counts, typed key/value metadata, tensor descriptions (dimensions fastest first),
//! then each tensor's data at an aligned offset from the data section's start.
#![allow(dead_code)] // the fuzz target uses only part

/// Values of gguf's metadata types used here; `Raw` writes any type id and bytes as they are.
#[derive(Debug, Clone)]
pub enum Meta {
    U32(u32),
    F32(f32),
    Str(String),
    Strs(Vec<String>),
    I32s(Vec<i32>),
    Raw(u32, Vec<u8>),
}

#[derive(Debug, Clone)]
pub struct Tensor {
    pub name: String,
    /// Dimensions fastest first: a row-major (rows, cols) matrix is `[cols, rows]`.
    pub dims: Vec<u64>,
    /// ggml's type id (0 = F32, 1 = F16).
    pub kind: u32,
    pub data: Vec<u8>,
    /// Written instead of the offset the layout gives, when set.
    pub offset: Option<u64>,
}

/// A whole file, written by [`GgufFile::bytes`]. `n_tensors` and `n_kv` replace the true
/// counts in the header when set.
#[derive(Debug, Clone)]
pub struct GgufFile {
    pub magic: [u8; 4],
    pub version: u32,
    pub n_tensors: Option<u64>,
    pub n_kv: Option<u64>,
    pub meta: Vec<(String, Meta)>,
    pub tensors: Vec<Tensor>,
}

const ALIGN: usize = 32;
/// Width, heads (query / key-value), head width, MLP width, context of the tiny Llama.
const C: u64 = 8;
const HEADS: u64 = 2;
const KV_HEADS: u64 = 1;
const HEAD_DIM: u64 = 4;
const INNER: u64 = 16;

/// GPT-2's printable stand-in for each byte (`bytes_to_unicode`): byte-level BPE spells
/// tokens with these characters.
pub fn byte_char(b: u8) -> char {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
    if printable(b) {
        return char::from(b);
    }
    let rank = (0..b).filter(|&x| !printable(x)).count() as u32;
    char::from_u32(256 + rank).expect("a valid char")
}

/// `n` small deterministic f32 values, as little-endian bytes.
pub fn values(n: u64, seed: u64) -> Vec<u8> {
    (0..n)
        .flat_map(|i| {
            let x = ((i * 7919 + seed * 104_729) % 197) as f32 / 197.0 - 0.5;
            (0.3 * x).to_le_bytes()
        })
        .collect()
}

impl GgufFile {
    /// A one-layer Llama, width 8, 2 query heads sharing 1 key/value head, tied embeddings,
    /// a 258-token byte-level vocabulary (256 bytes, `Ġt`, `he`), all weights F32.
    pub fn tiny_llama() -> GgufFile {
        let mut tokens: Vec<String> = (0..=255u8).map(|b| byte_char(b).to_string()).collect();
        tokens.extend(["Ġt", "he"].map(String::from));
        let n_vocab = tokens.len() as u64;
        let u = |k: &str, v: u64| (k.to_string(), Meta::U32(v as u32));
        let s = |k: &str, v: &str| (k.to_string(), Meta::Str(v.to_string()));
        let meta = vec![
            s("general.architecture", "llama"),
            u("llama.block_count", 1),
            u("llama.context_length", 64),
            u("llama.embedding_length", C),
            u("llama.feed_forward_length", INNER),
            u("llama.attention.head_count", HEADS),
            u("llama.attention.head_count_kv", KV_HEADS),
            u("llama.rope.dimension_count", HEAD_DIM),
            (
                "llama.attention.layer_norm_rms_epsilon".into(),
                Meta::F32(1e-5),
            ),
            ("llama.rope.freq_base".into(), Meta::F32(10000.0)),
            s("tokenizer.ggml.model", "gpt2"),
            s("tokenizer.ggml.pre", "gpt2"),
            (
                "tokenizer.ggml.token_type".into(),
                Meta::I32s(vec![1; tokens.len()]),
            ),
            ("tokenizer.ggml.tokens".into(), Meta::Strs(tokens)),
            (
                "tokenizer.ggml.merges".into(),
                Meta::Strs(vec!["Ġ t".into(), "h e".into()]),
            ),
        ];
        let (q, kv) = (HEADS * HEAD_DIM, KV_HEADS * HEAD_DIM);
        let shapes: [(&str, Vec<u64>); 11] = [
            ("token_embd.weight", vec![C, n_vocab]),
            ("output_norm.weight", vec![C]),
            ("blk.0.attn_norm.weight", vec![C]),
            ("blk.0.attn_q.weight", vec![C, q]),
            ("blk.0.attn_k.weight", vec![C, kv]),
            ("blk.0.attn_v.weight", vec![C, kv]),
            ("blk.0.attn_output.weight", vec![q, C]),
            ("blk.0.ffn_norm.weight", vec![C]),
            ("blk.0.ffn_gate.weight", vec![C, INNER]),
            ("blk.0.ffn_up.weight", vec![C, INNER]),
            ("blk.0.ffn_down.weight", vec![INNER, C]),
        ];
        let tensors = (0..)
            .zip(shapes)
            .map(|(seed, (name, dims))| Tensor {
                name: name.to_string(),
                data: values(dims.iter().product(), seed),
                dims,
                kind: 0,
                offset: None,
            })
            .collect();
        GgufFile {
            magic: *b"GGUF",
            version: 3,
            n_tensors: None,
            n_kv: None,
            meta,
            tensors,
        }
    }

    /// Sets `key` to `value`, in place if it is there, else at the end.
    pub fn set(&mut self, key: &str, value: Meta) {
        match self.meta.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value,
            None => self.meta.push((key.to_string(), value)),
        }
    }

    pub fn remove(&mut self, key: &str) {
        self.meta.retain(|(k, _)| k != key);
    }

    pub fn tensor(&mut self, name: &str) -> &mut Tensor {
        let found = self.tensors.iter_mut().find(|t| t.name == name);
        found.unwrap_or_else(|| panic!("no tensor {name}"))
    }

    /// The file's bytes; each tensor's data starts on a 32-byte boundary.
    pub fn bytes(&self) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend(self.magic);
        f.extend(self.version.to_le_bytes());
        let n_tensors = self.n_tensors.unwrap_or(self.tensors.len() as u64);
        f.extend(n_tensors.to_le_bytes());
        f.extend(self.n_kv.unwrap_or(self.meta.len() as u64).to_le_bytes());
        for (key, value) in &self.meta {
            string(&mut f, key);
            meta(&mut f, value);
        }
        let mut at = 0u64;
        for t in &self.tensors {
            string(&mut f, &t.name);
            f.extend((t.dims.len() as u32).to_le_bytes());
            t.dims.iter().for_each(|d| f.extend(d.to_le_bytes()));
            f.extend(t.kind.to_le_bytes());
            f.extend(t.offset.unwrap_or(at).to_le_bytes());
            at = (at + t.data.len() as u64).next_multiple_of(ALIGN as u64);
        }
        for t in &self.tensors {
            f.resize(f.len().next_multiple_of(ALIGN), 0);
            f.extend(&t.data);
        }
        f
    }
}

fn string(f: &mut Vec<u8>, s: &str) {
    f.extend((s.len() as u64).to_le_bytes());
    f.extend(s.as_bytes());
}

fn meta(f: &mut Vec<u8>, value: &Meta) {
    let (kind, body): (u32, Vec<u8>) = match value {
        Meta::U32(v) => (4, v.to_le_bytes().to_vec()),
        Meta::F32(v) => (6, v.to_le_bytes().to_vec()),
        Meta::Str(s) => (8, {
            let mut b = Vec::new();
            string(&mut b, s);
            b
        }),
        Meta::Strs(items) => (9, {
            let mut b = 8u32.to_le_bytes().to_vec();
            b.extend((items.len() as u64).to_le_bytes());
            items.iter().for_each(|s| string(&mut b, s));
            b
        }),
        Meta::I32s(items) => (9, {
            let mut b = 5u32.to_le_bytes().to_vec();
            b.extend((items.len() as u64).to_le_bytes());
            items.iter().for_each(|v| b.extend(v.to_le_bytes()));
            b
        }),
        Meta::Raw(kind, bytes) => (*kind, bytes.clone()),
    };
    f.extend(kind.to_le_bytes());
    f.extend(body);
}

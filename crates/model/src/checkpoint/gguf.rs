//! GGUF, llama.cpp's one-file checkpoint: a header of typed metadata (hyperparameters, the
//! tokenizer's vocabulary and merges) and tensor descriptions, then the tensors' data.
//!
//! Tensors are read one at a time from the file (never through a mapping) and dequantised to
//! f32 at load: F32, F16, BF16, and the block formats Q8_0, Q4_0 and Q4_1, whose blocks of 32
//! values share one f16 scale (and, for Q4_1, one f16 minimum). The layout is llama.cpp's
//! `ggml-common.h`; dimensions are listed fastest first, so `[576, 49152]` is a row-major
//! (49152, 576) matrix.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use half::{bf16, f16};

use super::gguf_header::{Header, MAX_ITEMS};
use crate::{Error, Result};

/// Values per block of the quantised formats.
const BLOCK: usize = 32;

/// A metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Uint(u64),
    Int(i64),
    Float(f64),
    Bool(bool),
    String(String),
    Array(Vec<Value>),
}

/// How a tensor's values are stored (ggml's type ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    F32,
    F16,
    Bf16,
    Q8_0,
    Q4_0,
    Q4_1,
}

impl Kind {
    fn from_id(id: u32) -> Option<Kind> {
        Some(match id {
            0 => Kind::F32,
            1 => Kind::F16,
            2 => Kind::Q4_0,
            3 => Kind::Q4_1,
            8 => Kind::Q8_0,
            30 => Kind::Bf16,
            _ => return None,
        })
    }

    /// Bytes for `n` values (`n` a multiple of the block for quantised kinds).
    fn bytes(self, n: u64) -> u64 {
        let blocks = n / BLOCK as u64;
        match self {
            Kind::F32 => 4 * n,
            Kind::F16 | Kind::Bf16 => 2 * n,
            Kind::Q8_0 => blocks * (2 + 32),
            Kind::Q4_0 => blocks * (2 + 16),
            Kind::Q4_1 => blocks * (2 + 2 + 16),
        }
    }

    fn quantised(self) -> bool {
        matches!(self, Kind::Q8_0 | Kind::Q4_0 | Kind::Q4_1)
    }
}

#[derive(Debug, Clone)]
struct TensorInfo {
    /// Row-major shape: the file's dimensions reversed.
    shape: Vec<usize>,
    kind: Kind,
    /// From the start of the file.
    offset: u64,
    bytes: u64,
}

/// An open GGUF file: its metadata, and its tensors to read on demand.
pub struct Gguf {
    path: PathBuf,
    file: File,
    pub metadata: HashMap<String, Value>,
    tensors: HashMap<String, TensorInfo>,
}

impl Gguf {
    /// Reads the header and checks that every tensor lies inside the file.
    pub fn open(path: &Path) -> Result<Gguf> {
        let file = super::checks::open_regular(path)?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        let mut header = Header::new(BufReader::new(&file));
        let (metadata, infos) = header.read().map_err(|msg| format_error(path, msg))?;
        let alignment = match metadata.get("general.alignment") {
            Some(Value::Uint(a)) if a.is_power_of_two() => *a,
            None => 32,
            Some(other) => return Err(format_error(path, format!("alignment {other:?}"))),
        };
        let data = header.at.next_multiple_of(alignment);
        let mut tensors = HashMap::with_capacity(infos.len());
        for (name, dims, kind_id, offset) in infos {
            let info = tensor_info(&dims, kind_id, data, offset, len)
                .map_err(|msg| format_error(path, format!("tensor {name:?}: {msg}")))?;
            tensors.insert(name, info);
        }
        Ok(Gguf {
            path: path.to_path_buf(),
            file,
            metadata,
            tensors,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every stored tensor's name.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    /// How many tensors the file holds, and how many values they hold in all.
    pub fn counts(&self) -> (usize, usize) {
        let values = self
            .tensors
            .values()
            .map(|t| t.shape.iter().product::<usize>());
        (self.tensors.len(), values.sum())
    }

    /// Whether the file holds a tensor `name`.
    pub fn has(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// Tensor `name` dequantised to f32, checked against the row-major `shape`.
    pub fn tensor(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let err = |msg: String| Error::Tensor {
            path: self.path.clone(),
            name: name.to_string(),
            msg,
        };
        let info = self
            .tensors
            .get(name)
            .ok_or_else(|| err("missing".into()))?;
        if info.shape != shape {
            return Err(err(format!("shape {:?}, expected {shape:?}", info.shape)));
        }
        let mut raw = vec![0; info.bytes as usize];
        let mut file = &self.file;
        file.seek(SeekFrom::Start(info.offset))
            .and_then(|_| file.read_exact(&mut raw))
            .map_err(|e| Error::io(&self.path, e))?;
        Ok(dequantise(&raw, info.kind))
    }

    /// A metadata string.
    pub fn string(&self, key: &str) -> Result<&str> {
        match self.metadata.get(key) {
            Some(Value::String(s)) => Ok(s),
            other => Err(self.bad_key(key, other, "a string")),
        }
    }

    /// A metadata unsigned integer.
    pub fn uint(&self, key: &str) -> Result<u64> {
        match self.metadata.get(key) {
            Some(Value::Uint(v)) => Ok(*v),
            Some(Value::Int(v)) if *v >= 0 => Ok(*v as u64),
            other => Err(self.bad_key(key, other, "an unsigned integer")),
        }
    }

    /// A metadata number.
    pub fn float(&self, key: &str) -> Result<f64> {
        match self.metadata.get(key) {
            Some(Value::Float(v)) => Ok(*v),
            Some(Value::Uint(v)) => Ok(*v as f64),
            Some(Value::Int(v)) => Ok(*v as f64),
            other => Err(self.bad_key(key, other, "a number")),
        }
    }

    /// A metadata array.
    pub fn array(&self, key: &str) -> Result<&[Value]> {
        match self.metadata.get(key) {
            Some(Value::Array(items)) => Ok(items),
            other => Err(self.bad_key(key, other, "an array")),
        }
    }

    fn bad_key(&self, key: &str, found: Option<&Value>, want: &str) -> Error {
        let msg = match found {
            None => format!("metadata {key:?} is missing"),
            Some(v) => format!("metadata {key:?} is {v:?}, expected {want}"),
        };
        format_error(&self.path, msg)
    }
}

fn format_error(path: &Path, msg: String) -> Error {
    Error::Format {
        path: path.to_path_buf(),
        msg: format!("GGUF: {msg}"),
    }
}

/// Where a tensor's data is, checked: a known type, whole blocks, inside the file.
fn tensor_info(
    dims: &[u64],
    kind: u32,
    data: u64,
    offset: u64,
    len: u64,
) -> Result<TensorInfo, String> {
    let kind = Kind::from_id(kind).ok_or_else(|| {
        format!("ggml type {kind} is not supported (F32, F16, BF16, Q8_0, Q4_0, Q4_1 are)")
    })?;
    let n = dims
        .iter()
        .try_fold(1u64, |n, &d| n.checked_mul(d))
        .filter(|&n| n <= MAX_ITEMS * 64)
        .ok_or("too many values")?;
    if kind.quantised() && dims.first().is_none_or(|d| d % BLOCK as u64 != 0) {
        return Err(format!("rows of {dims:?} are not whole blocks of {BLOCK}"));
    }
    let bytes = kind.bytes(n);
    let offset = data.checked_add(offset).ok_or("offset overflows")?;
    if offset.checked_add(bytes).is_none_or(|end| end > len) {
        return Err(format!(
            "{bytes} bytes at {offset} run past the end of the file ({len})"
        ));
    }
    Ok(TensorInfo {
        shape: dims.iter().rev().map(|&d| d as usize).collect(),
        kind,
        offset,
        bytes,
    })
}

/// Raw little-endian values of `kind` as f32.
fn dequantise(raw: &[u8], kind: Kind) -> Vec<f32> {
    let half = |b: &[u8]| f16::from_le_bytes([b[0], b[1]]).to_f32();
    match kind {
        Kind::F32 => raw
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        Kind::F16 => raw.chunks_exact(2).map(half).collect(),
        Kind::Bf16 => raw
            .chunks_exact(2)
            .map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        // d: f16 scale, then 32 signed bytes: x = d · q.
        Kind::Q8_0 => raw
            .chunks_exact(34)
            .flat_map(|b| {
                let d = half(b);
                b[2..].iter().map(move |&q| d * q as i8 as f32)
            })
            .collect(),
        // d, then 16 bytes of two 4-bit values: the low nibbles are values 0..16, the high
        // ones 16..32; x = d · (q − 8).
        Kind::Q4_0 => raw
            .chunks_exact(18)
            .flat_map(|b| nibbles(&b[2..], half(b), -8.0 * half(b)))
            .collect(),
        // d and m, then nibbles as in Q4_0: x = d · q + m.
        Kind::Q4_1 => raw
            .chunks_exact(20)
            .flat_map(|b| nibbles(&b[4..], half(b), half(&b[2..])))
            .collect(),
    }
}

/// The 32 values of one 4-bit block: `scale · q + min`, low nibbles first, then high ones.
fn nibbles(qs: &[u8], scale: f32, min: f32) -> impl Iterator<Item = f32> + '_ {
    let low = qs.iter().map(move |&q| scale * (q & 0x0F) as f32 + min);
    let high = qs.iter().map(move |&q| scale * (q >> 4) as f32 + min);
    low.chain(high)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One block of each quantised kind, written by hand from ggml's block layouts.
    #[test]
    fn blocks_dequantise_as_ggml_defines_them() {
        let d = f16::from_f32(0.5).to_le_bytes();
        let m = f16::from_f32(-1.0).to_le_bytes();
        let qs: Vec<u8> = (0..16u8).map(|i| i | ((15 - i) << 4)).collect(); // low i, high 15 - i
        let q4_0 = [&d[..], &qs].concat();
        let want: Vec<f32> = (0..32)
            .map(|j| if j < 16 { j as f32 } else { (31 - j) as f32 })
            .map(|q| 0.5 * (q - 8.0))
            .collect();
        assert_eq!(dequantise(&q4_0, Kind::Q4_0), want);
        let q4_1 = [&d[..], &m, &qs].concat();
        let want: Vec<f32> = want.iter().map(|x| x + 4.0 - 1.0).collect(); // 0.5 q − 1
        assert_eq!(dequantise(&q4_1, Kind::Q4_1), want);
        let signed: Vec<u8> = (0..32).map(|i| (i as i8 - 16) as u8).collect();
        let q8_0 = [&d[..], &signed].concat();
        let want: Vec<f32> = (0..32).map(|i| 0.5 * (i - 16) as f32).collect();
        assert_eq!(dequantise(&q8_0, Kind::Q8_0), want);
    }

    /// A whole file written here: metadata of several types, an F16 and a Q8_0 tensor.
    #[test]
    fn reads_a_small_file() {
        let mut f = Vec::new();
        let string = |f: &mut Vec<u8>, s: &str| {
            f.extend((s.len() as u64).to_le_bytes());
            f.extend(s.as_bytes());
        };
        f.extend(b"GGUF");
        f.extend(3u32.to_le_bytes());
        f.extend(2u64.to_le_bytes()); // tensors
        f.extend(3u64.to_le_bytes()); // metadata
        string(&mut f, "general.architecture");
        f.extend(8u32.to_le_bytes());
        string(&mut f, "llama");
        string(&mut f, "llama.rope.freq_base");
        f.extend(6u32.to_le_bytes());
        f.extend(10000f32.to_le_bytes());
        string(&mut f, "tokenizer.ggml.tokens");
        f.extend(9u32.to_le_bytes());
        f.extend(8u32.to_le_bytes());
        f.extend(2u64.to_le_bytes());
        string(&mut f, "a");
        string(&mut f, "Ġb");
        for (name, dims, kind, offset) in [("w", [2u64, 3], 1u32, 0u64), ("q", [32, 1], 8, 32)] {
            string(&mut f, name);
            f.extend(2u32.to_le_bytes());
            dims.iter().for_each(|d| f.extend(d.to_le_bytes()));
            f.extend(kind.to_le_bytes());
            f.extend(offset.to_le_bytes());
        }
        f.resize(f.len().next_multiple_of(32), 0);
        let values = [1.0f32, -2.0, 0.5, 3.0, 0.0, -0.25];
        values
            .iter()
            .for_each(|&v| f.extend(f16::from_f32(v).to_le_bytes()));
        f.resize(f.len().next_multiple_of(32), 0);
        f.extend(f16::from_f32(2.0).to_le_bytes());
        f.extend((0..32).map(|i| i as u8));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.gguf");
        std::fs::write(&path, &f).unwrap();
        let g = Gguf::open(&path).unwrap();
        assert_eq!(g.string("general.architecture").unwrap(), "llama");
        assert_eq!(g.float("llama.rope.freq_base").unwrap(), 10000.0);
        let tokens = g.array("tokenizer.ggml.tokens").unwrap();
        assert_eq!(tokens[1], Value::String("Ġb".into()));
        assert_eq!(g.tensor("w", &[3, 2]).unwrap(), values);
        let q: Vec<f32> = (0..32).map(|i| 2.0 * i as f32).collect();
        assert_eq!(g.tensor("q", &[1, 32]).unwrap(), q);
        assert!(g.tensor("w", &[2, 3]).is_err(), "a wrong shape is refused");
        assert!(g.uint("general.architecture").is_err());
        // Cut anywhere, the file is refused with an error, never a panic.
        for cut in [3, 10, 40, 100, f.len() - 1] {
            std::fs::write(&path, &f[..cut]).unwrap();
            assert!(Gguf::open(&path).is_err(), "cut at {cut}");
        }
    }
}

//! The header of a GGUF file: magic, version, typed key/value metadata and tensor
//! descriptions, read with bounds so that a damaged or hostile file is an error before it
//! can ask for an allocation its size does not justify.

use std::collections::HashMap;
use std::io::Read;

use super::gguf::Value;

const MAX_STRING: u64 = 1 << 24;
/// Keys, tensors, and the items of one array.
pub(super) const MAX_ITEMS: u64 = 1 << 24;
/// Array items in all the metadata together. Each costs a [`Value`] (32 bytes) however few
/// bytes it takes in the file, so a file of one-byte items would ask for 32 times its size.
/// The largest published vocabularies (Gemma's 262,144 tokens, scores and types; Llama 3's
/// 128,256 tokens and 280,147 merges) hold under 800,000.
const MAX_ARRAY_ITEMS: u64 = 1 << 21;
const MAX_DIMS: u32 = 4;

/// Reads the header, counting the bytes read so the data's start can be found.
pub(super) struct Header<R: Read> {
    r: R,
    /// Bytes read so far: where the data section starts, once the header is read.
    pub(super) at: u64,
    /// Array items the rest of the metadata may still hold.
    items_left: u64,
}

/// A tensor's description: name, dimensions (fastest first), ggml type, offset in the data.
pub(super) type RawInfo = (String, Vec<u64>, u32, u64);

impl<R: Read> Header<R> {
    pub(super) fn new(r: R) -> Header<R> {
        Header {
            r,
            at: 0,
            items_left: MAX_ARRAY_ITEMS,
        }
    }

    pub(super) fn read(&mut self) -> Result<(HashMap<String, Value>, Vec<RawInfo>), String> {
        let mut magic = [0; 4];
        self.bytes(&mut magic)?;
        if &magic != b"GGUF" {
            return Err("not a GGUF file (no GGUF magic)".into());
        }
        let version = self.u32()?;
        if !(2..=3).contains(&version) {
            return Err(format!("version {version} is not supported (2 and 3 are)"));
        }
        let (n_tensors, n_kv) = (self.count()?, self.count()?);
        let mut metadata = HashMap::new();
        for _ in 0..n_kv {
            let key = self.string()?;
            let kind = self.u32()?;
            let value = self.value(kind, true)?;
            metadata.insert(key, value);
        }
        let mut infos = Vec::new();
        for _ in 0..n_tensors {
            let name = self.string()?;
            let n_dims = self.u32()?;
            if n_dims == 0 || n_dims > MAX_DIMS {
                return Err(format!("tensor {name:?} has {n_dims} dimensions"));
            }
            let dims = (0..n_dims).map(|_| self.u64()).collect::<Result<_, _>>()?;
            let (kind, offset) = (self.u32()?, self.u64()?);
            infos.push((name, dims, kind, offset));
        }
        Ok((metadata, infos))
    }

    /// A value of gguf type `kind`; arrays nest only at the top.
    fn value(&mut self, kind: u32, top: bool) -> Result<Value, String> {
        Ok(match kind {
            0 => Value::Uint(self.array::<1>()?[0] as u64),
            1 => Value::Int(self.array::<1>()?[0] as i8 as i64),
            2 => Value::Uint(u16::from_le_bytes(self.array()?) as u64),
            3 => Value::Int(i16::from_le_bytes(self.array()?) as i64),
            4 => Value::Uint(self.u32()? as u64),
            5 => Value::Int(i32::from_le_bytes(self.array()?) as i64),
            6 => Value::Float(f32::from_le_bytes(self.array()?) as f64),
            7 => Value::Bool(self.array::<1>()?[0] != 0),
            8 => Value::String(self.string()?),
            9 if top => {
                let (item, n) = (self.u32()?, self.count()?);
                self.items_left = self.items_left.checked_sub(n).ok_or_else(|| {
                    format!("more than {MAX_ARRAY_ITEMS} array items in the metadata")
                })?;
                let items = (0..n).map(|_| self.value(item, false));
                Value::Array(items.collect::<Result<_, _>>()?)
            }
            10 => Value::Uint(self.u64()?),
            11 => Value::Int(i64::from_le_bytes(self.array()?)),
            12 => Value::Float(f64::from_le_bytes(self.array()?)),
            other => return Err(format!("metadata value type {other} is not supported")),
        })
    }

    fn bytes(&mut self, out: &mut [u8]) -> Result<(), String> {
        self.r
            .read_exact(out)
            .map_err(|e| format!("header cut short at byte {}: {e}", self.at))?;
        self.at += out.len() as u64;
        Ok(())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut b = [0; N];
        self.bytes(&mut b)?;
        Ok(b)
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A count of items, bounded.
    fn count(&mut self) -> Result<u64, String> {
        let n = self.u64()?;
        if n > MAX_ITEMS {
            return Err(format!("a count of {n} items at byte {}", self.at));
        }
        Ok(n)
    }

    fn string(&mut self) -> Result<String, String> {
        let n = self.u64()?;
        if n > MAX_STRING {
            return Err(format!("a string of {n} bytes at byte {}", self.at));
        }
        // Read, not allocated up front: a short file cannot ask for the whole 16 MiB.
        let mut b = Vec::new();
        let read = (&mut self.r).take(n).read_to_end(&mut b);
        self.at += b.len() as u64;
        match read {
            Ok(got) if got as u64 == n => {}
            Ok(_) => return Err(format!("header cut short at byte {}", self.at)),
            Err(e) => return Err(format!("header cut short at byte {}: {e}", self.at)),
        }
        String::from_utf8(b)
            .map_err(|_| format!("a string that is not UTF-8 before byte {}", self.at))
    }
}

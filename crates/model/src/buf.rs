//! A read-only f32 buffer that is either memory-mapped straight from a checkpoint or owned.

use std::ops::Deref;
use std::sync::Arc;

use memmap2::Mmap;

/// Weights as `&[f32]`. F32 checkpoints stay memory-mapped (no copy, pages shared with the
/// OS cache); F16/BF16 tensors, or unaligned ones, are converted into an owned vector.
pub struct Buf(Storage);

enum Storage {
    Owned(Vec<f32>),
    Mapped {
        map: Arc<Mmap>,
        offset: usize,
        len: usize,
    },
}

impl Buf {
    pub fn owned(data: Vec<f32>) -> Buf {
        Buf(Storage::Owned(data))
    }

    /// Views `bytes` (a sub-slice of `map`) as f32 without copying when it is 4-byte
    /// aligned and the machine is little-endian like the file; copies otherwise.
    pub(crate) fn from_le_bytes(map: &Arc<Mmap>, bytes: &[u8]) -> Buf {
        let offset = bytes.as_ptr() as usize - map.as_ptr() as usize;
        let aligned = (bytes.as_ptr() as usize) % std::mem::align_of::<f32>() == 0;
        if aligned && cfg!(target_endian = "little") {
            return Buf(Storage::Mapped {
                map: Arc::clone(map),
                offset,
                len: bytes.len() / 4,
            });
        }
        let data = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Buf::owned(data)
    }

    pub fn is_mapped(&self) -> bool {
        matches!(self.0, Storage::Mapped { .. })
    }
}

impl Deref for Buf {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        match &self.0 {
            Storage::Owned(v) => v,
            Storage::Mapped { map, offset, len } => {
                let ptr = map[*offset..*offset + *len * 4].as_ptr();
                // SAFETY: `from_le_bytes` checked that this range lies in the map, is 4-byte
                // aligned and holds little-endian f32s; every bit pattern is a valid f32; the
                // Arc keeps the map alive and read-only for as long as this Buf exists.
                unsafe { std::slice::from_raw_parts(ptr.cast::<f32>(), *len) }
            }
        }
    }
}

impl std::fmt::Debug for Buf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Buf(len={}, mapped={})", self.len(), self.is_mapped())
    }
}

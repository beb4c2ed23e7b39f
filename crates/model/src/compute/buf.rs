//! A read-only weight buffer of f32, bf16 or f16 values that is either viewed in place in a
//! checkpoint's image in memory or owned.
//!
//! 16-bit storage halves the bytes every decode step streams from memory; the matrix kernels in
//! [`super::kernels`] read it directly and compute in f32.

use std::marker::PhantomData;
use std::ops::Deref;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};

use half::slice::HalfFloatSliceExt;
use half::{bf16, f16};

use crate::checkpoint::pages::Huge;

/// A whole checkpoint file in memory (read into huge pages, memory-mapped, or handed over by
/// an embedder such as the browser engine) whose tensors buffers may use in place.
pub type Image = dyn Deref<Target = [u8]> + Send + Sync;

/// How a buffer stores its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DType {
    #[default]
    F32,
    Bf16,
    F16,
}

impl DType {
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::Bf16 => "bf16",
            DType::F16 => "f16",
        }
    }

    /// Bytes per value.
    pub fn size(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::Bf16 | DType::F16 => 2,
        }
    }
}

impl FromStr for DType {
    type Err = String;

    fn from_str(s: &str) -> Result<DType, String> {
        match s {
            "f32" => Ok(DType::F32),
            "bf16" => Ok(DType::Bf16),
            "f16" => Ok(DType::F16),
            other => Err(format!("dtype {other:?}: expected f32, bf16 or f16")),
        }
    }
}

/// The values of a buffer, in their stored type.
#[derive(Debug, Clone, Copy)]
pub enum Data<'a> {
    F32(&'a [f32]),
    Bf16(&'a [bf16]),
    F16(&'a [f16]),
}

impl<'a> From<&'a [f32]> for Data<'a> {
    fn from(values: &'a [f32]) -> Data<'a> {
        Data::F32(values)
    }
}

/// Weights, by dtype. `Deref` gives `&[f32]` for f32 buffers: vectors (biases, gains, `wpe`)
/// are always f32; only matrices may be 16-bit, and those are read through [`Buf::data`].
pub struct Buf(Storage);

enum Storage {
    F32(Elems<f32>),
    Bf16(Elems<bf16>),
    F16(Elems<f16>),
}

enum Elems<T> {
    /// The values from `start`: what comes before is padding that puts them on a cache line.
    Owned { values: Vec<T>, start: usize },
    /// Converted at load into huge pages of their own (see `pages::Huge`).
    Paged(Huge<T>),
    Mapped {
        map: Arc<Image>,
        offset: usize,
        len: usize,
        _values: PhantomData<T>,
    },
}

impl<T> Elems<T> {
    /// Views `bytes` (a sub-slice of `map`) in place when they are aligned for `T`.
    fn mapped(map: &Arc<Image>, bytes: &[u8]) -> Option<Elems<T>> {
        let aligned = (bytes.as_ptr() as usize).is_multiple_of(std::mem::align_of::<T>());
        (aligned && cfg!(target_endian = "little")).then(|| Elems::Mapped {
            map: Arc::clone(map),
            offset: bytes.as_ptr() as usize - map.as_ptr() as usize,
            len: bytes.len() / std::mem::size_of::<T>(),
            _values: PhantomData,
        })
    }

    fn as_slice(&self) -> &[T] {
        match self {
            Elems::Owned { values, start } => &values[*start..],
            Elems::Paged(values) => values.as_slice(),
            Elems::Mapped {
                map, offset, len, ..
            } => {
                let ptr = map[*offset..*offset + *len * std::mem::size_of::<T>()].as_ptr();
                // SAFETY: `mapped` checked that this range lies in the map, is aligned for T and
                // holds little-endian values; T is f32, bf16 or f16, for which every bit pattern
                // is valid; the Arc keeps the map alive and read-only as long as this Buf exists.
                unsafe { std::slice::from_raw_parts(ptr.cast::<T>(), *len) }
            }
        }
    }
}

impl Buf {
    pub fn owned(data: Vec<f32>) -> Buf {
        Buf(Storage::F32(Elems::Owned {
            values: data,
            start: 0,
        }))
    }

    /// Stores `values` as `dtype`, rounding to nearest for 16-bit types.
    pub fn from_f32(values: &[f32], dtype: DType) -> Buf {
        match dtype {
            DType::F32 => Buf::owned(values.to_vec()),
            DType::Bf16 => Buf::bf16(values.iter().map(|&v| bf16::from_f32(v)).collect(), 0),
            DType::F16 => {
                let mut out = vec![f16::ZERO; values.len()];
                out.convert_from_f32_slice(values);
                Buf::f16(out, 0)
            }
        }
    }

    /// The values of `data` from `start` (those before are padding).
    pub(crate) fn bf16(data: Vec<bf16>, start: usize) -> Buf {
        Buf(Storage::Bf16(Elems::Owned {
            values: data,
            start,
        }))
    }

    /// The values of `data` from `start` (those before are padding).
    pub(crate) fn f16(data: Vec<f16>, start: usize) -> Buf {
        Buf(Storage::F16(Elems::Owned {
            values: data,
            start,
        }))
    }

    /// Values converted at load into huge pages.
    pub(crate) fn paged_bf16(values: Huge<bf16>) -> Buf {
        Buf(Storage::Bf16(Elems::Paged(values)))
    }

    /// Values converted at load into huge pages.
    pub(crate) fn paged_f16(values: Huge<f16>) -> Buf {
        Buf(Storage::F16(Elems::Paged(values)))
    }

    /// Views little-endian `bytes` of `dtype` (a sub-slice of `map`) without copying when
    /// they are aligned; `None` when they are not (the caller then copies).
    pub(crate) fn mapped(map: &Arc<Image>, bytes: &[u8], dtype: DType) -> Option<Buf> {
        Some(Buf(match dtype {
            DType::F32 => Storage::F32(Elems::mapped(map, bytes)?),
            DType::Bf16 => Storage::Bf16(Elems::mapped(map, bytes)?),
            DType::F16 => Storage::F16(Elems::mapped(map, bytes)?),
        }))
    }

    pub fn dtype(&self) -> DType {
        match self.0 {
            Storage::F32(_) => DType::F32,
            Storage::Bf16(_) => DType::Bf16,
            Storage::F16(_) => DType::F16,
        }
    }

    pub fn data(&self) -> Data<'_> {
        match &self.0 {
            Storage::F32(e) => Data::F32(e.as_slice()),
            Storage::Bf16(e) => Data::Bf16(e.as_slice()),
            Storage::F16(e) => Data::F16(e.as_slice()),
        }
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.data().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values `start..start + out.len()` widened to f32 (a row of `wte`, for the embedding).
    pub fn read_f32(&self, start: usize, out: &mut [f32]) {
        self.data().slice(start, out.len()).to_f32(out);
    }

    /// Whether the values are used in place in the loaded image of the file (a memory map,
    /// see `pages`), not copied tensor by tensor.
    pub fn is_mapped(&self) -> bool {
        match &self.0 {
            Storage::F32(e) => matches!(e, Elems::Mapped { .. }),
            Storage::Bf16(e) => matches!(e, Elems::Mapped { .. }),
            Storage::F16(e) => matches!(e, Elems::Mapped { .. }),
        }
    }
}

impl<'a> Data<'a> {
    pub fn len(&self) -> usize {
        match self {
            Data::F32(v) => v.len(),
            Data::Bf16(v) => v.len(),
            Data::F16(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values `start..start + len`.
    pub fn slice(self, start: usize, len: usize) -> Data<'a> {
        match self {
            Data::F32(v) => Data::F32(&v[start..start + len]),
            Data::Bf16(v) => Data::Bf16(&v[start..start + len]),
            Data::F16(v) => Data::F16(&v[start..start + len]),
        }
    }

    /// Widens every value into `out` (of the same length).
    pub fn to_f32(self, out: &mut [f32]) {
        match self {
            Data::F32(v) => out.copy_from_slice(v),
            Data::Bf16(v) => v.convert_to_f32_slice(out),
            Data::F16(v) => v.convert_to_f32_slice(out),
        }
    }
}

/// The f16 buffers whose values were all found finite (`checkpoint::checks::finite`, which
/// every loaded weight passes), as address ranges, while they live. The browser engine's f16
/// kernels look their weights up here and, where found, leave out their own check of every
/// weight for infinities and NaNs (`kernels::simd128`'s `Finite`), an eighth of a decode step's
/// instructions; which code runs is all it changes, never a bit of a result.
static FINITE: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

fn finite_ranges() -> MutexGuard<'static, Vec<(usize, usize)>> {
    FINITE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn range<T>(values: &[T]) -> (usize, usize) {
    let r = values.as_ptr_range();
    (r.start as usize, r.end as usize)
}

impl Buf {
    /// Notes that the caller found every value finite: see [`FINITE`] (f16 buffers only).
    pub(crate) fn note_finite(&self) {
        if let Data::F16(v) = self.data() {
            finite_ranges().push(range(v));
        }
    }
}

/// Whether `values` lie inside one live buffer noted finite ([`Buf::note_finite`]). Only the
/// browser engine's kernels ask (and this file's test, which runs natively).
#[cfg_attr(
    not(all(target_arch = "wasm32", target_feature = "simd128")),
    allow(dead_code)
)]
pub(crate) fn noted_finite(values: &[f16]) -> bool {
    let (start, end) = range(values);
    finite_ranges().iter().any(|&(s, e)| s <= start && end <= e)
}

impl Drop for Buf {
    /// Forgets the buffer's range before its memory is freed, so no other values there count
    /// as finite.
    fn drop(&mut self) {
        if let Data::F16(v) = self.data() {
            let mut noted = finite_ranges();
            if let Some(i) = noted.iter().position(|&r| r == range(v)) {
                noted.swap_remove(i);
            }
        }
    }
}

impl Deref for Buf {
    type Target = [f32];

    /// # Panics
    /// For 16-bit buffers, which only matrices use; read those through [`Buf::data`].
    fn deref(&self) -> &[f32] {
        match &self.0 {
            Storage::F32(e) => e.as_slice(),
            _ => panic!("a {} buffer read as f32", self.dtype().name()),
        }
    }
}

impl std::fmt::Debug for Buf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Buf(len={}, dtype={}, mapped={})",
            self.len(),
            self.dtype().name(),
            self.is_mapped()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_noted_finite_is_known_while_it_lives() {
        let buf = Buf::from_f32(&[1.0, -2.0, 0.5, 3.0], DType::F16);
        let Data::F16(values) = buf.data() else {
            unreachable!("an f16 buffer")
        };
        let whole = range(values);
        assert!(!noted_finite(values), "not noted yet");
        buf.note_finite();
        assert!(noted_finite(values) && noted_finite(&values[1..3]));
        let other = vec![f16::ZERO; 8];
        assert!(!noted_finite(&other), "another buffer's values");
        drop(buf);
        assert!(!finite_ranges().contains(&whole), "forgotten once dropped");
    }
}

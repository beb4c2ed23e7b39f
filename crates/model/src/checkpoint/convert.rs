//! Turning a checkpoint tensor of one dtype into a [`Buf`] of another, chunk by chunk.
//!
//! Converting a 500 MB f32 file to 16-bit must not hold both copies in memory: the source is
//! read from the file in small chunks (never through the mapping, whose touched pages would
//! count as resident), so the peak is the 16-bit weights plus one chunk.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;

use half::slice::HalfFloatSliceExt;
use half::{bf16, f16};

use super::pages;
use crate::compute::buf::{Buf, DType, Image};
use crate::compute::kernels::slabs;

/// Values converted per chunk: 256 KiB of f32.
const CHUNK: usize = 1 << 16;

/// Where a tensor's bytes live.
#[derive(Clone, Copy)]
pub(crate) enum Source<'a> {
    /// `bytes` are a sub-slice of `map`, the whole file in memory: tensors of the
    /// stored type are used in place, others converted from `bytes`.
    Loaded { map: &'a Arc<Image> },
    /// `bytes` are a sub-slice of `map`, the mapping of `file`: every tensor is read from
    /// `file`, never through the mapping, which only locates it.
    Mapped { file: &'a File, map: &'a Arc<Image> },
    /// `bytes` are in memory (a model embedded in the binary).
    Memory,
}

/// Makes a buffer of `to` from little-endian `bytes` of `from`: in place when the file already
/// holds `to` and was read into memory, copied or converted otherwise. A mapping of the file is
/// never used in place: a file truncated while the model serves would make every read of the
/// lost pages a SIGBUS.
pub(crate) fn tensor(bytes: &[u8], from: DType, to: DType, source: Source) -> std::io::Result<Buf> {
    Ok(tensor_in(bytes, from, to, source, None)?.0)
}

/// [`tensor`], with the values of a (k, n) matrix `slabs` stored in slabs of columns (see
/// [`slabs`]) where they are converted to 16 bits; whether they were (not in place, not f32).
pub(crate) fn tensor_in(
    bytes: &[u8],
    from: DType,
    to: DType,
    source: Source,
    slabs: Option<(usize, usize)>,
) -> std::io::Result<(Buf, bool)> {
    if let Source::Loaded { map } = source {
        if from == to {
            if let Some(buf) = Buf::mapped(map, bytes, to) {
                return Ok((buf, false));
            }
        }
    }
    let n = bytes.len() / from.size();
    let mut chunks = Chunks::new(bytes, from, source);
    let buf = match to {
        DType::F32 => return Ok((Buf::owned(read_f32(bytes, from, source)?), false)),
        DType::Bf16 => sixteen_buf(&mut chunks, n, to, slabs, Buf::bf16, Buf::paged_bf16)?,
        DType::F16 => sixteen_buf(&mut chunks, n, to, slabs, Buf::f16, Buf::paged_f16)?,
    };
    Ok((buf, slabs.is_some()))
}

/// Whether `n` values converted to `to` get huge pages of their own ([`pages::Huge`]): on
/// Linux, where a huge page is 2 MiB, from 1 MiB on, so the last page's unused end is never
/// more than the values take.
fn paged(n: usize, to: DType) -> bool {
    cfg!(target_os = "linux") && n * to.size() >= 1 << 20
}

/// The `n` values of `chunks` converted to `to`, a 16-bit T ([`sixteen`]), into a buffer:
/// in huge pages of their own where [`paged`], else in a vector from a cache line.
fn sixteen_buf<T>(
    chunks: &mut Chunks,
    n: usize,
    to: DType,
    slabs: Option<(usize, usize)>,
    owned: fn(Vec<T>, usize) -> Buf,
    in_pages: fn(pages::Huge<T>) -> Buf,
) -> std::io::Result<Buf>
where
    T: pages::Plain + Default,
    [T]: HalfFloatSliceExt,
{
    if paged(n, to) {
        let mut out = pages::Huge::zeroed(n)?;
        sixteen(chunks, out.as_mut_slice(), slabs)?;
        return Ok(in_pages(out));
    }
    let (mut out, start) = pages::line_aligned(n, T::default());
    out.resize(start + n, T::default());
    sixteen(chunks, &mut out[start..], slabs)?;
    Ok(owned(out, start))
}

/// The values of `chunks` converted to a 16-bit T into `out` (as many): in order, or
/// scattered to their slabs of a (k, n) matrix as each chunk arrives. The peak is the 16-bit
/// values and a chunk.
fn sixteen<T>(
    chunks: &mut Chunks,
    out: &mut [T],
    slabs: Option<(usize, usize)>,
) -> std::io::Result<()>
where
    T: Copy + Default,
    [T]: HalfFloatSliceExt,
{
    let (mut half, mut at) = (Vec::new(), 0);
    chunks.each(|c| {
        match slabs {
            None => out[at..at + c.len()].convert_from_f32_slice(c),
            Some((k, cols)) => {
                half.resize(c.len(), T::default());
                half.convert_from_f32_slice(c);
                slabs::scatter(&half, at, k, cols, out);
            }
        }
        at += c.len();
    })
}

/// All of a tensor's values as f32, read (not mapped) so the source pages stay off the RSS.
pub(crate) fn read_f32(bytes: &[u8], from: DType, source: Source) -> std::io::Result<Vec<f32>> {
    let mut out = Vec::with_capacity(bytes.len() / from.size());
    pages::advise(&out); // huge pages, as for the other dtypes: decoding streams them
    Chunks::new(bytes, from, source).each(|c| out.extend_from_slice(c))?;
    Ok(out)
}

/// Walks a tensor's values as f32, `CHUNK` at a time.
struct Chunks<'a> {
    bytes: &'a [u8],
    from: DType,
    source: Source<'a>,
    raw: Vec<u8>,
    values: Vec<f32>,
}

impl<'a> Chunks<'a> {
    fn new(bytes: &'a [u8], from: DType, source: Source<'a>) -> Chunks<'a> {
        Chunks {
            bytes,
            from,
            source,
            raw: Vec::new(),
            values: Vec::new(),
        }
    }

    fn each(&mut self, mut f: impl FnMut(&[f32])) -> std::io::Result<()> {
        let step = CHUNK * self.from.size();
        for start in (0..self.bytes.len()).step_by(step) {
            let len = step.min(self.bytes.len() - start);
            let raw = match self.source {
                Source::Mapped { file, map } => {
                    let offset = self.bytes.as_ptr() as usize - map.as_ptr() as usize + start;
                    self.raw.resize(len, 0);
                    let mut file = file;
                    file.seek(SeekFrom::Start(offset as u64))?;
                    file.read_exact(&mut self.raw)?;
                    &self.raw[..]
                }
                Source::Loaded { .. } | Source::Memory => &self.bytes[start..start + len],
            };
            decode(raw, self.from, &mut self.values);
            f(&self.values);
        }
        Ok(())
    }
}

/// Little-endian values of `dtype` to f32.
fn decode(raw: &[u8], dtype: DType, out: &mut Vec<f32>) {
    out.clear();
    match dtype {
        DType::F32 => out.extend(
            raw.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        ),
        DType::Bf16 => out.extend(
            raw.chunks_exact(2)
                .map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32()),
        ),
        DType::F16 => out.extend(
            raw.chunks_exact(2)
                .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::buf::Data;

    /// Matrices of 1 MiB and more on a huge page's boundary (on Linux), smaller ones on a
    /// cache line.
    #[test]
    fn converted_weights_start_on_a_cache_line_with_their_values() {
        for n in [100, 1000, 100_000, 600_000] {
            let values: Vec<f32> = (0..n).map(|i| i as f32).collect();
            let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            for to in [DType::Bf16, DType::F16] {
                let buf = tensor(&bytes, DType::F32, to, Source::Memory).unwrap();
                let (addr, len, last) = match buf.data() {
                    Data::Bf16(v) => (v.as_ptr() as usize, v.len(), v[n - 1].to_f32()),
                    Data::F16(v) => (v.as_ptr() as usize, v.len(), v[n - 1].to_f32()),
                    Data::F32(_) => panic!("{to:?} stored as f32"),
                };
                let align = if paged(n, to) { 2 << 20 } else { 64 };
                assert_eq!(addr % align, 0, "{n} values as {to:?}");
                assert_eq!(paged(n, to), cfg!(target_os = "linux") && n == 600_000);
                assert_eq!(len, n);
                assert_eq!(last, to_16(values[n - 1], to));
            }
        }
    }

    /// `v` rounded to `to` and back.
    fn to_16(v: f32, to: DType) -> f32 {
        match to {
            DType::Bf16 => bf16::from_f32(v).to_f32(),
            _ => f16::from_f32(v).to_f32(),
        }
    }
}

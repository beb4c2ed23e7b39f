//! Weights in 2 MiB pages. Decoding streams every weight once a step; with 4 KiB pages the
//! hardware prefetchers stop at every page boundary and the TLB misses every few rows. On the
//! 2-core machine of BENCHMARKS.md a sequential read ran at ~35 GB/s on 2 threads from
//! transparent huge pages against ~28 GB/s from 4 KiB pages (30 against 21 on one thread).
//!
//! Both functions only advise the kernel: where huge pages are off or unavailable, the
//! memory is the same, in small pages.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::sync::Arc;

use half::slice::HalfFloatSliceExt;
use half::{bf16, f16};
use memmap2::{Mmap, MmapMut};

use crate::compute::buf::{DType, Image};

/// The whole of `file` (`len` bytes), read into anonymous memory backed by huge pages where
/// the kernel allows. Unlike a mapping of the file, the pages are the process's own. Byte
/// `aligned` of the file (a safetensors file's first tensor) is put on a cache line, so the
/// kernels' 64-byte loads of weights used in place never straddle two lines: the format only
/// promises 8 bytes.
pub(crate) fn read_file(mut file: &File, len: usize, aligned: usize) -> std::io::Result<Loaded> {
    let start = (LINE - aligned % LINE) % LINE;
    let mut map = MmapMut::map_anon(len + start)?;
    #[cfg(target_os = "linux")]
    let _ = map.advise(memmap2::Advice::HugePage); // advice: refusal changes nothing
    file.seek(SeekFrom::Start(0))?;
    file.read_exact(&mut map[start..])?;
    Ok(Loaded {
        map: map.make_read_only()?,
        start,
    })
}

/// A cache line's bytes.
const LINE: usize = 64;

/// A file read by [`read_file`]: its bytes, after the few that align them.
pub(crate) struct Loaded {
    map: Mmap,
    start: usize,
}

impl std::ops::Deref for Loaded {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.map[self.start..]
    }
}

/// Room for `n` values in huge pages, holding the padding that puts the first of them on a
/// cache line, and that padding's length. A big allocation starts 16 bytes into a page: there
/// half the kernels' 32-byte loads would straddle two cache lines.
pub(crate) fn line_aligned<T: Copy>(n: usize, zero: T) -> (Vec<T>, usize) {
    let line = LINE / std::mem::size_of::<T>();
    let mut out: Vec<T> = Vec::with_capacity(n + line);
    advise(&out);
    let start = out.as_ptr().align_offset(LINE).min(line);
    out.resize(start, zero);
    (out, start)
}

/// Asks for huge pages under `v`'s allocation; call it before the memory is first written,
/// when the pages are chosen.
#[cfg_attr(not(target_os = "linux"), allow(unused_variables, clippy::ptr_arg))]
pub(crate) fn advise<T>(v: &Vec<T>) {
    #[cfg(target_os = "linux")]
    {
        let start = v.as_ptr() as usize;
        let end = start + v.capacity() * std::mem::size_of::<T>();
        let (first, last) = (start.next_multiple_of(HUGE), end - end % HUGE);
        if last > first {
            // SAFETY: the range lies inside `v`'s allocation; MADV_HUGEPAGE changes how
            // pages are backed, never their contents. Failure is harmless, so it is ignored.
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    last - first,
                    libc::MADV_HUGEPAGE,
                )
            };
        }
    }
}

/// Bytes of a huge page.
const HUGE: usize = 2 << 20;

/// A value type any bits of which are a value: what [`Huge`] may hold.
pub(crate) trait Plain: Copy {}
impl Plain for f32 {}
impl Plain for bf16 {}
impl Plain for f16 {}

/// Values in an anonymous mapping of their own that starts them on a 2 MiB boundary, advised
/// into huge pages: every page of them can be huge. In a `Vec` only the whole aligned 2 MiB
/// ranges inside the allocation can be, and GPT-2 small's 16-bit matrices (1.2–4.7 MB each)
/// had 120 of their 251 MB in 4 KiB pages, where the hardware prefetchers stop every 4 KiB:
/// alternated on one thread, decoding read ~10% less of the bandwidth than from huge pages
/// (BENCHMARKS.md). The mapping's head before the boundary is never touched, so it costs no
/// memory; the unused end of the last huge page does (less than 2 MiB).
pub(crate) struct Huge<T> {
    map: MmapMut,
    start: usize,
    len: usize,
    _values: std::marker::PhantomData<T>,
}

impl<T: Plain> Huge<T> {
    /// Room for `len` values, each of all-zero bits.
    pub(crate) fn zeroed(len: usize) -> std::io::Result<Huge<T>> {
        let bytes = (len * std::mem::size_of::<T>()).next_multiple_of(HUGE);
        let map = MmapMut::map_anon(bytes + HUGE)?;
        #[cfg(target_os = "linux")]
        let _ = map.advise(memmap2::Advice::HugePage); // advice: refusal changes nothing
        let at = map.as_ptr() as usize;
        Ok(Huge {
            start: at.next_multiple_of(HUGE) - at,
            map,
            len,
            _values: std::marker::PhantomData,
        })
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        let values = self.map.as_mut_ptr();
        // SAFETY: as in `as_slice`, borrowed mutably through `self`.
        unsafe { std::slice::from_raw_parts_mut(values.add(self.start).cast(), self.len) }
    }
}

impl<T> Huge<T> {
    pub(crate) fn as_slice(&self) -> &[T] {
        // SAFETY: `start` is on a 2 MiB boundary (aligned for T) and `len` values from it lie
        // inside the map (`zeroed` mapped a huge page more than they take); any bits are a T
        // (only `zeroed`, for `Plain` types, makes a Huge), and the map lives as long as `self`.
        unsafe { std::slice::from_raw_parts(self.map.as_ptr().add(self.start).cast(), self.len) }
    }
}

/// Tensors converted at load (a GGUF's, dequantised), packed one after another into one
/// anonymous mapping in huge pages. In allocations of their own most of SmolLM2's matrices
/// (0.4–3.5 MB) would sit in 4 KiB pages, since only whole aligned 2 MiB ranges inside an
/// allocation can be huge: even advised, 231 of its 538 MB were huge; in the arena, 524 MB.
pub(crate) struct Arena {
    map: MmapMut,
    used: usize,
}

/// Where each tensor starts in an [`Arena`]: a cache line, so rows load aligned.
const ARENA_ALIGN: usize = 64;

impl Arena {
    /// Room for `tensors` tensors of `bytes` in all; room never written costs no memory.
    pub(crate) fn new(tensors: usize, bytes: usize) -> std::io::Result<Arena> {
        let map = MmapMut::map_anon((bytes + tensors * ARENA_ALIGN).max(1))?;
        #[cfg(target_os = "linux")]
        let _ = map.advise(memmap2::Advice::HugePage); // advice: refusal changes nothing
        Ok(Arena { map, used: 0 })
    }

    /// Appends `values` stored as `dtype` (16-bit types rounded to nearest, as
    /// `Buf::from_f32` does) and returns the bytes they take.
    ///
    /// # Panics
    /// When the arena has no room left: [`Arena::new`] was told less than it is given.
    pub(crate) fn push(&mut self, values: &[f32], dtype: DType) -> Range<usize> {
        let start = self.used.next_multiple_of(ARENA_ALIGN);
        let end = start + values.len() * dtype.size();
        let out = &mut self.map[start..end];
        match dtype {
            DType::F32 => {
                for (o, v) in out.chunks_exact_mut(4).zip(values) {
                    o.copy_from_slice(&v.to_le_bytes());
                }
            }
            DType::Bf16 => {
                for (o, v) in out.chunks_exact_mut(2).zip(values) {
                    o.copy_from_slice(&bf16::from_f32(*v).to_bits().to_le_bytes());
                }
            }
            DType::F16 => {
                let mut half = vec![f16::ZERO; values.len()];
                half.convert_from_f32_slice(values);
                for (o, v) in out.chunks_exact_mut(2).zip(&half) {
                    o.copy_from_slice(&v.to_bits().to_le_bytes());
                }
            }
        }
        self.used = end;
        start..end
    }

    /// The packed tensors, read-only, for buffers to view in place.
    pub(crate) fn finish(self) -> std::io::Result<Arc<Image>> {
        Ok(Arc::new(self.map.make_read_only()?))
    }
}

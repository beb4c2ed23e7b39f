//! Weights in 2 MiB pages. Decoding streams every weight once a step; with 4 KiB pages the
//! hardware prefetchers stop at every page boundary and the TLB misses every few rows. On the
//! 2-core machine of BENCHMARKS.md a sequential read ran at ~35 GB/s on 2 threads from
//! transparent huge pages against ~28 GB/s from 4 KiB pages (30 against 21 on one thread).
//!
//! Both functions only advise the kernel: where huge pages are off or unavailable, the
//! memory is the same, in small pages.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use memmap2::{Mmap, MmapMut};

/// The whole of `file` (`len` bytes), read into anonymous memory backed by huge pages where
/// the kernel allows. Unlike a mapping of the file, the pages are the process's own.
pub(crate) fn read_file(mut file: &File, len: usize) -> std::io::Result<Mmap> {
    let mut map = MmapMut::map_anon(len)?;
    #[cfg(target_os = "linux")]
    let _ = map.advise(memmap2::Advice::HugePage); // advice: refusal changes nothing
    file.seek(SeekFrom::Start(0))?;
    file.read_exact(&mut map)?;
    map.make_read_only()
}

/// Asks for huge pages under `v`'s allocation; call it before the memory is first written,
/// when the pages are chosen.
#[cfg_attr(not(target_os = "linux"), allow(unused_variables, clippy::ptr_arg))]
pub(crate) fn advise<T>(v: &Vec<T>) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
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

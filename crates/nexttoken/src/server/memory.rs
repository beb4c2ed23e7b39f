//! How freed memory goes back to the system while the server runs.
//!
//! glibc's malloc, by default, serves a freed block of a few MB from its heaps the next time
//! instead of mapping fresh pages, raising its mapping threshold (up to 32 MB) each time a
//! mapped block is freed, and keeps up to 8 heaps per CPU. A server whose requests allocate
//! buffers of every size between 128 KB and tens of MB (activations, attention patterns, JSON)
//! then holds the high-water mark of every heap: against a GPT-2-small-sized model, 2,000
//! mixed requests took it from 0.5 to over 2 GB with the cache under its budget
//! (docs/hardening.md). Fixed thresholds map every large block on its own, so freeing it
//! returns its pages at once, and fewer heaps leave less memory stranded between them.

/// Blocks from this size up are mapped on their own and unmapped when freed.
const MMAP_THRESHOLD: i32 = 128 << 10;

/// Sets the allocator up for a long-running server. Elsewhere than glibc, nothing to do.
pub fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let arenas = i32::try_from(cpus).unwrap_or(i32::MAX);
        // SAFETY: mallopt only changes the allocator's tuning parameters, and runs before the
        // server's threads start. A refusal (0) leaves glibc's defaults: nothing to handle.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}

//! Asking the processor for memory a few steps before it is read.
//!
//! A broad search reads a byte or two for each of hundreds of thousands of
//! records, scattered over megabytes (a record's field lengths, its facet
//! row): each read that waits for memory in turn costs more than the work
//! done with it. Asked for early, the reads overlap.

/// Asks the processor to bring the first byte of `bytes` into its cache,
/// without waiting for it; a hint only.
pub(crate) fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: SSE is part of every x86-64 processor, and a prefetch
        // reads no memory the program can see: any address is allowed.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(bytes.as_ptr().cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

//! Buffers shared with JavaScript: ones it writes for a call, and the one answer it reads.

use std::cell::RefCell;

thread_local! {
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Room for `len` bytes (zeroed) that the page fills and then hands to one call.
#[no_mangle]
pub extern "C" fn nt_alloc(len: usize) -> *mut u8 {
    Box::into_raw(vec![0u8; len].into_boxed_slice()).cast()
}

/// Frees a buffer from [`nt_alloc`] that no call took.
///
/// # Safety
/// `ptr` and `len` must come from one [`nt_alloc`] whose buffer no call has taken.
#[no_mangle]
pub unsafe extern "C" fn nt_free(ptr: *mut u8, len: usize) {
    drop(take(ptr, len));
}

/// Where the last call's answer starts.
#[no_mangle]
pub extern "C" fn nt_out_ptr() -> *const u8 {
    OUTPUT.with_borrow(|out| out.as_ptr())
}

/// How long the last call's answer is.
#[no_mangle]
pub extern "C" fn nt_out_len() -> usize {
    OUTPUT.with_borrow(|out| out.len())
}

/// Takes back a buffer from [`nt_alloc`].
///
/// # Safety
/// As for [`nt_free`].
pub(crate) unsafe fn take(ptr: *mut u8, len: usize) -> Box<[u8]> {
    // SAFETY: the caller passes exactly what `nt_alloc` returned for this `len`.
    unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) }
}

/// Replaces the answer the page reads next.
pub(crate) fn set_output(bytes: Vec<u8>) {
    OUTPUT.with_borrow_mut(|out| *out = bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_round_trips() {
        let ptr = nt_alloc(5);
        // SAFETY: 5 bytes were allocated at ptr, and are taken back once.
        let bytes = unsafe {
            std::ptr::copy_nonoverlapping(b"hello".as_ptr(), ptr, 5);
            take(ptr, 5)
        };
        assert_eq!(&*bytes, b"hello");
        set_output(b"answer".to_vec());
        // SAFETY: the output holds nt_out_len bytes at nt_out_ptr until the next call.
        let out = unsafe { std::slice::from_raw_parts(nt_out_ptr(), nt_out_len()) };
        assert_eq!(out, b"answer");
    }
}

//! Buffers shared with JavaScript: ones it writes for a call, the checkpoint image it streams a
//! download into, and the one answer it reads.

use std::cell::RefCell;
use std::ops::Deref;

thread_local! {
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static IMAGE: RefCell<Option<Image>> = const { RefCell::new(None) };
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

/// Room for a whole `model.safetensors` of `len` bytes, which the page streams a download
/// into and the next load takes. Aligned for f32, so its tensors are used in place. Returns
/// null when the memory cannot grow that far.
#[no_mangle]
pub extern "C" fn nt_image(len: usize) -> *mut u8 {
    IMAGE.with_borrow_mut(|slot| {
        *slot = None; // a previous image the page never loaded
        let mut words = Vec::new();
        if words.try_reserve_exact(len.div_ceil(8)).is_err() {
            return std::ptr::null_mut();
        }
        words.resize(len.div_ceil(8), 0u64);
        let image = slot.insert(Image { words, len });
        image.words.as_mut_ptr().cast()
    })
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

/// The image [`nt_image`] made, if any.
pub(crate) fn take_image() -> Option<Image> {
    IMAGE.with_borrow_mut(Option::take)
}

/// Replaces the answer the page reads next.
pub(crate) fn set_output(bytes: Vec<u8>) {
    OUTPUT.with_borrow_mut(|out| *out = bytes);
}

/// `len` bytes in 8-byte words.
pub struct Image {
    words: Vec<u64>,
    len: usize,
}

impl Deref for Image {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        // SAFETY: `words` holds at least `len` initialised bytes (`nt_image` sized it so), and
        // u8 has no alignment or validity requirements.
        unsafe { std::slice::from_raw_parts(self.words.as_ptr().cast(), self.len) }
    }
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

    #[test]
    fn an_image_is_aligned_and_exactly_as_long_as_asked() {
        let ptr = nt_image(13);
        assert_eq!(ptr as usize % 8, 0);
        // SAFETY: nt_image made 13 writable bytes at ptr.
        unsafe { std::ptr::copy_nonoverlapping(b"safetensors!!".as_ptr(), ptr, 13) };
        let image = take_image().expect("an image");
        assert_eq!(&*image, b"safetensors!!");
        assert!(take_image().is_none(), "a load takes the image once");
    }
}

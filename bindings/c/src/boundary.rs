//! Crossing the boundary: C arguments read (NULL, length and UTF-8 checked), out-parameters
//! written, and what the library handed over freed.

use crate::error::{fail, pb_status, Outcome};
use std::ffi::{c_char, CStr, CString};

/// Borrows `len` bytes at `ptr` as UTF-8 text.
///
/// # Safety
/// `ptr` must be NULL or point to at least `len` readable bytes.
pub(crate) unsafe fn text<'a>(ptr: *const c_char, len: usize, what: &str) -> Outcome<&'a str> {
    if ptr.is_null() {
        return fail(pb_status::PB_NULL_ARGUMENT, format!("{what} is NULL"));
    }
    // SAFETY: guaranteed by the caller.
    let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) };
    if bytes.contains(&0) {
        return fail(
            pb_status::PB_INVALID_ARGUMENT,
            format!("{what} has a NUL byte within its length (is the length right?)"),
        );
    }
    std::str::from_utf8(bytes).or_else(|e| {
        fail(
            pb_status::PB_INVALID_UTF8,
            format!("{what} is not UTF-8: {e}"),
        )
    })
}

/// Borrows a NUL-terminated string.
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string.
pub(crate) unsafe fn c_text<'a>(ptr: *const c_char, what: &str) -> Outcome<&'a str> {
    if ptr.is_null() {
        return fail(pb_status::PB_NULL_ARGUMENT, format!("{what} is NULL"));
    }
    // SAFETY: guaranteed by the caller.
    let s = unsafe { CStr::from_ptr(ptr) };
    s.to_str().or_else(|e| {
        fail(
            pb_status::PB_INVALID_UTF8,
            format!("{what} is not UTF-8: {e}"),
        )
    })
}

pub(crate) fn check_out<T>(out: *mut T, what: &str) -> Outcome<()> {
    if out.is_null() {
        return fail(pb_status::PB_NULL_ARGUMENT, format!("{what} is NULL"));
    }
    Ok(())
}

/// Writes a string to an out-parameter (if not NULL), for `pb_string_free`.
pub(crate) fn give_string(out: *mut *mut c_char, s: String) -> Outcome<()> {
    if out.is_null() {
        return Ok(());
    }
    let c = CString::new(s).or_else(|_| fail(pb_status::PB_INTERNAL, "NUL in output"))?;
    // SAFETY: `out` is non-NULL and, by the contract, writable.
    unsafe { *out = c.into_raw() };
    Ok(())
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Outcome<String> {
    serde_json::to_string(value).or_else(|e| fail(pb_status::PB_INTERNAL, e.to_string()))
}

/// Frees a string returned by a pointbook call. NULL is a no-op.
///
/// # Safety
/// `s` NULL or from a pointbook call, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn pb_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: from CString::into_raw in give_string.
        drop(unsafe { CString::from_raw(s) });
    }
}

/// Frees snapshot bytes. NULL is a no-op; `len` must be the length returned with them.
///
/// # Safety
/// `bytes` NULL or from `pb_book_snapshot` with this `len`, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn pb_bytes_free(bytes: *mut u8, len: usize) {
    if !bytes.is_null() {
        // SAFETY: from Box<[u8]>::into_raw in pb_book_snapshot, with the same length.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(bytes, len)) });
    }
}

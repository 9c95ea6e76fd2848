//! Programs: loading one from TOML or JSON text, and freeing it.

use crate::boundary::{check_out, text};
use crate::error::{fail, ffi_guard, pb_error, pb_status, Outcome};
use pointbook::Program;
use std::ffi::c_char;

/// A loaded, validated program. Opaque.
pub struct pb_program {
    pub(crate) program: Program,
}

pub(crate) fn program_ref<'a>(program: *const pb_program) -> Outcome<&'a pb_program> {
    // SAFETY: the caller passes NULL or a live pb_program from pb_program_load.
    unsafe { program.as_ref() }
        .map_or_else(|| fail(pb_status::PB_NULL_ARGUMENT, "program is NULL"), Ok)
}

/// Loads a program from TOML or JSON text of `len` bytes (not necessarily NUL-terminated).
///
/// # Safety
/// `text` points to `len` readable bytes; `out` and `err` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn pb_program_load(
    text: *const c_char,
    len: usize,
    out: *mut *mut pb_program,
    err: *mut *mut pb_error,
) -> pb_status {
    ffi_guard!(err, {
        check_out(out, "out")?;
        // SAFETY: forwarded from the caller.
        let text = unsafe { self::text(text, len, "program text") }?;
        let program = Program::parse(text)?;
        // SAFETY: `out` checked non-NULL.
        unsafe { *out = Box::into_raw(Box::new(pb_program { program })) };
        Ok(())
    })
}

/// Frees a program. NULL is a no-op. Books made from it stay valid (they hold their own copy).
///
/// # Safety
/// `program` is NULL or from `pb_program_load`, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn pb_program_free(program: *mut pb_program) {
    if !program.is_null() {
        // SAFETY: from Box::into_raw in pb_program_load.
        drop(unsafe { Box::from_raw(program) });
    }
}

//! The C ABI of Pointbook. A thin mapping: C types in, the core's types out, errors to stable
//! status codes. Every function body runs inside [`ffi_guard!`], which checks nothing itself but
//! turns a panic into `PB_INTERNAL`, so no panic ever crosses the boundary.
//!
//! One file per concept, as the header groups them: [`error`] (status codes and the guard),
//! [`boundary`] (arguments, out-parameters, freeing), [`program`], [`book`], [`analytics`],
//! [`store`] (a book kept in a SQLite file).
//! Locking is the book's ([`book`]).
#![allow(non_camel_case_types)]

// The header lists each file's functions in the order these are declared.
mod error;

mod program;

mod book;

mod analytics;

mod store;

mod boundary;

pub use analytics::{pb_analyze, pb_compare};
pub use book::{
    pb_book, pb_book_apply, pb_book_balance, pb_book_digest, pb_book_free, pb_book_new,
    pb_book_progress, pb_book_quote, pb_book_restore, pb_book_snapshot,
};
pub use boundary::{pb_bytes_free, pb_string_free};
pub use error::{pb_error, pb_error_code, pb_error_free, pb_error_message, pb_status};
pub use program::{pb_program, pb_program_free, pb_program_load};
pub use store::{
    pb_store, pb_store_apply, pb_store_apply_batch, pb_store_book, pb_store_checkpoint,
    pb_store_close, pb_store_open, pb_store_options, pb_store_options_default,
};

use std::ffi::{c_char, CStr};

/// Major version of this library (the C header carries the same number).
pub const PB_VERSION_MAJOR: u32 = 0;
/// Minor version of this library.
pub const PB_VERSION_MINOR: u32 = 1;
/// Patch version of this library.
pub const PB_VERSION_PATCH: u32 = 0;

/// The library version (`"0.1.0"`), a static string.
#[no_mangle]
pub extern "C" fn pb_version() -> *const c_char {
    static VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => c"unknown",
        };
    VERSION.as_ptr()
}

//! Books: events applied, quotes, balances, progress, digests and snapshots. A `pb_book` holds
//! its `Book` (or a store's, [`crate::store`]) in a read-write lock: `pb_book_apply` takes it
//! for writing; quotes, balances, progress, digests and snapshots take it for reading, so
//! reads run in parallel and never see half an event.

use crate::boundary::{c_text, check_out, give_string, text, to_json};
use crate::error::{fail, ffi_guard, pb_error, pb_status, Failure, Outcome};
use crate::program::{pb_program, program_ref};
use crate::store::store_failure;
use pointbook::event::Quote;
use pointbook::{Book, Event, MemberId, Outcome as Applied};
use pointbook_store::Store;
use std::ffi::c_char;
use std::sync::RwLock;

/// A book: the state of one program. Opaque; safe to share between threads.
pub struct pb_book {
    pub(crate) book: RwLock<Kept>,
    /// A store's book, lent by `pb_store_book`: `pb_book_free` leaves it to `pb_store_close`.
    pub(crate) borrowed: bool,
}

/// What a `pb_book` holds: a book of its own, or a store (whose events are journalled).
pub(crate) enum Kept {
    Book(Box<Book>),
    Store(Box<Store>),
}

impl Kept {
    pub(crate) fn book(&self) -> &Book {
        match self {
            Kept::Book(b) => b,
            Kept::Store(s) => s.book(),
        }
    }

    /// Applies an event: to the book, or through the store (journalled before it returns).
    fn apply(&mut self, event: &Event) -> Outcome<Applied> {
        match self {
            Kept::Book(b) => Ok(b.apply(event)?),
            Kept::Store(s) => s.apply(event).map_err(store_failure),
        }
    }
}

impl pb_book {
    pub(crate) fn owning(book: Book) -> pb_book {
        pb_book {
            book: RwLock::new(Kept::Book(Box::new(book))),
            borrowed: false,
        }
    }
}

pub(crate) fn book_ref<'a>(book: *const pb_book) -> Outcome<&'a pb_book> {
    // SAFETY: the caller passes NULL or a live pb_book from pb_book_new/pb_book_restore.
    unsafe { book.as_ref() }.map_or_else(|| fail(pb_status::PB_NULL_ARGUMENT, "book is NULL"), Ok)
}

/// A poisoned lock means a panic was caught while the book was held; an event that does not
/// complete, panic included, leaves the book as it was (the core undoes its changes to
/// members as the panic unwinds), so the book is still whole. Go on with it.
pub(crate) fn recover<G>(r: Result<G, std::sync::PoisonError<G>>, book: &pb_book) -> Outcome<G> {
    match r {
        Ok(g) => Ok(g),
        Err(poisoned) => {
            book.book.clear_poison();
            Ok(poisoned.into_inner())
        }
    }
}

/// Creates an empty book for a program.
///
/// # Safety
/// `program` is NULL or live; `out` and `err` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn pb_book_new(
    program: *const pb_program,
    out: *mut *mut pb_book,
    err: *mut *mut pb_error,
) -> pb_status {
    ffi_guard!(err, {
        check_out(out, "out")?;
        let program = program_ref(program)?.program.clone();
        let book = Box::new(pb_book::owning(Book::new(program)));
        // SAFETY: `out` checked non-NULL.
        unsafe { *out = Box::into_raw(book) };
        Ok(())
    })
}

/// Applies one event (JSON, `len` bytes). On success `*outcome_json` (if `outcome_json` is not
/// NULL) receives the outcome, to be freed with `pb_string_free`. On failure the book is
/// unchanged. On a store's book (`pb_store_book`) this is `pb_store_apply`.
///
/// # Safety
/// `book` is NULL or live; `event_json` points to `len` bytes; out-parameters NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn pb_book_apply(
    book: *mut pb_book,
    event_json: *const c_char,
    len: usize,
    outcome_json: *mut *mut c_char,
    err: *mut *mut pb_error,
) -> pb_status {
    ffi_guard!(err, {
        let book = book_ref(book)?;
        // SAFETY: forwarded from the caller.
        unsafe { apply_json(book, event_json, len, outcome_json) }
    })
}

/// The body of `pb_book_apply` and `pb_store_apply`: one event (JSON, `len` bytes) applied to
/// the book, or through its store (journalled), its outcome given to `outcome_json`.
///
/// # Safety
/// `event_json` points to `len` bytes; `outcome_json` NULL or writable.
pub(crate) unsafe fn apply_json(
    book: &pb_book,
    event_json: *const c_char,
    len: usize,
    outcome_json: *mut *mut c_char,
) -> Outcome<()> {
    // SAFETY: forwarded from the caller.
    let json = unsafe { text(event_json, len, "event_json") }?;
    let event = Event::from_json(json)?;
    let outcome = recover(book.book.write(), book)?.apply(&event)?;
    give_string(outcome_json, to_json(&outcome)?)
}

/// Quotes a purchase (JSON, wire format; `"type"` may be omitted): the outcome it would have,
/// without applying it. With `"pay": {"reward": "...", "points": 500}` the basket is paid in
/// part with a points payment, a percent off or an amount off: the outcome carries the
/// `discount` and what is left to pay earns (docs/semantics.md §13).
///
/// # Safety
/// As `pb_book_apply`; `outcome_json` must not be NULL.
#[no_mangle]
pub unsafe extern "C" fn pb_book_quote(
    book: *const pb_book,
    purchase_json: *const c_char,
    len: usize,
    outcome_json: *mut *mut c_char,
    err: *mut *mut pb_error,
) -> pb_status {
    ffi_guard!(err, {
        check_out(outcome_json, "outcome_json")?;
        let book = book_ref(book)?;
        // SAFETY: forwarded from the caller.
        let json = unsafe { text(purchase_json, len, "purchase_json") }?;
        let quote = Quote::from_json(json)?;
        let outcome = recover(book.book.read(), book)?
            .book()
            .quote_order(&quote)?;
        give_string(outcome_json, to_json(&outcome)?)
    })
}

/// A member's balance (JSON, docs/semantics.md §12) as of the book's clock.
///
/// # Safety
/// `book` NULL or live; `member` NULL or NUL-terminated; `balance_json` writable.
#[no_mangle]
pub unsafe extern "C" fn pb_book_balance(
    book: *const pb_book,
    member: *const c_char,
    balance_json: *mut *mut c_char,
    err: *mut *mut pb_error,
) -> pb_status {
    ffi_guard!(err, {
        check_out(balance_json, "balance_json")?;
        let book = book_ref(book)?;
        // SAFETY: forwarded from the caller.
        let member = MemberId::new(unsafe { c_text(member, "member") }?);
        let balance = recover(book.book.read(), book)?.book().balance(&member)?;
        give_string(balance_json, to_json(&balance)?)
    })
}

/// A member's tier progress (JSON) at an RFC 3339 instant (NULL: the book's clock).
///
/// # Safety
/// As `pb_book_balance`; `at` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn pb_book_progress(
    book: *const pb_book,
    member: *const c_char,
    at: *const c_char,
    progress_json: *mut *mut c_char,
    err: *mut *mut pb_error,
) -> pb_status {
    ffi_guard!(err, {
        check_out(progress_json, "progress_json")?;
        let book = book_ref(book)?;
        // SAFETY: forwarded from the caller.
        let member = MemberId::new(unsafe { c_text(member, "member") }?);
        let guard = recover(book.book.read(), book)?;
        let at = if at.is_null() {
            guard.book().clock().ok_or_else(|| {
                Failure(
                    pb_status::PB_INVALID_ARGUMENT,
                    "the book has no events yet; give an instant".into(),
                )
            })?
        } else {
            // SAFETY: forwarded from the caller.
            let text = unsafe { c_text(at, "at") }?;
            text.parse().map_err(|e| {
                Failure(
                    pb_status::PB_INVALID_ARGUMENT,
                    format!("at \"{text}\": {e}"),
                )
            })?
        };
        give_string(
            progress_json,
            to_json(&guard.book().progress(&member, at)?)?,
        )
    })
}

/// The state digest (64 hex characters): equal books have equal digests on every platform.
///
/// # Safety
/// `book` NULL or live; `digest` writable.
#[no_mangle]
pub unsafe extern "C" fn pb_book_digest(
    book: *const pb_book,
    digest: *mut *mut c_char,
    err: *mut *mut pb_error,
) -> pb_status {
    ffi_guard!(err, {
        check_out(digest, "digest")?;
        let book = book_ref(book)?;
        let d = recover(book.book.read(), book)?.book().digest()?;
        give_string(digest, d)
    })
}

/// The book as bytes, to save (e.g. to a file) and `pb_book_restore` later. Free with
/// `pb_bytes_free(bytes, len)`.
///
/// # Safety
/// `book` NULL or live; `bytes` and `len` writable.
#[no_mangle]
pub unsafe extern "C" fn pb_book_snapshot(
    book: *const pb_book,
    bytes: *mut *mut u8,
    len: *mut usize,
    err: *mut *mut pb_error,
) -> pb_status {
    ffi_guard!(err, {
        check_out(bytes, "bytes")?;
        check_out(len, "len")?;
        let book = book_ref(book)?;
        let data = recover(book.book.read(), book)?
            .book()
            .snapshot()?
            .into_boxed_slice();
        // SAFETY: both checked non-NULL.
        unsafe {
            *len = data.len();
            *bytes = Box::into_raw(data).cast::<u8>();
        }
        Ok(())
    })
}

/// A book from snapshot bytes taken under the same program (else `PB_PROGRAM_MISMATCH`).
/// Every invariant is checked before the book is accepted.
///
/// # Safety
/// `program` NULL or live; `bytes` points to `len` bytes; `out`, `err` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn pb_book_restore(
    program: *const pb_program,
    bytes: *const u8,
    len: usize,
    out: *mut *mut pb_book,
    err: *mut *mut pb_error,
) -> pb_status {
    ffi_guard!(err, {
        check_out(out, "out")?;
        let program = &program_ref(program)?.program;
        if bytes.is_null() {
            return fail(pb_status::PB_NULL_ARGUMENT, "bytes is NULL");
        }
        // SAFETY: guaranteed by the caller.
        let data = unsafe { std::slice::from_raw_parts(bytes, len) };
        let book = Book::restore(program, data)?;
        // SAFETY: `out` checked non-NULL.
        unsafe { *out = Box::into_raw(Box::new(pb_book::owning(book))) };
        Ok(())
    })
}

/// Frees a book. NULL and a store's book (`pb_store_book`: `pb_store_close` frees it) are
/// no-ops. No other thread may be using it.
///
/// # Safety
/// `book` NULL or live, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn pb_book_free(book: *mut pb_book) {
    // SAFETY: NULL or live, by the contract.
    if unsafe { book.as_ref() }.is_some_and(|b| !b.borrowed) {
        // SAFETY: from Box::into_raw in pb_book_new / pb_book_restore.
        drop(unsafe { Box::from_raw(book) });
    }
}

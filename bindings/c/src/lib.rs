//! The C ABI of Pointbook. A thin mapping: C types in, the core's types out, errors to stable
//! status codes. Every function body runs inside [`ffi_guard!`], which checks nothing itself but
//! turns a panic into `PB_INTERNAL`, so no panic ever crosses the boundary.
//!
//! Locking: a `pb_book` holds its `Book` in a read-write lock. `pb_book_apply` takes it for
//! writing; `pb_book_quote`, `pb_book_balance`, `pb_book_progress`, `pb_book_digest` and
//! `pb_book_snapshot` take it for reading, so reads run in parallel and never see half an event.
#![allow(non_camel_case_types)]

use pointbook::analytics::{self, Analysis, Analyzer, Options};
use pointbook::event::Purchase;
use pointbook::feed;
use pointbook::{Book, Error, Event, MemberId, Program};
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::RwLock;

/// Major version of this library (the C header carries the same number).
pub const PB_VERSION_MAJOR: u32 = 0;
/// Minor version of this library.
pub const PB_VERSION_MINOR: u32 = 1;
/// Patch version of this library.
pub const PB_VERSION_PATCH: u32 = 0;

/// Status of a call. Codes are stable and grouped by family: 1-9 the C boundary, 1xx programs,
/// 2xx event shape and order, 3xx points and refunds, 4xx rewards, 5xx snapshots. A new code
/// never renumbers an old one.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum pb_status {
    /// Success.
    PB_OK = 0,
    /// A required pointer argument was NULL.
    PB_NULL_ARGUMENT = 1,
    /// A string argument was not valid UTF-8.
    PB_INVALID_UTF8 = 2,
    /// An argument is unusable (e.g. text with a NUL byte inside its length).
    PB_INVALID_ARGUMENT = 3,
    /// An internal error (a caught panic); the book is unchanged.
    PB_INTERNAL = 9,
    /// The program is malformed or contradicts itself.
    PB_INVALID_PROGRAM = 100,
    /// The event is malformed.
    PB_INVALID_EVENT = 200,
    /// The member is not enrolled.
    PB_UNKNOWN_MEMBER = 201,
    /// The member is already enrolled.
    PB_MEMBER_EXISTS = 202,
    /// The member's account is closed.
    PB_MEMBER_CLOSED = 203,
    /// The event is older than the late tolerance allows.
    PB_LATE_EVENT = 204,
    /// The id is used by a different event.
    PB_ID_CONFLICT = 205,
    /// The program does not allow transfers.
    PB_TRANSFERS_DISABLED = 206,
    /// A refund names an unknown purchase.
    PB_UNKNOWN_PURCHASE = 300,
    /// A refund exceeds what is left of the purchase.
    PB_REFUND_EXCEEDS_PURCHASE = 301,
    /// Not enough available points.
    PB_INSUFFICIENT_POINTS = 302,
    /// Points arithmetic would overflow.
    PB_OVERFLOW = 303,
    /// Unknown reward.
    PB_UNKNOWN_REWARD = 400,
    /// The member's tier is too low for the reward.
    PB_TIER_TOO_LOW = 401,
    /// The member reached the reward's limit.
    PB_LIMIT_REACHED = 402,
    /// The reward is out of stock.
    PB_OUT_OF_STOCK = 403,
    /// Unknown redemption.
    PB_UNKNOWN_REDEMPTION = 404,
    /// The redemption is not held any more.
    PB_HOLD_NOT_ACTIVE = 405,
    /// The snapshot bytes are invalid.
    PB_INVALID_SNAPSHOT = 500,
    /// The snapshot was taken under another program.
    PB_PROGRAM_MISMATCH = 501,
    /// The book's state breaks an invariant or cannot be written (a defect, never an event's
    /// doing).
    PB_INCONSISTENT_STATE = 502,
    /// Analysis options out of range.
    PB_INVALID_OPTIONS = 600,
}

impl pb_status {
    fn of(e: &Error) -> pb_status {
        use pb_status::*;
        match e.number() {
            100 => PB_INVALID_PROGRAM,
            200 => PB_INVALID_EVENT,
            201 => PB_UNKNOWN_MEMBER,
            202 => PB_MEMBER_EXISTS,
            203 => PB_MEMBER_CLOSED,
            204 => PB_LATE_EVENT,
            205 => PB_ID_CONFLICT,
            206 => PB_TRANSFERS_DISABLED,
            300 => PB_UNKNOWN_PURCHASE,
            301 => PB_REFUND_EXCEEDS_PURCHASE,
            302 => PB_INSUFFICIENT_POINTS,
            303 => PB_OVERFLOW,
            400 => PB_UNKNOWN_REWARD,
            401 => PB_TIER_TOO_LOW,
            402 => PB_LIMIT_REACHED,
            403 => PB_OUT_OF_STOCK,
            404 => PB_UNKNOWN_REDEMPTION,
            405 => PB_HOLD_NOT_ACTIVE,
            500 => PB_INVALID_SNAPSHOT,
            501 => PB_PROGRAM_MISMATCH,
            502 => PB_INCONSISTENT_STATE,
            600 => PB_INVALID_OPTIONS,
            _ => PB_INTERNAL,
        }
    }
}

/// A loaded, validated program. Opaque.
pub struct pb_program {
    program: Program,
}

/// A book: the state of one program. Opaque; safe to share between threads.
pub struct pb_book {
    book: RwLock<Book>,
}

/// Details of a failed call: a status code and a message. Opaque.
pub struct pb_error {
    status: pb_status,
    message: CString,
}

/// A failed call: its status and message.
struct Failure(pb_status, String);

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure(pb_status::of(&e), e.to_string())
    }
}

type Outcome<T> = Result<T, Failure>;

fn fail<T>(status: pb_status, message: impl Into<String>) -> Outcome<T> {
    Err(Failure(status, message.into()))
}

/// Runs a function body: a panic becomes `PB_INTERNAL`; a failure fills `*err` (if `err` is
/// not NULL) and returns its status.
macro_rules! ffi_guard {
    ($err:expr, $body:block) => {{
        let err: *mut *mut pb_error = $err;
        if !err.is_null() {
            // SAFETY: the caller passes NULL or a valid pointer to a pb_error pointer.
            unsafe { *err = std::ptr::null_mut() };
        }
        let result: Outcome<()> = match catch_unwind(AssertUnwindSafe(|| -> Outcome<()> { $body }))
        {
            Ok(r) => r,
            Err(_) => fail(
                pb_status::PB_INTERNAL,
                "internal error (a panic was caught)",
            ),
        };
        match result {
            Ok(()) => pb_status::PB_OK,
            Err(Failure(status, message)) => {
                if !err.is_null() {
                    let message = CString::new(message.replace('\0', " ")).unwrap_or_default();
                    // SAFETY: checked non-NULL above; ownership of the box goes to the caller.
                    unsafe { *err = Box::into_raw(Box::new(pb_error { status, message })) };
                }
                status
            }
        }
    }};
}

/// Borrows `len` bytes at `ptr` as UTF-8 text.
///
/// # Safety
/// `ptr` must be NULL or point to at least `len` readable bytes.
unsafe fn text<'a>(ptr: *const c_char, len: usize, what: &str) -> Outcome<&'a str> {
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
unsafe fn c_text<'a>(ptr: *const c_char, what: &str) -> Outcome<&'a str> {
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

fn check_out<T>(out: *mut T, what: &str) -> Outcome<()> {
    if out.is_null() {
        return fail(pb_status::PB_NULL_ARGUMENT, format!("{what} is NULL"));
    }
    Ok(())
}

/// Writes a string to an out-parameter (if not NULL), for `pb_string_free`.
fn give_string(out: *mut *mut c_char, s: String) -> Outcome<()> {
    if out.is_null() {
        return Ok(());
    }
    let c = CString::new(s).or_else(|_| fail(pb_status::PB_INTERNAL, "NUL in output"))?;
    // SAFETY: `out` is non-NULL and, by the contract, writable.
    unsafe { *out = c.into_raw() };
    Ok(())
}

fn book_ref<'a>(book: *const pb_book) -> Outcome<&'a pb_book> {
    // SAFETY: the caller passes NULL or a live pb_book from pb_book_new/pb_book_restore.
    unsafe { book.as_ref() }.map_or_else(|| fail(pb_status::PB_NULL_ARGUMENT, "book is NULL"), Ok)
}

fn program_ref<'a>(program: *const pb_program) -> Outcome<&'a pb_program> {
    // SAFETY: the caller passes NULL or a live pb_program from pb_program_load.
    unsafe { program.as_ref() }
        .map_or_else(|| fail(pb_status::PB_NULL_ARGUMENT, "program is NULL"), Ok)
}

/// A poisoned lock means a panic was caught while the book was held; an event that does not
/// complete, panic included, leaves the book as it was (the core undoes its changes to
/// members as the panic unwinds), so the book is still whole. Go on with it.
fn recover<G>(r: Result<G, std::sync::PoisonError<G>>, book: &pb_book) -> Outcome<G> {
    match r {
        Ok(g) => Ok(g),
        Err(poisoned) => {
            book.book.clear_poison();
            Ok(poisoned.into_inner())
        }
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Outcome<String> {
    serde_json::to_string(value).or_else(|e| fail(pb_status::PB_INTERNAL, e.to_string()))
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
        let book = Box::new(pb_book {
            book: RwLock::new(Book::new(program)),
        });
        // SAFETY: `out` checked non-NULL.
        unsafe { *out = Box::into_raw(book) };
        Ok(())
    })
}

/// Applies one event (JSON, `len` bytes). On success `*outcome_json` (if `outcome_json` is not
/// NULL) receives the outcome, to be freed with `pb_string_free`. On failure the book is
/// unchanged.
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
        let json = unsafe { text(event_json, len, "event_json") }?;
        let event = Event::from_json(json)?;
        let outcome = recover(book.book.write(), book)?.apply(&event)?;
        give_string(outcome_json, to_json(&outcome)?)
    })
}

/// Quotes a purchase (JSON, wire format; `"type"` may be omitted): the outcome it would have,
/// without applying it.
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
        let purchase = Purchase::from_json(json)?;
        let outcome = recover(book.book.read(), book)?.quote(&purchase)?;
        give_string(outcome_json, to_json(&outcome)?)
    })
}

/// A member's balance (JSON, SEMANTICS §12) as of the book's clock.
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
        let balance = recover(book.book.read(), book)?.balance(&member)?;
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
            guard.clock().ok_or_else(|| {
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
        give_string(progress_json, to_json(&guard.progress(&member, at)?)?)
    })
}

/// Replays a history (JSON Lines, `len` bytes) into a fresh book of `program` and writes its
/// analytics to `*analysis_json` (the document of `pointbook analyze`; free with
/// `pb_string_free`). `options_json` is NULL (defaults) or NUL-terminated JSON such as
/// `{"period":"quarter","as_of":"2027-01-01T00:00:00Z"}`. Rejected events are counted in the
/// analysis, not fatal.
///
/// # Safety
/// `program` NULL or live; `events_jsonl` points to `len` bytes; `options_json` NULL or
/// NUL-terminated; out-parameters NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn pb_analyze(
    program: *const pb_program,
    events_jsonl: *const c_char,
    len: usize,
    options_json: *const c_char,
    analysis_json: *mut *mut c_char,
    err: *mut *mut pb_error,
) -> pb_status {
    ffi_guard!(err, {
        check_out(analysis_json, "analysis_json")?;
        let program = program_ref(program)?;
        // SAFETY: forwarded from the caller.
        let events = unsafe { text(events_jsonl, len, "events_jsonl") }?;
        // SAFETY: forwarded from the caller.
        let options = unsafe { analysis_options(options_json) }?;
        let analysis = analyze_lines(&program.program, events, options)?;
        give_string(analysis_json, to_json(&analysis)?)
    })
}

/// What if: replays the same history under programs `a` and `b` and writes the comparison to
/// `*comparison_json` (the document of `pointbook compare --json`), listing at most `top` of
/// the members most affected.
///
/// # Safety
/// As `pb_analyze`, for both programs.
#[no_mangle]
pub unsafe extern "C" fn pb_compare(
    a: *const pb_program,
    b: *const pb_program,
    events_jsonl: *const c_char,
    len: usize,
    options_json: *const c_char,
    top: usize,
    comparison_json: *mut *mut c_char,
    err: *mut *mut pb_error,
) -> pb_status {
    ffi_guard!(err, {
        check_out(comparison_json, "comparison_json")?;
        let (a, b) = (program_ref(a)?, program_ref(b)?);
        // SAFETY: forwarded from the caller.
        let events = unsafe { text(events_jsonl, len, "events_jsonl") }?;
        // SAFETY: forwarded from the caller.
        let options = unsafe { analysis_options(options_json) }?;
        let x = analyze_lines(&a.program, events, options)?;
        let y = analyze_lines(&b.program, events, options)?;
        give_string(comparison_json, to_json(&analytics::compare(&x, &y, top))?)
    })
}

/// Analysis options from NULL (defaults) or NUL-terminated JSON.
///
/// # Safety
/// `options_json` is NULL or NUL-terminated.
unsafe fn analysis_options(options_json: *const c_char) -> Outcome<Options> {
    if options_json.is_null() {
        return Ok(Options::default());
    }
    // SAFETY: forwarded from the caller.
    let text = unsafe { c_text(options_json, "options_json") }?;
    Ok(Options::from_json(text)?)
}

fn analyze_lines(program: &Program, events: &str, options: Options) -> Outcome<Analysis> {
    let mut analyzer = Analyzer::new(program.clone(), options)?;
    for line in feed::lines(events.as_bytes()) {
        let _ = analyzer.apply_read(line.event());
    }
    Ok(analyzer.finish())
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
        let d = recover(book.book.read(), book)?.digest()?;
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
        let program = program_ref(program)?.program.clone();
        if bytes.is_null() {
            return fail(pb_status::PB_NULL_ARGUMENT, "bytes is NULL");
        }
        // SAFETY: guaranteed by the caller.
        let data = unsafe { std::slice::from_raw_parts(bytes, len) };
        let book = Book::restore(program, data)?;
        // SAFETY: `out` checked non-NULL.
        unsafe {
            *out = Box::into_raw(Box::new(pb_book {
                book: RwLock::new(book),
            }))
        };
        Ok(())
    })
}

/// The status of an error (`PB_INVALID_ARGUMENT` for NULL).
///
/// # Safety
/// `err` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn pb_error_code(err: *const pb_error) -> pb_status {
    // SAFETY: NULL or live, by the contract.
    unsafe { err.as_ref() }.map_or(pb_status::PB_INVALID_ARGUMENT, |e| e.status)
}

/// The message of an error, valid until `pb_error_free` (a static text for NULL).
///
/// # Safety
/// `err` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn pb_error_message(err: *const pb_error) -> *const c_char {
    // SAFETY: NULL or live, by the contract.
    match unsafe { err.as_ref() } {
        Some(e) => e.message.as_ptr(),
        None => c"no error (NULL)".as_ptr(),
    }
}

/// Frees an error. NULL is a no-op.
///
/// # Safety
/// `err` NULL or from a pointbook call, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn pb_error_free(err: *mut pb_error) {
    if !err.is_null() {
        // SAFETY: from Box::into_raw in ffi_guard!.
        drop(unsafe { Box::from_raw(err) });
    }
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

/// Frees a book. NULL is a no-op. No other thread may be using it.
///
/// # Safety
/// `book` NULL or live, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn pb_book_free(book: *mut pb_book) {
    if !book.is_null() {
        // SAFETY: from Box::into_raw in pb_book_new / pb_book_restore.
        drop(unsafe { Box::from_raw(book) });
    }
}

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

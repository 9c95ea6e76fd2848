//! Stores: a book kept in a SQLite file, every accepted event journalled before the call
//! returns (`docs/store.md`). A `pb_store` is its one writer; its book (`pb_store_book`) is a
//! `pb_book` for reads and quotes, shared by the same lock.

use crate::book::{apply_json, pb_book, recover, Kept};
use crate::boundary::{c_text, check_out, give_string, text, to_json};
use crate::error::{fail, ffi_guard, pb_error, pb_status, Failure, Outcome};
use crate::program::{pb_program, program_ref};
use pointbook::feed::{lines, Rejection};
use pointbook_store::{Durability, Entry, Options, Store, StoreError};
use std::ffi::c_char;
use std::sync::RwLock;
use std::time::Duration;

/// A store opened for writing. Opaque; safe to share between threads.
pub struct pb_store {
    view: pb_book,
}

/// How a store is kept. Start from `pb_store_options_default()`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct pb_store_options {
    /// 0: every commit synced before the call returns (`synchronous = FULL`, the default);
    /// 1: synced at checkpoints (`NORMAL`: survives a crash of the process, not always a
    /// power cut).
    pub durability: u32,
    /// A snapshot every this many journalled events (0: only on `pb_store_checkpoint`).
    pub snapshot_every: u64,
    /// Snapshots kept (at least 1).
    pub keep_snapshots: u32,
    /// Milliseconds `pb_store_open` waits for another writer before `PB_STORE_LOCKED`.
    pub wait_ms: u32,
}

/// The default options: full durability, a snapshot every 100,000 events, two kept, no wait.
#[no_mangle]
pub extern "C" fn pb_store_options_default() -> pb_store_options {
    let o = Options::default();
    pb_store_options {
        durability: 0,
        snapshot_every: o.snapshot_every,
        keep_snapshots: o.keep_snapshots,
        wait_ms: 0,
    }
}

/// A store error as a C failure: the engine's own status for a rejected event, a 7xx status
/// for the store's.
pub(crate) fn store_failure(e: StoreError) -> Failure {
    use pb_status::*;
    let status = match &e {
        StoreError::Rejected(inner) | StoreError::Engine(inner) => {
            return Failure::from(inner.clone())
        }
        StoreError::ProgramMismatch { .. } => PB_PROGRAM_MISMATCH,
        StoreError::Locked { .. } => PB_STORE_LOCKED,
        StoreError::NotAStore { .. } => PB_NOT_A_STORE,
        StoreError::Full { .. } => PB_STORE_FULL,
        StoreError::Damaged { .. } => PB_STORE_DAMAGED,
        StoreError::Io { .. } => PB_STORE_IO,
    };
    Failure(status, e.to_string())
}

fn store_ref<'a>(store: *const pb_store) -> Outcome<&'a pb_store> {
    // SAFETY: the caller passes NULL or a live pb_store from pb_store_open.
    unsafe { store.as_ref() }.map_or_else(|| fail(pb_status::PB_NULL_ARGUMENT, "store is NULL"), Ok)
}

/// Runs `f` on the store, holding its lock for writing.
fn with_store<T>(store: &pb_store, f: impl FnOnce(&mut Store) -> Outcome<T>) -> Outcome<T> {
    let mut guard = recover(store.view.book.write(), &store.view)?;
    match &mut *guard {
        Kept::Store(s) => f(s),
        Kept::Book(_) => fail(pb_status::PB_INTERNAL, "a pb_store without a store"),
    }
}

/// Opens the store at `path` (NUL-terminated) for writing, creating it under `program` if
/// missing. `options` may be NULL (the defaults). Fails with `PB_STORE_LOCKED` if another
/// writer has it open, `PB_PROGRAM_MISMATCH` if it holds another program, `PB_NOT_A_STORE`
/// if the file is something else, `PB_STORE_DAMAGED` if it cannot be rebuilt. Close with
/// `pb_store_close`.
///
/// # Safety
/// `path` NULL or NUL-terminated; `program` NULL or live; `options` NULL or readable; `out`
/// and `err` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn pb_store_open(
    path: *const c_char,
    program: *const pb_program,
    options: *const pb_store_options,
    out: *mut *mut pb_store,
    err: *mut *mut pb_error,
) -> pb_status {
    ffi_guard!(err, {
        check_out(out, "out")?;
        // SAFETY: forwarded from the caller.
        let path = unsafe { c_text(path, "path") }?;
        let program = program_ref(program)?.program.clone();
        // SAFETY: NULL or readable, by the contract.
        let o = unsafe { options.as_ref() }
            .copied()
            .unwrap_or_else(|| pb_store_options_default());
        let durability = match o.durability {
            0 => Durability::Full,
            1 => Durability::Normal,
            n => {
                return fail(
                    pb_status::PB_INVALID_ARGUMENT,
                    format!("durability {n} is neither 0 (full) nor 1 (normal)"),
                )
            }
        };
        let options = Options {
            durability,
            snapshot_every: o.snapshot_every,
            keep_snapshots: o.keep_snapshots,
            wait: Duration::from_millis(u64::from(o.wait_ms)),
            max_pages: None,
            snapshot_part: pointbook_store::schema::PART,
        };
        let store = Store::open(path, program, options).map_err(store_failure)?;
        let store = Box::new(pb_store {
            view: pb_book {
                book: RwLock::new(Kept::Store(Box::new(store))),
                borrowed: true,
            },
        });
        // SAFETY: `out` checked non-NULL.
        unsafe { *out = Box::into_raw(store) };
        Ok(())
    })
}

/// Applies one event (JSON, `len` bytes) and journals it; returns once it is on disk.
/// `*outcome_json` (if not NULL) receives the outcome. A rejected event returns the engine's
/// status (and is journalled as rejected); a store failure (`PB_STORE_FULL`, `PB_STORE_IO`)
/// changes nothing.
///
/// # Safety
/// `store` NULL or live; `event_json` points to `len` bytes; out-parameters NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn pb_store_apply(
    store: *mut pb_store,
    event_json: *const c_char,
    len: usize,
    outcome_json: *mut *mut c_char,
    err: *mut *mut pb_error,
) -> pb_status {
    ffi_guard!(err, {
        let store = store_ref(store)?;
        // The store's book journals what it is given: the same path as `pb_book_apply`.
        // SAFETY: forwarded from the caller.
        unsafe { apply_json(&store.view, event_json, len, outcome_json) }
    })
}

/// Applies the events of a JSON Lines text (`len` bytes) in order and journals them in one
/// transaction (group commit). `*results_jsonl` (if not NULL) receives one JSON line per
/// non-blank input line: the outcome, or `{"id","line","error":{"code","message"}}` for a
/// line rejected (journalled as rejected). `PB_OK` means every line was applied or rejected
/// and all of it is on disk; any other status means nothing was applied.
///
/// # Safety
/// As `pb_store_apply`.
#[no_mangle]
pub unsafe extern "C" fn pb_store_apply_batch(
    store: *mut pb_store,
    events_jsonl: *const c_char,
    len: usize,
    results_jsonl: *mut *mut c_char,
    err: *mut *mut pb_error,
) -> pb_status {
    ffi_guard!(err, {
        let store = store_ref(store)?;
        // SAFETY: forwarded from the caller.
        let jsonl = unsafe { text(events_jsonl, len, "events_jsonl") }?;
        let read: Vec<_> = lines(jsonl.as_bytes())
            .into_iter()
            .map(|l| (l.number, l.text().unwrap_or_default(), l.event()))
            .collect();
        let entries: Vec<Entry<'_>> = read
            .iter()
            .map(|(_, text, event)| match event {
                Ok(e) => Entry::Event(e),
                Err(error) => Entry::Unreadable { text, error },
            })
            .collect();
        let results = with_store(store, |s| s.apply_entries(&entries).map_err(store_failure))?;
        let mut out = String::new();
        for ((number, text, _), result) in read.iter().zip(results) {
            let line = match result {
                Ok(o) => to_json(&o)?,
                Err(e) => Rejection::new(*number, Some(text), e).to_json(),
            };
            out.push_str(&line);
            out.push('\n');
        }
        give_string(results_jsonl, out)
    })
}

/// Takes a snapshot now, so that the next open replays nothing.
///
/// # Safety
/// `store` NULL or live; `err` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn pb_store_checkpoint(
    store: *mut pb_store,
    err: *mut *mut pb_error,
) -> pb_status {
    ffi_guard!(err, {
        let store = store_ref(store)?;
        with_store(store, |s| s.checkpoint().map_err(store_failure))
    })
}

/// The store's book, for reads and quotes (`pb_book_quote`, `pb_book_balance`, ...; an event
/// given to `pb_book_apply` on it is journalled as by `pb_store_apply`). Borrowed: valid until
/// `pb_store_close`, never freed by the caller (`pb_book_free` ignores it). NULL for NULL.
///
/// # Safety
/// `store` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn pb_store_book(store: *const pb_store) -> *mut pb_book {
    // SAFETY: NULL or live, by the contract.
    match unsafe { store.as_ref() } {
        // Mutable for `pb_book_apply`: the book's lock is what guards it.
        Some(s) => std::ptr::from_ref(&s.view).cast_mut(),
        None => std::ptr::null_mut(),
    }
}

/// Closes the store and lets the next writer in. Everything acknowledged is already on disk.
/// NULL is a no-op. No other thread may be using it or its book.
///
/// # Safety
/// `store` NULL or from `pb_store_open`, not yet closed.
#[no_mangle]
pub unsafe extern "C" fn pb_store_close(store: *mut pb_store) {
    if !store.is_null() {
        // SAFETY: from Box::into_raw in pb_store_open.
        drop(unsafe { Box::from_raw(store) });
    }
}

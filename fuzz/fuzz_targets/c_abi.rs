//! The C ABI, any bytes: a script of calls (load a program, apply, quote, balance, progress,
//! digest, snapshot and restore, analyze, compare, a durable store's apply, batch, checkpoint,
//! reopen and lent book, and calls with NULL arguments), each with a blob of the input as its
//! text, with or without an error out-parameter.
//!
//! Every call returns a documented status and never `PB_INTERNAL` (a caught panic); an error
//! comes with a message exactly when the status is not `PB_OK`; every output is JSON; what the
//! library hands over is freed, so the sanitizer's leak check sees any leak; and the C book,
//! and the store's book across reopenings, answer byte for byte as a core `Book` fed the same
//! calls (the binding is conversion only).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pointbook::event::Quote;
use pointbook::feed::{lines, Rejection};
use pointbook::{Book, Event, MemberId, Program};
use pointbook_c as c;
use pointbook_c::{pb_book, pb_error, pb_program, pb_status, pb_store};
use std::ffi::{c_char, CStr, CString};
use std::path::PathBuf;
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicU64, Ordering};

/// A call's status and what it said, checked against the error contract.
struct Said {
    status: pb_status,
    message: Option<String>,
}

/// Takes the error a call left (freeing it) and checks it agrees with the status.
fn said(status: pb_status, err: *mut pb_error, asked: bool) -> Said {
    assert_ne!(
        status,
        pb_status::PB_INTERNAL,
        "a panic reached the boundary"
    );
    if !asked {
        assert!(err.is_null());
        return Said {
            status,
            message: None,
        };
    }
    if status == pb_status::PB_OK {
        assert!(err.is_null(), "an error left on success");
        return Said {
            status,
            message: None,
        };
    }
    assert!(!err.is_null(), "a failure without its error");
    // SAFETY: a live error from the call above.
    let (code, message) = unsafe {
        (
            c::pb_error_code(err),
            CStr::from_ptr(c::pb_error_message(err))
                .to_str()
                .map(str::to_owned),
        )
    };
    assert_eq!(code, status);
    let message = message.expect("error messages are UTF-8");
    assert!(!message.is_empty());
    // SAFETY: freed once.
    unsafe { c::pb_error_free(err) };
    Said {
        status,
        message: Some(message),
    }
}

/// Takes a string the library handed over (freeing it); it is JSON unless `plain`.
fn taken(s: *mut c_char, plain: bool) -> String {
    assert!(!s.is_null(), "PB_OK without its output");
    // SAFETY: a live string from the library.
    let text = unsafe { CStr::from_ptr(s) }
        .to_str()
        .expect("outputs are UTF-8")
        .to_owned();
    // SAFETY: freed once.
    unsafe { c::pb_string_free(s) };
    if !plain {
        assert!(
            serde_json::from_str::<serde_json::Value>(&text).is_ok(),
            "not JSON: {text}"
        );
    }
    text
}

/// Checks a call given `blob` as its text against the core given the same text: refused
/// before the core saw it (NUL, not UTF-8), or the core's outcome as JSON, or its error's
/// status and words and no output.
fn answered(
    said: Said,
    blob: &[u8],
    out: *mut c_char,
    core: impl FnOnce(&str) -> pointbook::Result<pointbook::Outcome>,
) {
    if let Some(s) = text_status(blob) {
        assert_eq!(said.status, s);
        return;
    }
    match core(std::str::from_utf8(blob).unwrap_or_default()) {
        Ok(outcome) => {
            assert_eq!(said.status, pb_status::PB_OK);
            let json = serde_json::to_string(&outcome).expect("outcomes serialize");
            assert_eq!(taken(out, false), json);
        }
        Err(e) => {
            assert_eq!(said.status as u32, expected(&e));
            assert!(out.is_null());
            if let Some(m) = said.message {
                assert_eq!(m, e.to_string().replace('\0', " "));
            }
        }
    }
}

/// The status a core error maps to: its own number (the C families are the core's).
fn expected(e: &pointbook::Error) -> u32 {
    e.number()
}

/// The status text checks give before the core sees the text.
fn text_status(blob: &[u8]) -> Option<pb_status> {
    if blob.contains(&0) {
        Some(pb_status::PB_INVALID_ARGUMENT)
    } else if std::str::from_utf8(blob).is_err() {
        Some(pb_status::PB_INVALID_UTF8)
    } else {
        None
    }
}

/// A C book and the core book it must agree with.
struct Pair {
    program: *mut pb_program,
    book: *mut pb_book,
    core: Book,
}

impl Pair {
    fn new(program: *mut pb_program, core: Program) -> Pair {
        let mut book = null_mut();
        // SAFETY: a live program; `book` writable.
        let status = unsafe { c::pb_book_new(program, &mut book, null_mut()) };
        assert_eq!(status, pb_status::PB_OK);
        Pair {
            program,
            book,
            core: Book::new(core),
        }
    }

    fn apply(&mut self, blob: &[u8], ask: bool) {
        let (mut out, mut err) = (null_mut(), null_mut());
        // SAFETY: live book; `blob` readable for its length; out-parameters writable.
        let status = unsafe {
            c::pb_book_apply(
                self.book,
                blob.as_ptr().cast(),
                blob.len(),
                &mut out,
                if ask { &mut err } else { null_mut() },
            )
        };
        let core = &mut self.core;
        answered(said(status, err, ask), blob, out, |text| {
            Event::from_json(text).and_then(|e| core.apply(&e))
        });
    }

    fn quote(&self, blob: &[u8]) {
        let (mut out, mut err) = (null_mut(), null_mut());
        // SAFETY: as in `apply`.
        let status = unsafe {
            c::pb_book_quote(
                self.book,
                blob.as_ptr().cast(),
                blob.len(),
                &mut out,
                &mut err,
            )
        };
        answered(said(status, err, true), blob, out, |text| {
            Quote::from_json(text).and_then(|q| self.core.quote_order(&q))
        });
    }

    fn balance(&self, member: &CStr) {
        let (mut out, mut err) = (null_mut(), null_mut());
        // SAFETY: live book; `member` NUL-terminated.
        let status = unsafe { c::pb_book_balance(self.book, member.as_ptr(), &mut out, &mut err) };
        let said = said(status, err, true);
        let Ok(name) = member.to_str() else {
            assert_eq!(said.status, pb_status::PB_INVALID_UTF8);
            return;
        };
        match self.core.balance(&MemberId::new(name)) {
            Ok(balance) => {
                assert_eq!(said.status, pb_status::PB_OK);
                let json = serde_json::to_string(&balance).expect("balances serialize");
                assert_eq!(taken(out, false), json);
            }
            Err(e) => assert_eq!(said.status as u32, expected(&e)),
        }
    }

    fn progress(&self, member: &CStr, at: Option<&CStr>) {
        let (mut out, mut err) = (null_mut(), null_mut());
        // SAFETY: live book; strings NUL-terminated or NULL.
        let status = unsafe {
            c::pb_book_progress(
                self.book,
                member.as_ptr(),
                at.map_or(null(), CStr::as_ptr),
                &mut out,
                &mut err,
            )
        };
        if said(status, err, true).status == pb_status::PB_OK {
            taken(out, false);
        }
    }

    fn digest(&self) -> String {
        let mut out = null_mut();
        // SAFETY: live book; `out` writable.
        let status = unsafe { c::pb_book_digest(self.book, &mut out, null_mut()) };
        assert_eq!(status, pb_status::PB_OK, "a book has a digest");
        let digest = taken(out, true);
        assert_eq!(Some(digest.as_str()), self.core.digest().ok().as_deref());
        digest
    }

    /// Saves the C book and restores it in its place: the same digest, the same bytes again.
    fn save_and_restore(&mut self) {
        let (mut bytes, mut len) = (null_mut(), 0usize);
        // SAFETY: live book; out-parameters writable.
        let status = unsafe { c::pb_book_snapshot(self.book, &mut bytes, &mut len, null_mut()) };
        assert_eq!(status, pb_status::PB_OK, "a book saves");
        // SAFETY: `len` bytes handed over by the library.
        let saved = unsafe { std::slice::from_raw_parts(bytes, len) }.to_vec();
        // SAFETY: freed once with its length.
        unsafe { c::pb_bytes_free(bytes, len) };
        assert_eq!(Some(&saved), self.core.snapshot().ok().as_ref());
        let before = self.digest();
        let mut again = null_mut();
        // SAFETY: live program; `saved` readable; `again` writable.
        let status = unsafe {
            c::pb_book_restore(
                self.program,
                saved.as_ptr(),
                saved.len(),
                &mut again,
                null_mut(),
            )
        };
        assert_eq!(status, pb_status::PB_OK, "a saved book restores");
        // SAFETY: the old book, freed once.
        unsafe { c::pb_book_free(self.book) };
        self.book = again;
        assert_eq!(self.digest(), before);
    }

    /// Restores any bytes: refused with a snapshot status, or a book that answers and saves.
    fn restore(&self, blob: &[u8]) {
        let (mut book, mut err) = (null_mut(), null_mut());
        // SAFETY: live program; `blob` readable; out-parameters writable.
        let status = unsafe {
            c::pb_book_restore(self.program, blob.as_ptr(), blob.len(), &mut book, &mut err)
        };
        let said = said(status, err, true);
        if said.status != pb_status::PB_OK {
            assert!(
                (500..600).contains(&(said.status as u32)),
                "{:?}",
                said.status
            );
            return;
        }
        let (mut bytes, mut len) = (null_mut(), 0usize);
        // SAFETY: the restored book, live.
        let status = unsafe { c::pb_book_snapshot(book, &mut bytes, &mut len, null_mut()) };
        assert_eq!(status, pb_status::PB_OK, "a restored book saves");
        // SAFETY: each freed once.
        unsafe {
            c::pb_bytes_free(bytes, len);
            c::pb_book_free(book);
        }
    }

    /// Analysis (and a comparison with itself) of a blob as JSON Lines, under options from the
    /// blob's first line.
    fn analyze(&self, blob: &[u8]) {
        let split = blob.iter().position(|b| *b == b'\n').unwrap_or(blob.len());
        let options = CString::new(blob[..split].to_vec()).ok();
        let events = &blob[split.min(blob.len())..];
        let (mut out, mut err) = (null_mut(), null_mut());
        let options_ptr = options.as_deref().map_or(null(), CStr::as_ptr);
        // SAFETY: live program; `events` readable; options NULL or NUL-terminated.
        let status = unsafe {
            c::pb_analyze(
                self.program,
                events.as_ptr().cast(),
                events.len(),
                options_ptr,
                &mut out,
                &mut err,
            )
        };
        if said(status, err, true).status == pb_status::PB_OK {
            taken(out, false);
        }
        let (mut out, mut err) = (null_mut(), null_mut());
        // SAFETY: as above.
        let status = unsafe {
            c::pb_compare(
                self.program,
                self.program,
                events.as_ptr().cast(),
                events.len(),
                options_ptr,
                3,
                &mut out,
                &mut err,
            )
        };
        if said(status, err, true).status == pb_status::PB_OK {
            taken(out, false);
        }
    }

    /// Every call with NULL where a pointer is required: `PB_NULL_ARGUMENT`, nothing else.
    fn nulls(&self) {
        let null_arg = |status: pb_status, err: *mut pb_error| {
            assert_eq!(said(status, err, true).status, pb_status::PB_NULL_ARGUMENT);
        };
        let mut err = null_mut();
        let (mut s, mut b, mut p, mut bytes) = (null_mut(), null_mut(), null_mut(), null_mut());
        // SAFETY: NULL in one argument each; every other argument valid.
        unsafe {
            null_arg(c::pb_program_load(null(), 3, &mut p, &mut err), err);
            null_arg(c::pb_book_new(null(), &mut b, &mut err), err);
            null_arg(
                c::pb_book_apply(null_mut(), c"{}".as_ptr(), 2, &mut s, &mut err),
                err,
            );
            null_arg(
                c::pb_book_apply(self.book, null(), 2, &mut s, &mut err),
                err,
            );
            null_arg(
                c::pb_book_quote(self.book, c"{}".as_ptr(), 2, null_mut(), &mut err),
                err,
            );
            null_arg(c::pb_book_balance(self.book, null(), &mut s, &mut err), err);
            null_arg(
                c::pb_book_progress(self.book, c"m1".as_ptr(), null(), null_mut(), &mut err),
                err,
            );
            null_arg(c::pb_book_digest(null(), &mut s, &mut err), err);
            null_arg(
                c::pb_book_snapshot(self.book, &mut bytes, null_mut(), &mut err),
                err,
            );
            null_arg(
                c::pb_book_restore(self.program, null(), 0, &mut b, &mut err),
                err,
            );
            null_arg(
                c::pb_analyze(self.program, null(), 0, null(), &mut s, &mut err),
                err,
            );
            null_arg(
                c::pb_compare(
                    self.program,
                    null(),
                    c"".as_ptr(),
                    0,
                    null(),
                    1,
                    &mut s,
                    &mut err,
                ),
                err,
            );
            assert_eq!(c::pb_error_code(null()), pb_status::PB_INVALID_ARGUMENT);
            c::pb_string_free(null_mut());
            c::pb_bytes_free(null_mut(), 0);
            c::pb_error_free(null_mut());
            c::pb_book_free(null_mut());
            c::pb_program_free(null_mut());
        }
        assert!(s.is_null() && b.is_null() && p.is_null() && bytes.is_null());
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        // SAFETY: both live, freed once.
        unsafe {
            c::pb_book_free(self.book);
            c::pb_program_free(self.program);
        }
    }
}

/// A store in a directory of its own, and the core book it must agree with.
struct StorePair {
    dir: PathBuf,
    path: CString,
    program: *mut pb_program,
    store: *mut pb_store,
    core: Book,
}

/// Stores of this process so far (each in its own directory).
static STORES: AtomicU64 = AtomicU64::new(0);

impl StorePair {
    /// A new store under the sample program: synced at checkpoints (a fuzzer cannot wait for
    /// the disk at every call) and a snapshot every three events, so reopening restores one
    /// and replays the journal after it.
    fn new() -> StorePair {
        let n = STORES.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("pb-fuzz-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let path = CString::new(dir.join("till.pointbook").to_string_lossy().into_owned())
            .expect("a path without NUL");
        let Some((program, core)) = load(pointbook::samples::BEAN_AND_LEAF.as_bytes()) else {
            panic!("the sample program loads");
        };
        let mut pair = StorePair {
            dir,
            path,
            program,
            store: null_mut(),
            core: Book::new(core),
        };
        pair.open();
        pair
    }

    fn open(&mut self) {
        let mut options = c::pb_store_options_default();
        options.durability = 1;
        options.snapshot_every = 3;
        let mut err = null_mut();
        // SAFETY: NUL-terminated path, live program, readable options, writable outs.
        let status = unsafe {
            c::pb_store_open(
                self.path.as_ptr(),
                self.program,
                &options,
                &mut self.store,
                &mut err,
            )
        };
        said(status, err, true);
        assert_eq!(status, pb_status::PB_OK, "the store opens");
    }

    /// Closes the store and opens it again: the same book, from its snapshot and journal.
    fn reopen(&mut self) {
        // SAFETY: live, closed once.
        unsafe { c::pb_store_close(self.store) };
        self.store = null_mut();
        self.open();
        self.digest();
    }

    fn digest(&self) {
        // SAFETY: live store; its book is lent, not freed.
        let book = unsafe { c::pb_store_book(self.store) };
        let mut out = null_mut();
        // SAFETY: a live lent book; `out` writable.
        let status = unsafe { c::pb_book_digest(book, &mut out, null_mut()) };
        assert_eq!(status, pb_status::PB_OK, "a store's book has a digest");
        assert_eq!(Some(taken(out, true)), self.core.digest().ok());
    }

    /// One event through `pb_store_apply`, or through `pb_book_apply` on the lent book.
    fn apply(&mut self, blob: &[u8], lent: bool) {
        let (mut out, mut err) = (null_mut(), null_mut());
        // SAFETY: live store and its lent book; `blob` readable; out-parameters writable.
        let status = unsafe {
            if lent {
                let book = c::pb_store_book(self.store);
                c::pb_book_apply(book, blob.as_ptr().cast(), blob.len(), &mut out, &mut err)
            } else {
                c::pb_store_apply(
                    self.store,
                    blob.as_ptr().cast(),
                    blob.len(),
                    &mut out,
                    &mut err,
                )
            }
        };
        let core = &mut self.core;
        answered(said(status, err, true), blob, out, |text| {
            Event::from_json(text).and_then(|e| core.apply(&e))
        });
    }

    /// A JSON Lines text through `pb_store_apply_batch`: a line of results per line, each as
    /// the core gives it.
    fn apply_batch(&mut self, blob: &[u8]) {
        let (mut out, mut err) = (null_mut(), null_mut());
        // SAFETY: as in `apply`.
        let status = unsafe {
            c::pb_store_apply_batch(
                self.store,
                blob.as_ptr().cast(),
                blob.len(),
                &mut out,
                &mut err,
            )
        };
        let said = said(status, err, true);
        if let Some(s) = text_status(blob) {
            assert_eq!(said.status, s);
            return;
        }
        assert_eq!(said.status, pb_status::PB_OK);
        let mut expected = String::new();
        for line in lines(blob) {
            let result = line.event().and_then(|e| self.core.apply(&e));
            expected.push_str(&match result {
                Ok(o) => serde_json::to_string(&o).expect("outcomes serialize"),
                Err(e) => Rejection::new(line.number, line.text(), e).to_json(),
            });
            expected.push('\n');
        }
        assert_eq!(taken(out, true), expected);
    }

    fn checkpoint(&mut self) {
        let mut err = null_mut();
        // SAFETY: live store; `err` writable.
        let status = unsafe { c::pb_store_checkpoint(self.store, &mut err) };
        assert_eq!(said(status, err, true).status, pb_status::PB_OK);
        self.digest();
    }

    /// The store's calls with NULL where a pointer is required, and a second writer.
    fn nulls(&self) {
        let null_arg = |call: &mut dyn FnMut(*mut *mut pb_error) -> pb_status| {
            let mut err = null_mut();
            let status = call(&mut err);
            assert_eq!(said(status, err, true).status, pb_status::PB_NULL_ARGUMENT);
        };
        let (path, program, store) = (self.path.as_ptr(), self.program, self.store);
        let mut out = null_mut();
        let mut s = null_mut();
        // SAFETY: NULL in one argument each; every other argument valid.
        unsafe {
            null_arg(&mut |err| c::pb_store_open(null(), program, null(), &mut out, err));
            null_arg(&mut |err| c::pb_store_open(path, null(), null(), &mut out, err));
            null_arg(&mut |err| c::pb_store_open(path, program, null(), null_mut(), err));
            null_arg(&mut |err| c::pb_store_apply(null_mut(), c"{}".as_ptr(), 2, &mut s, err));
            null_arg(&mut |err| c::pb_store_apply(store, null(), 2, &mut s, err));
            null_arg(&mut |err| {
                c::pb_store_apply_batch(null_mut(), c"{}".as_ptr(), 2, &mut s, err)
            });
            null_arg(&mut |err| c::pb_store_apply_batch(store, null(), 2, &mut s, err));
            null_arg(&mut |err| c::pb_store_checkpoint(null_mut(), err));
            assert!(c::pb_store_book(null()).is_null());
            c::pb_store_close(null_mut());
            // A second writer while this one holds the store.
            let mut err = null_mut();
            let status = c::pb_store_open(path, program, null(), &mut out, &mut err);
            assert_eq!(said(status, err, true).status, pb_status::PB_STORE_LOCKED);
        }
        assert!(s.is_null() && out.is_null());
    }
}

impl Drop for StorePair {
    fn drop(&mut self) {
        // SAFETY: both live (or the store NULL), freed once.
        unsafe {
            c::pb_store_close(self.store);
            c::pb_program_free(self.program);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Loads a program through C; `None` (and the status checked) when refused.
fn load(text: &[u8]) -> Option<(*mut pb_program, Program)> {
    let (mut program, mut err) = (null_mut(), null_mut());
    // SAFETY: `text` readable for its length; out-parameters writable.
    let status =
        unsafe { c::pb_program_load(text.as_ptr().cast(), text.len(), &mut program, &mut err) };
    let said = said(status, err, true);
    let core = std::str::from_utf8(text).map(Program::parse);
    match (text_status(text), core) {
        (Some(s), _) => assert_eq!(said.status, s),
        (None, Ok(Ok(core))) => {
            assert_eq!(said.status, pb_status::PB_OK);
            return Some((program, core));
        }
        (None, Ok(Err(e))) => assert_eq!(said.status as u32, expected(&e)),
        (None, Err(_)) => unreachable!("checked UTF-8"),
    }
    assert!(program.is_null());
    None
}

/// The calls, each an opcode byte, a 16-bit length and that many bytes (less at the end).
fn calls(mut data: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    std::iter::from_fn(move || {
        let (&op, rest) = data.split_first()?;
        let (len, rest) = match rest {
            [a, b, rest @ ..] => (usize::from(u16::from_le_bytes([*a, *b])), rest),
            _ => (0, &[][..]),
        };
        let (blob, rest) = rest.split_at(len.min(rest.len()));
        data = rest;
        Some((op, blob))
    })
    .take(48)
}

/// A string for a C argument: the blob up to its first NUL.
fn c_string(blob: &[u8]) -> CString {
    let end = blob.iter().position(|b| *b == 0).unwrap_or(blob.len());
    CString::new(&blob[..end]).unwrap_or_default()
}

fuzz_target!(|data: &[u8]| {
    let Some((program, core)) = load(pointbook::samples::BEAN_AND_LEAF.as_bytes()) else {
        panic!("the sample program loads");
    };
    let mut pair = Pair::new(program, core);
    let mut store: Option<StorePair> = None;
    for (op, blob) in calls(data) {
        if op % 16 >= 11 {
            let store = store.get_or_insert_with(StorePair::new);
            match op % 16 {
                11 => store.apply(blob, false),
                12 => store.apply(blob, true),
                13 => store.apply_batch(blob),
                14 => store.checkpoint(),
                _ => {
                    store.nulls();
                    store.reopen();
                }
            }
            continue;
        }
        match op % 11 {
            0 => {
                if let Some((program, core)) = load(blob) {
                    pair = Pair::new(program, core);
                }
            }
            1 => pair.apply(blob, true),
            2 => pair.apply(blob, false),
            3 => pair.quote(blob),
            4 => pair.balance(&c_string(blob)),
            5 => {
                let split = blob.iter().position(|b| *b == 0).unwrap_or(blob.len());
                let at = (split < blob.len()).then(|| c_string(&blob[split + 1..]));
                pair.progress(&c_string(&blob[..split]), at.as_deref());
            }
            6 => {
                pair.digest();
            }
            7 => pair.save_and_restore(),
            8 => pair.restore(blob),
            9 => pair.analyze(blob),
            _ => pair.nulls(),
        }
    }
    pair.digest();
    if let Some(store) = store {
        store.digest();
    }
});

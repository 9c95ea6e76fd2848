//! The file's layout: what each table holds (also in `docs/store.md`, for a vendor reading a
//! till's store with the `sqlite3` shell).
//!
//! - `meta (key, value)`: `format` = `pointbook-store`, `version` = 1, `program` (the
//!   program's canonical JSON) and `program_fingerprint`.
//! - `journal (seq, id, event)`: every accepted event in the order it was applied, as its
//!   canonical JSON. `seq` counts from 1 and never reuses a number, even after pruning.
//! - `rejected (n, after_seq, key, text, code, message)`: what the engine or the reader
//!   rejected, for the operator: the text as given, the error's code and words, and the journal
//!   position it came after. A text rejected again is kept once (`key` is its SHA-256).
//! - `snapshots (seq, length, parts)`: the book after journal entry `seq`, as `Book::snapshot`
//!   writes it (JSON, with a checksum of the state that `Book::restore` checks): the bytes'
//!   length, and how many parts hold them. With no readable snapshot the
//!   book is the journal replayed from its first entry.
//! - `snapshot_parts (seq, part, bytes)`: a snapshot's bytes in parts of at most
//!   [`PART`] bytes (SQLite refuses a value over 1 GB; a book of a million members is larger).

use crate::error::{Result, StoreError};
use rusqlite::{Connection, OptionalExtension};
use std::path::Path;

/// The `format` in `meta`.
pub const FORMAT: &str = "pointbook-store";
/// The layout version this build writes and reads.
pub const VERSION: i64 = 1;

const CREATE: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE journal (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, event TEXT NOT NULL);
CREATE TABLE rejected (
    n INTEGER PRIMARY KEY,
    after_seq INTEGER NOT NULL,
    key BLOB NOT NULL UNIQUE,
    text TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE TABLE snapshots (
    seq INTEGER PRIMARY KEY,
    length INTEGER NOT NULL,
    parts INTEGER NOT NULL
);
CREATE TABLE snapshot_parts (
    seq INTEGER NOT NULL,
    part INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (seq, part)
);
";

/// The most bytes of a snapshot in one row of `snapshot_parts`.
pub const PART: usize = 64 << 20;

/// What `meta` says of the store.
pub struct Meta {
    /// The program's canonical JSON.
    pub program: String,
    /// Its fingerprint.
    pub fingerprint: String,
}

/// Whether the file has any table yet (a new or empty file does not).
pub fn is_empty(conn: &Connection) -> Result<bool> {
    let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
    Ok(tables == 0)
}

/// Creates the tables in an empty file and writes `meta`, in one transaction.
pub fn create(conn: &mut Connection, program_json: &str, fingerprint: &str) -> Result<()> {
    let tx = conn.transaction()?;
    tx.execute_batch(CREATE)?;
    let version = VERSION.to_string();
    for (key, value) in [
        ("format", FORMAT),
        ("version", version.as_str()),
        ("program", program_json),
        ("program_fingerprint", fingerprint),
    ] {
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)",
            (key, value),
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Reads `meta`, checking that the file is a store of a version this build reads.
pub fn meta(conn: &Connection, path: &Path) -> Result<Meta> {
    let not_a_store = |message: String| StoreError::NotAStore {
        path: path.to_owned(),
        message,
    };
    let get = |key: &str| -> Result<Option<String>> {
        let has_meta: i64 = conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
            [],
            |r| r.get(0),
        )?;
        if has_meta == 0 {
            return Ok(None);
        }
        Ok(conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    };
    if is_empty(conn)? {
        return Err(not_a_store(
            "it is empty (a store is created by its first writer, Store::open)".into(),
        ));
    }
    if get("format")?.as_deref() != Some(FORMAT) {
        return Err(not_a_store(
            "it has tables but no Pointbook format mark".into(),
        ));
    }
    let version = get("version")?.unwrap_or_default();
    if version != VERSION.to_string() {
        return Err(not_a_store(format!(
            "layout version {version:?} (this build reads {VERSION})"
        )));
    }
    match (get("program")?, get("program_fingerprint")?) {
        (Some(program), Some(fingerprint)) => Ok(Meta {
            program,
            fingerprint,
        }),
        _ => Err(not_a_store("its program is missing".into())),
    }
}

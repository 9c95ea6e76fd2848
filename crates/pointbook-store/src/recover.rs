//! Rebuilding the book from the file: the newest snapshot that reads back, then every
//! journal entry after it, each of which must be accepted again exactly as it was.

use crate::error::{Result, StoreError};
use pointbook::{Book, Event, Program};
use rusqlite::Connection;
use sha2::{Digest, Sha256};

/// How a book was rebuilt.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// The journal entry the snapshot used was taken at (0: none; the whole journal replayed).
    pub snapshot_seq: i64,
    /// Journal entries applied after it.
    pub replayed: u64,
    /// The last journal entry.
    pub seq: i64,
    /// Snapshots passed over as unreadable, newest first: (journal entry, why).
    pub damaged: Vec<(i64, String)>,
}

/// The book the store at `conn` holds under `program`.
pub fn load(conn: &Connection, program: Program) -> Result<(Book, Recovery)> {
    let mut recovery = Recovery::default();
    let mut book = None;
    {
        let mut snapshots =
            conn.prepare("SELECT seq, checksum, bytes FROM snapshots ORDER BY seq DESC")?;
        let mut rows = snapshots.query([])?;
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            let (checksum, bytes) = match (row.get::<_, Vec<u8>>(1), row.get::<_, Vec<u8>>(2)) {
                (Ok(checksum), Ok(bytes)) => (checksum, bytes),
                (Err(e), _) | (_, Err(e)) => {
                    recovery
                        .damaged
                        .push((seq, format!("the row is unreadable: {e}")));
                    continue;
                }
            };
            if Sha256::digest(&bytes).as_slice() != checksum.as_slice() {
                recovery
                    .damaged
                    .push((seq, "the bytes do not match their checksum".into()));
                continue;
            }
            match Book::restore(program.clone(), &bytes) {
                Ok(restored) => {
                    recovery.snapshot_seq = seq;
                    book = Some(restored);
                    break;
                }
                Err(e) => recovery.damaged.push((seq, e.to_string())),
            }
        }
    }
    let mut book = book.unwrap_or_else(|| Book::new(program));
    let first: Option<i64> = conn.query_row("SELECT min(seq) FROM journal", [], |r| r.get(0))?;
    if let Some(first) = first {
        if first > recovery.snapshot_seq + 1 {
            return Err(StoreError::Damaged {
                message: format!(
                    "the journal starts at entry {first}, but no readable snapshot covers the \
                     entries before it ({})",
                    describe(&recovery.damaged)
                ),
            });
        }
    }
    recovery.seq = recovery.snapshot_seq;
    let mut entries = conn.prepare("SELECT seq, event FROM journal WHERE seq > ?1 ORDER BY seq")?;
    let mut rows = entries.query([recovery.snapshot_seq])?;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let text: String = row.get(1)?;
        let damaged = |why: String| StoreError::Damaged {
            message: format!("journal entry {seq}: {why}"),
        };
        if seq != recovery.seq + 1 {
            return Err(damaged(format!("entry {} is missing", recovery.seq + 1)));
        }
        let event = Event::from_json(&text).map_err(|e| damaged(e.to_string()))?;
        match book.apply(&event) {
            Ok(o) if !o.duplicate => {}
            Ok(_) => return Err(damaged("it was already applied".into())),
            Err(e) => return Err(damaged(format!("the engine now rejects it: {e}"))),
        }
        recovery.seq = seq;
        recovery.replayed += 1;
    }
    Ok((book, recovery))
}

fn describe(damaged: &[(i64, String)]) -> String {
    if damaged.is_empty() {
        return "there is none".into();
    }
    damaged
        .iter()
        .map(|(seq, why)| format!("snapshot at {seq}: {why}"))
        .collect::<Vec<_>>()
        .join("; ")
}

//! Rebuilding the book from the file: the newest snapshot that reads back, then every
//! journal entry after it, each of which must be accepted again exactly as it was.

use crate::error::{Result, StoreError};
use pointbook::{Book, Event, Program};
use rusqlite::Connection;

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
            conn.prepare("SELECT seq, length, parts FROM snapshots ORDER BY seq DESC")?;
        let mut rows = snapshots.query([])?;
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            let bytes = match read_snapshot(conn, row) {
                Ok(bytes) => bytes,
                Err(why) => {
                    recovery.damaged.push((seq, why));
                    continue;
                }
            };
            match Book::restore(&program, &bytes) {
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

/// A snapshot's bytes from its parts, checked against their count and length (`Book::restore`
/// checks the state against its own checksum); why not, if they cannot be read back whole.
fn read_snapshot(
    conn: &Connection,
    row: &rusqlite::Row<'_>,
) -> std::result::Result<Vec<u8>, String> {
    let unreadable = |e: rusqlite::Error| format!("the row is unreadable: {e}");
    let seq: i64 = row.get(0).map_err(unreadable)?;
    let length: i64 = row.get(1).map_err(unreadable)?;
    let parts: i64 = row.get(2).map_err(unreadable)?;
    let mut bytes = Vec::with_capacity(usize::try_from(length).unwrap_or(0));
    let mut read = conn
        .prepare_cached("SELECT part, bytes FROM snapshot_parts WHERE seq = ?1 ORDER BY part")
        .map_err(unreadable)?;
    let mut rows = read.query([seq]).map_err(unreadable)?;
    let mut next = 0;
    while let Some(part) = rows.next().map_err(unreadable)? {
        let number: i64 = part.get(0).map_err(unreadable)?;
        if number != next {
            return Err(format!("part {next} is missing"));
        }
        let chunk = part.get_ref(1).map_err(unreadable)?;
        let chunk = chunk
            .as_blob()
            .map_err(|e| format!("part {number} is not bytes: {e}"))?;
        bytes.extend_from_slice(chunk);
        next += 1;
    }
    if next != parts || bytes.len() as i64 != length {
        return Err(format!(
            "{next} parts and {} bytes where {parts} parts and {length} bytes were written",
            bytes.len()
        ));
    }
    Ok(bytes)
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

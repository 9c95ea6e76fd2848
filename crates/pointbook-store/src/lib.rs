//! A durable Pointbook book: every accepted event journalled in SQLite before it is
//! acknowledged, snapshots taken as it goes, and the book rebuilt from the newest readable
//! snapshot and the journal after it when the store is opened again, after a clean close or a
//! `kill -9` alike. The core stays pure; this crate owns all the I/O.
//!
//! ```
//! use pointbook::{Event, Program};
//! use pointbook_store::{Options, Store};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("till.pointbook");
//! let program = Program::from_toml(pointbook::samples::BEAN_AND_LEAF)?;
//! let enroll = Event::from_json(
//!     r#"{"type":"enroll","id":"e1","member":"m1","at":"2026-03-01T10:00:00Z"}"#,
//! )?;
//! {
//!     let mut store = Store::open(&path, program.clone(), Options::default())?;
//!     store.apply(&enroll)?; // durable once it returns
//! }
//! let mut store = Store::open(&path, program, Options::default())?;
//! assert!(store.book().balance(&"m1".into()).is_ok());
//! assert!(store.apply(&enroll)?.duplicate); // known across restarts
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The file's layout is in [`schema`] and `docs/store.md`.

mod error;
mod lock;
mod recover;
pub mod schema;

pub use error::{Result, StoreError};
pub use recover::Recovery;

use lock::WriterLock;
use pointbook::{Book, Event, Outcome, Program};
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// When a commit is on disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// Every commit is synced before it is acknowledged (`synchronous = FULL`): an
    /// acknowledged event survives a power cut.
    #[default]
    Full,
    /// Commits are synced at WAL checkpoints (`synchronous = NORMAL`): an acknowledged event
    /// survives the process dying, and the store stays consistent after a power cut, but the
    /// last commits before one may be lost.
    Normal,
}

/// How a store is kept.
#[derive(Clone, Debug)]
pub struct Options {
    /// When a commit is on disk.
    pub durability: Durability,
    /// A snapshot is taken once this many events have been journalled since the last one
    /// (0: only on [`Store::checkpoint`]).
    pub snapshot_every: u64,
    /// Snapshots kept (at least 1); older ones are deleted as new ones are taken. A second
    /// one lets the store open from it, with a longer replay, if the newest is damaged.
    pub keep_snapshots: u32,
    /// How long [`Store::open`] waits for another writer to close the store before it fails
    /// with [`StoreError::Locked`] (zero: it fails at once).
    pub wait: Duration,
    /// The most the file may grow to, in pages of 4 KiB (`None`: as far as the disk allows).
    /// A batch that would pass it fails with [`StoreError::Full`] and changes nothing.
    pub max_pages: Option<u32>,
    /// The most bytes of a snapshot in one row of `snapshot_parts` (SQLite refuses a value
    /// over 1 GB; at least 4 KiB); default [`schema::PART`].
    pub snapshot_part: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            durability: Durability::Full,
            snapshot_every: 100_000,
            keep_snapshots: 2,
            wait: Duration::ZERO,
            max_pages: None,
            snapshot_part: schema::PART,
        }
    }
}

/// A book kept in a SQLite file by its one writer.
pub struct Store {
    // Declared before the lock: the connection closes before the lock is let go.
    conn: Connection,
    book: Book,
    path: PathBuf,
    options: Options,
    /// The last journal entry applied to the book.
    seq: i64,
    /// The journal entry of the newest snapshot (0: none).
    snapshot_seq: i64,
    recovery: Recovery,
    /// Set when a failed batch could not be undone by reading the file again: the book may
    /// hold events that are not on disk, so every later call fails with this.
    broken: Option<String>,
    _lock: WriterLock,
}

/// An item of a batch ([`Store::apply_entries`]): an event, or a text that did not read as
/// one, with why.
#[derive(Clone, Copy, Debug)]
pub enum Entry<'a> {
    /// An event.
    Event(&'a Event),
    /// A text that is not an event: journalled as rejected with `error`.
    Unreadable {
        /// The text as given (for the operator).
        text: &'a str,
        /// Why it is not an event.
        error: &'a pointbook::Error,
    },
}

impl Store {
    /// Opens the store at `path` for writing, creating it under `program` if the file is
    /// missing or empty. The book is the newest readable snapshot with the journal after it
    /// applied ([`Store::recovery`] says which, and what was skipped). Fails with
    /// [`StoreError::ProgramMismatch`] if the store holds another program,
    /// [`StoreError::Locked`] if another writer has it open, [`StoreError::NotAStore`] if the
    /// file is something else.
    pub fn open(path: impl AsRef<Path>, program: Program, options: Options) -> Result<Store> {
        let path = path.as_ref().to_owned();
        let lock = WriterLock::take(&path, options.wait)?;
        let mut conn = connect(&path, true)?;
        let synchronous = match options.durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        conn.pragma_update(None, "synchronous", synchronous)?;
        set_max_pages(&conn, options.max_pages)?;
        if schema::is_empty(&conn).map_err(|e| at_path(e, &path))? {
            let json = serde_json::to_string(program.spec()).map_err(|e| StoreError::Io {
                message: format!("the program could not be written: {e}"),
            })?;
            schema::create(&mut conn, &json, program.fingerprint())?;
        }
        let meta = schema::meta(&conn, &path)?;
        if meta.fingerprint != program.fingerprint() {
            return Err(StoreError::ProgramMismatch {
                found: meta.fingerprint,
                expected: program.fingerprint().to_owned(),
            });
        }
        let (book, recovery) = recover::load(&conn, program)?;
        Ok(Store {
            conn,
            book,
            path,
            options,
            seq: recovery.seq,
            snapshot_seq: recovery.snapshot_seq,
            recovery,
            broken: None,
            _lock: lock,
        })
    }

    /// Changes the most the file may grow to ([`Options::max_pages`]).
    pub fn set_max_pages(&mut self, pages: Option<u32>) -> Result<()> {
        set_max_pages(&self.conn, pages)?;
        self.options.max_pages = pages;
        Ok(())
    }

    /// The book as of the last committed event.
    pub fn book(&self) -> &Book {
        &self.book
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How the book was rebuilt when the store was opened.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// The number of the last journal entry (events accepted over the store's life).
    pub fn journal_seq(&self) -> i64 {
        self.seq
    }

    /// Applies one event and journals it in its own transaction; returns once it is on disk.
    /// A rejected event is journalled as rejected and returned as [`StoreError::Rejected`];
    /// an event already applied returns its outcome marked `duplicate` (docs/semantics.md §9), also
    /// across restarts. Any other error changes nothing.
    pub fn apply(&mut self, event: &Event) -> Result<Outcome> {
        let mut results = self.apply_entries(&[Entry::Event(event)])?;
        match results.pop() {
            Some(Ok(outcome)) => Ok(outcome),
            Some(Err(e)) => Err(StoreError::Rejected(e)),
            None => Err(StoreError::Damaged {
                message: "a batch of one gave no result".into(),
            }),
        }
    }

    /// Applies events in order and journals them in one transaction (group commit): each
    /// event's result, in order, once all are on disk. If the transaction fails, none of them
    /// is applied or journalled.
    pub fn apply_batch(&mut self, events: &[Event]) -> Result<Vec<pointbook::Result<Outcome>>> {
        let inputs: Vec<Entry<'_>> = events.iter().map(Entry::Event).collect();
        self.apply_entries(&inputs)
    }

    /// [`Store::apply_batch`] over JSON texts: a text that is not a valid event is rejected
    /// as the engine would reject it, and journalled as rejected with its text.
    pub fn apply_lines(&mut self, lines: &[&str]) -> Result<Vec<pointbook::Result<Outcome>>> {
        let parsed: Vec<pointbook::Result<Event>> =
            lines.iter().map(|l| Event::from_json(l)).collect();
        let inputs: Vec<Entry<'_>> = parsed
            .iter()
            .zip(lines)
            .map(|(p, text)| match p {
                Ok(e) => Entry::Event(e),
                Err(error) => Entry::Unreadable { text, error },
            })
            .collect();
        self.apply_entries(&inputs)
    }

    /// Takes a snapshot of the book now (unless the newest already covers every journal
    /// entry), deleting snapshots beyond [`Options::keep_snapshots`].
    pub fn checkpoint(&mut self) -> Result<()> {
        self.check_whole()?;
        if self.snapshot_seq == self.seq && self.seq > 0 {
            return Ok(());
        }
        let keep = i64::from(self.options.keep_snapshots.max(1));
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM snapshot_parts WHERE seq = ?1", [self.seq])?;
        // The parts are written as the book is: the store holds one at a time.
        let mut parts = 0_i64;
        let written = {
            let mut put = tx.prepare_cached(
                "INSERT INTO snapshot_parts (seq, part, bytes) VALUES (?1, ?2, ?3)",
            )?;
            self.book
                .snapshot_parts(self.options.snapshot_part, |i, part| {
                    parts += 1;
                    put.execute((self.seq, i as i64, part)).map(|_| ())
                })
                .map_err(StoreError::Engine)?
        };
        let length = written?;
        tx.execute(
            "INSERT OR REPLACE INTO snapshots (seq, length, parts) VALUES (?1, ?2, ?3)",
            (self.seq, length as i64, parts),
        )?;
        tx.execute(
            "DELETE FROM snapshots WHERE seq NOT IN \
             (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT ?1)",
            [keep],
        )?;
        tx.execute(
            "DELETE FROM snapshot_parts WHERE seq NOT IN (SELECT seq FROM snapshots)",
            [],
        )?;
        tx.commit()?;
        self.snapshot_seq = self.seq;
        Ok(())
    }

    /// Deletes the journal entries every kept snapshot already covers (up to the oldest kept
    /// snapshot, so that a damaged newest one can still be passed over). Returns how many.
    pub fn prune(&mut self) -> Result<usize> {
        let deleted = self.conn.execute(
            "DELETE FROM journal WHERE seq <= (SELECT coalesce(min(seq), 0) FROM snapshots)",
            [],
        )?;
        Ok(deleted)
    }

    /// [`Store::apply_batch`] over events and texts that did not read as events (a feed's
    /// lines as it read them). On any storage error the book is rebuilt from the file, so that
    /// it holds exactly what was committed.
    pub fn apply_entries(
        &mut self,
        inputs: &[Entry<'_>],
    ) -> Result<Vec<pointbook::Result<Outcome>>> {
        self.check_whole()?;
        if self.options.snapshot_every > 0
            && (self.seq - self.snapshot_seq) as u64 >= self.options.snapshot_every
        {
            self.checkpoint()?;
        }
        let results: Vec<pointbook::Result<Outcome>> = inputs
            .iter()
            .map(|input| match input {
                Entry::Event(e) => self.book.apply(e),
                Entry::Unreadable { error, .. } => Err((*error).clone()),
            })
            .collect();
        match self.journal(inputs, &results) {
            Ok(seq) => {
                self.seq = seq;
                Ok(results)
            }
            Err(e) => match recover::load(&self.conn, self.book.program().clone()) {
                Ok((book, recovery)) => {
                    self.book = book;
                    self.seq = recovery.seq;
                    Err(e)
                }
                Err(reload) => {
                    let why = format!("{e}; then reading the store again failed: {reload}");
                    self.broken = Some(why.clone());
                    Err(StoreError::Damaged { message: why })
                }
            },
        }
    }

    /// Fails if a batch left the book holding events that are not on disk.
    fn check_whole(&self) -> Result<()> {
        match &self.broken {
            None => Ok(()),
            Some(why) => Err(StoreError::Damaged {
                message: format!("the store must be opened again: {why}"),
            }),
        }
    }

    /// Writes a batch's accepted events to the journal and its rejections to `rejected`, in
    /// one transaction. Returns the new last journal entry.
    fn journal(
        &mut self,
        inputs: &[Entry<'_>],
        results: &[pointbook::Result<Outcome>],
    ) -> Result<i64> {
        let mut seq = self.seq;
        let tx = self.conn.transaction()?;
        {
            let mut journal =
                tx.prepare_cached("INSERT INTO journal (seq, id, event) VALUES (?1, ?2, ?3)")?;
            let mut rejected = tx.prepare_cached(
                "INSERT OR IGNORE INTO rejected (after_seq, key, text, code, message) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (input, result) in inputs.iter().zip(results) {
                match (input, result) {
                    (Entry::Event(e), Ok(o)) if !o.duplicate => {
                        seq += 1;
                        journal.execute((seq, e.id().as_str(), e.to_json()))?;
                    }
                    (_, Ok(_)) => {}
                    (input, Err(error)) => {
                        let text = match input {
                            Entry::Event(e) => e.to_json(),
                            Entry::Unreadable { text, .. } => (*text).to_owned(),
                        };
                        let key = Sha256::digest(text.as_bytes()).to_vec();
                        rejected.execute((seq, key, text, error.code(), error.to_string()))?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(seq)
    }
}

/// Reads the store at `path` as its last commit left it, without taking the writer's lock
/// (a writer may be at work): its program, and the book rebuilt from it.
pub fn read(path: impl AsRef<Path>) -> Result<(Book, Recovery)> {
    let path = path.as_ref();
    let conn = connect(path, false)?;
    let program = stored_program(&conn, path)?;
    recover::load(&conn, program)
}

/// The program of the store at `path` (read without the writer's lock).
pub fn read_program(path: impl AsRef<Path>) -> Result<Program> {
    let path = path.as_ref();
    stored_program(&connect(path, false)?, path)
}

/// Hands `each` every journalled event of the store at `path` in the order it was applied:
/// the history its book was built from, for analytics over it. Fails with
/// [`StoreError::Damaged`] if the journal was pruned (the history is no longer whole).
/// Returns how many events.
pub fn read_history(path: impl AsRef<Path>, each: &mut dyn FnMut(Event)) -> Result<u64> {
    let path = path.as_ref();
    let conn = connect(path, false)?;
    stored_program(&conn, path)?;
    let mut entries = conn.prepare("SELECT seq, event FROM journal ORDER BY seq")?;
    let mut rows = entries.query([])?;
    let mut read = 0;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let text: String = row.get(1)?;
        if seq != read + 1 {
            return Err(StoreError::Damaged {
                message: format!(
                    "the journal starts at entry {seq} (pruned): the whole history is not in it"
                ),
            });
        }
        let event = Event::from_json(&text).map_err(|e| StoreError::Damaged {
            message: format!("journal entry {seq}: {e}"),
        })?;
        each(event);
        read += 1;
    }
    // A journal pruned whole reads as empty: a snapshot past its end gives it away.
    let snapshot: Option<i64> =
        conn.query_row("SELECT max(seq) FROM snapshots", [], |r| r.get(0))?;
    if let Some(s) = snapshot.filter(|s| *s > read) {
        return Err(StoreError::Damaged {
            message: format!(
                "the journal ends at entry {read} but a snapshot holds {s}: it was pruned, and \
                 the whole history is not in it"
            ),
        });
    }
    Ok(read as u64)
}

/// The program `meta` holds, checked against its fingerprint.
fn stored_program(conn: &Connection, path: &Path) -> Result<Program> {
    let meta = schema::meta(conn, path).map_err(|e| at_path(e, path))?;
    let program = Program::from_json(&meta.program).map_err(StoreError::Engine)?;
    if program.fingerprint() != meta.fingerprint {
        return Err(StoreError::Damaged {
            message: "the program does not match its fingerprint".into(),
        });
    }
    Ok(program)
}

/// A connection to the store at `path` in WAL mode (creating the file if `create`).
fn connect(path: &Path, create: bool) -> Result<Connection> {
    use rusqlite::OpenFlags;
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    } else if !path.exists() {
        return Err(StoreError::NotAStore {
            path: path.to_owned(),
            message: "no such file".into(),
        });
    }
    let conn = Connection::open_with_flags(path, flags).map_err(|e| at_path(e.into(), path))?;
    // Readers wait for a writer's checkpoint rather than fail.
    conn.busy_timeout(Duration::from_secs(5))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(|e| at_path(e.into(), path))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Io {
            message: format!("the store could not be put in WAL mode (it is in {mode} mode)"),
        });
    }
    Ok(conn)
}

/// Sets SQLite's page limit (its largest, about 4 billion pages, for none).
fn set_max_pages(conn: &Connection, pages: Option<u32>) -> Result<()> {
    let pages = pages.unwrap_or(u32::MAX - 1);
    let _now: i64 = conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| {
        r.get(0)
    })?;
    Ok(())
}

/// Names the file in an error that SQLite gave without it.
fn at_path(e: StoreError, path: &Path) -> StoreError {
    match e {
        StoreError::NotAStore { message, .. } => StoreError::NotAStore {
            path: path.to_owned(),
            message,
        },
        StoreError::Locked { .. } => StoreError::Locked {
            path: path.to_owned(),
        },
        e => e,
    }
}

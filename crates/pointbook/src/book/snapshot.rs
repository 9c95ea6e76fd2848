//! Snapshots: the book as bytes (format, version, program fingerprint, state and its
//! checksum), read back only under the same program, only if the state matches its checksum
//! and only if every invariant holds; and the digest of the state.

use super::Book;
use crate::error::{Error, Result};
use crate::program::{hex, Program};
use crate::state::StateIn;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::convert::Infallible;

/// The snapshot format version this build writes. It reads this one and versions 1 to 3.
pub const SNAPSHOT_VERSION: u32 = 4;
const SNAPSHOT_FORMAT: &str = "pointbook-snapshot";

/// Hex digits of a SHA-256 checksum.
const CHECKSUM_LEN: usize = 64;

/// Version 2 adds `checksum`, the SHA-256 of the state's bytes as written (the book's
/// digest): a snapshot changed in any bit of its state, or of its checksum, is refused.
/// Version 3 writes the applied events as keys and the recent outcomes (`applied`, see
/// [`crate::applied`]) where 1 and 2 wrote every outcome (`events`). Version 4 is written as
/// 3 is, with the fingerprints of events' identity forms ([`crate::Event`]'s
/// `write_identity`) where 3 kept those of their canonical JSON; a book restored from an older
/// version keeps the fingerprints it had and still knows its resends.
///
/// A snapshot of any version, its state kept as the bytes it was written as.
#[derive(Deserialize)]
struct SnapshotIn<'a> {
    format: String,
    version: u32,
    program: String,
    #[serde(default)]
    checksum: Option<String>,
    #[serde(borrow)]
    state: &'a RawValue,
}

/// The book's state could not be written: one of its own records does not read back.
fn unwritable(e: serde_json::Error) -> Error {
    Error::Inconsistent {
        message: format!("the state cannot be written: {e}"),
    }
}

impl Book {
    /// The book as bytes: format, version, program fingerprint, the state and its checksum.
    /// Fails only if the book's own records cannot be read back ([`Error::Inconsistent`]).
    pub fn snapshot(&self) -> Result<Vec<u8>> {
        // One part, never cut: `emit` is not called.
        let written = self.write_parts(usize::MAX, |_, _| Ok::<(), Infallible>(()))?;
        match written {
            Ok((bytes, _)) => Ok(bytes),
            Err(never) => match never {},
        }
    }

    /// [`Book::snapshot`]'s bytes given to `emit` in parts of `part_size` bytes (at least
    /// 4 KiB), as they are written: parts 1, 2, ... in order, then part 0, whose envelope holds
    /// the checksum of all that follows it. So a caller storing a large book holds one part at
    /// a time, never the whole snapshot. Returns the snapshot's length, or the first error
    /// `emit` returned (nothing more is given after it). Fails as [`Book::snapshot`] does.
    pub fn snapshot_parts<E>(
        &self,
        part_size: usize,
        mut emit: impl FnMut(usize, &[u8]) -> std::result::Result<(), E>,
    ) -> Result<std::result::Result<u64, E>> {
        let written = self.write_parts(part_size.max(4096), &mut emit)?;
        Ok(written.and_then(|(first, length)| emit(0, &first).map(|()| length)))
    }

    /// The snapshot cut into parts of `size` bytes: parts 1, 2, ... given to `emit`, part 0
    /// (with its checksum) and the length returned.
    fn write_parts<E>(
        &self,
        size: usize,
        emit: impl FnMut(usize, &[u8]) -> std::result::Result<(), E>,
    ) -> Result<std::result::Result<(Vec<u8>, u64), E>> {
        // The bytes are those of `{"format","version","program","checksum","state"}` written by
        // serde_json: the envelope first, with a placeholder for the checksum that is filled in
        // once the state that follows it has been hashed.
        let mut head = Vec::new();
        head.extend_from_slice(b"{\"format\":");
        serde_json::to_writer(&mut head, SNAPSHOT_FORMAT).map_err(unwritable)?;
        head.extend_from_slice(format!(",\"version\":{SNAPSHOT_VERSION},\"program\":").as_bytes());
        serde_json::to_writer(&mut head, self.program.fingerprint()).map_err(unwritable)?;
        head.extend_from_slice(b",\"checksum\":\"");
        let checksum_at = head.len();
        head.extend_from_slice(&[b'0'; CHECKSUM_LEN]);
        head.extend_from_slice(b"\",\"state\":");
        let mut parts = Parts {
            size,
            state_at: head.len(),
            current: head,
            first: None,
            count: 0,
            length: 0,
            hasher: Sha256::new(),
            emit,
            failed: None,
        };
        let written = serde_json::to_writer(&mut parts, &self.written());
        if let Some(e) = parts.failed.take() {
            return Ok(Err(e));
        }
        written.map_err(unwritable)?;
        Ok(parts.end(checksum_at))
    }

    /// A book from a snapshot (version 4, or 1 to 3 as earlier builds wrote them) taken under
    /// the same program. A snapshot of version 2 or later must match its checksum; the restored
    /// state's values are checked against what the engine could have written, and the state
    /// against every invariant, before it is accepted. The program is borrowed, so the one
    /// that made the book can restore it: the restored book holds its own copy.
    pub fn restore(program: &Program, bytes: &[u8]) -> Result<Book> {
        let bad = |message: String| Error::InvalidSnapshot { message };
        let snapshot: SnapshotIn =
            serde_json::from_slice(bytes).map_err(|e| bad(format!("not a snapshot: {e}")))?;
        if snapshot.format != SNAPSHOT_FORMAT {
            return Err(bad(format!("unknown format \"{}\"", snapshot.format)));
        }
        match (snapshot.version, &snapshot.checksum) {
            (1, None) => {}
            (1, Some(_)) => return Err(bad("a version 1 snapshot has no checksum".into())),
            (2..=SNAPSHOT_VERSION, None) => return Err(bad("the checksum is missing".into())),
            (2..=SNAPSHOT_VERSION, Some(checksum)) => {
                if *checksum != hex(&Sha256::digest(snapshot.state.get().as_bytes())) {
                    return Err(bad("the state does not match its checksum".into()));
                }
            }
            (v, _) => {
                return Err(bad(format!(
                    "version {v} is not supported (this build reads 1 to {SNAPSHOT_VERSION})"
                )))
            }
        }
        if snapshot.program != program.fingerprint() {
            return Err(Error::ProgramMismatch {
                found: snapshot.program,
                expected: program.fingerprint().to_owned(),
            });
        }
        let state: StateIn = serde_json::from_str(snapshot.state.get())
            .map_err(|e| bad(format!("corrupt state: {e}")))?;
        let state = state
            .into_state(snapshot.version)
            .map_err(|e| bad(format!("corrupt state: {e}")))?;
        let book = Book {
            program: program.clone(),
            state,
        };
        book.check_values()
            .map_err(|e| bad(format!("impossible state: {e}")))?;
        book.check_invariants()
            .map_err(|e| bad(format!("inconsistent state: {e}")))?;
        Ok(book)
    }

    /// SHA-256 (hex) of the canonical encoding of the book's state: equal books, equal digests,
    /// on every platform. Fails as [`Book::snapshot`] does.
    pub fn digest(&self) -> Result<String> {
        // Hashed as it is written: the state is never held as bytes.
        let mut hashing = Hashing::new();
        serde_json::to_writer(&mut hashing, &self.written()).map_err(unwritable)?;
        Ok(hashing.finish())
    }

    /// The state as written, under this book's late tolerance.
    fn written(&self) -> impl Serialize + '_ {
        self.state.written(self.program.late_tolerance())
    }
}

/// A snapshot being cut into parts (see [`Book::snapshot_parts`]).
struct Parts<F, E> {
    size: usize,
    /// The part being filled.
    current: Vec<u8>,
    /// Part 0, kept until the checksum in its envelope is known.
    first: Option<Vec<u8>>,
    /// Parts filled so far.
    count: usize,
    length: u64,
    /// Hashes the state: every byte after the envelope's `"state":`, but the closing brace.
    hasher: Sha256,
    /// Where the state begins in part 0.
    state_at: usize,
    emit: F,
    /// What `emit` returned when it failed.
    failed: Option<E>,
}

impl<F: FnMut(usize, &[u8]) -> std::result::Result<(), E>, E> Parts<F, E> {
    /// Hashes the state in the current part and hands it over (part 0 is kept).
    fn cut(&mut self) -> std::result::Result<(), E> {
        let from = if self.count == 0 { self.state_at } else { 0 };
        self.hasher
            .update(self.current.get(from..).unwrap_or_default());
        self.length += self.current.len() as u64;
        let part = std::mem::take(&mut self.current);
        if self.count == 0 {
            self.first = Some(part);
        } else {
            (self.emit)(self.count, &part)?;
            self.current = part;
            self.current.clear();
        }
        self.count += 1;
        Ok(())
    }

    /// Closes the envelope and hands over the last part; returns part 0, its checksum filled
    /// in, and the snapshot's length.
    fn end(mut self, checksum_at: usize) -> std::result::Result<(Vec<u8>, u64), E> {
        // The closing brace belongs to the envelope, not the state.
        let last = self.current.len();
        self.current.push(b'}');
        self.length += self.current.len() as u64;
        let mut first = if self.count == 0 {
            // One part: the state runs from the envelope's head to the closing brace.
            self.hasher
                .update(self.current.get(self.state_at..last).unwrap_or_default());
            self.current
        } else {
            self.hasher
                .update(self.current.get(..last).unwrap_or_default());
            (self.emit)(self.count, &self.current)?;
            self.first.unwrap_or_default()
        };
        let checksum = hex(&self.hasher.finalize());
        if let Some(slot) = first.get_mut(checksum_at..checksum_at + CHECKSUM_LEN) {
            slot.copy_from_slice(checksum.as_bytes());
        }
        Ok((first, self.length))
    }
}

impl<F: FnMut(usize, &[u8]) -> std::result::Result<(), E>, E> std::io::Write for Parts<F, E> {
    // serde_json writes in pieces of a few bytes: the common case, room in the part, is kept
    // to one comparison and a copy.
    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if buf.len() < self.size - self.current.len() {
            self.current.extend_from_slice(buf);
            return Ok(());
        }
        let mut rest = buf;
        while !rest.is_empty() {
            let n = self.write(rest)?;
            rest = rest.get(n..).unwrap_or_default();
        }
        Ok(())
    }

    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = self.size - self.current.len();
        let n = buf.len().min(room);
        self.current
            .extend_from_slice(buf.get(..n).unwrap_or_default());
        if self.current.len() >= self.size {
            if let Err(e) = self.cut() {
                self.failed = Some(e);
                return Err(std::io::Error::other("the snapshot's reader stopped"));
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Bytes written to it are hashed, not kept: gathered in a small buffer first, because
/// serde_json writes in pieces of a few bytes and SHA-256 is fastest over whole blocks.
struct Hashing {
    hasher: Sha256,
    buffer: Vec<u8>,
}

/// Bytes gathered before they are hashed.
const HASHING_BUFFER: usize = 64 << 10;

impl Hashing {
    fn new() -> Hashing {
        Hashing {
            hasher: Sha256::new(),
            buffer: Vec::with_capacity(HASHING_BUFFER),
        }
    }

    fn finish(mut self) -> String {
        self.hasher.update(&self.buffer);
        hex(&self.hasher.finalize())
    }
}

impl std::io::Write for Hashing {
    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if buf.len() > HASHING_BUFFER - self.buffer.len() {
            self.hasher.update(&self.buffer);
            self.buffer.clear();
            if buf.len() >= HASHING_BUFFER {
                self.hasher.update(buf);
                return Ok(());
            }
        }
        self.buffer.extend_from_slice(buf);
        Ok(())
    }

    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

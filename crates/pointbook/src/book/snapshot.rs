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

/// The snapshot format version this build writes. It reads this one and versions 1 to 3.
pub const SNAPSHOT_VERSION: u32 = 4;
const SNAPSHOT_FORMAT: &str = "pointbook-snapshot";

/// Version 2 adds `checksum`, the SHA-256 of the state's bytes as written (the book's
/// digest): a snapshot changed in any bit of its state, or of its checksum, is refused.
/// Version 3 writes the applied events as keys and the recent outcomes (`applied`, see
/// [`crate::applied`]) where 1 and 2 wrote every outcome (`events`). Version 4 is written as
/// 3 is, with the fingerprints of events' identity forms ([`crate::Event`]'s
/// `write_identity`) where 3 kept those of their canonical JSON; a book restored from an older
/// version keeps the fingerprints it had and still knows its resends.
#[derive(Serialize)]
struct SnapshotOut<'a> {
    format: &'a str,
    version: u32,
    program: &'a str,
    checksum: &'a str,
    state: &'a RawValue,
}

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
        let state = serde_json::to_string(&self.written()).map_err(unwritable)?;
        let checksum = hex(&Sha256::digest(state.as_bytes()));
        let state = RawValue::from_string(state).map_err(unwritable)?;
        let out = SnapshotOut {
            format: SNAPSHOT_FORMAT,
            version: SNAPSHOT_VERSION,
            program: self.program.fingerprint(),
            checksum: &checksum,
            state: &state,
        };
        // Sized once: the state is nearly all of it, and a book's state runs to hundreds of
        // megabytes, where growing by doubling costs copies and page faults.
        let mut bytes = Vec::with_capacity(out.state.get().len() + 512);
        serde_json::to_writer(&mut bytes, &out).map_err(unwritable)?;
        Ok(bytes)
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
        let bytes = serde_json::to_vec(&self.written()).map_err(unwritable)?;
        Ok(hex(&Sha256::digest(&bytes)))
    }

    /// The state as written, under this book's late tolerance.
    fn written(&self) -> impl Serialize + '_ {
        self.state.written(self.program.late_tolerance())
    }
}

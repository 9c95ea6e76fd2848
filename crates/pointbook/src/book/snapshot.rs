//! Snapshots: the book as bytes (format, version, program fingerprint, state), read back only
//! under the same program and only if every invariant holds; and the digest of the state.

use super::Book;
use crate::error::{Error, Result};
use crate::program::{hex, Program};
use crate::state::State;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The snapshot format version this build writes and reads.
pub const SNAPSHOT_VERSION: u32 = 1;
const SNAPSHOT_FORMAT: &str = "pointbook-snapshot";

#[derive(Serialize)]
struct SnapshotOut<'a> {
    format: &'a str,
    version: u32,
    program: &'a str,
    state: &'a State,
}

#[derive(Deserialize)]
struct SnapshotHeader {
    format: String,
    version: u32,
    program: String,
}

#[derive(Deserialize)]
struct SnapshotIn {
    state: State,
}

/// The book's state could not be written: one of its own records does not read back.
fn unwritable(e: serde_json::Error) -> Error {
    Error::Inconsistent {
        message: format!("the state cannot be written: {e}"),
    }
}

impl Book {
    /// The book as bytes: format, version, program fingerprint and state. Fails only if the
    /// book's own records cannot be read back ([`Error::Inconsistent`]).
    pub fn snapshot(&self) -> Result<Vec<u8>> {
        let out = SnapshotOut {
            format: SNAPSHOT_FORMAT,
            version: SNAPSHOT_VERSION,
            program: self.program.fingerprint(),
            state: &self.state,
        };
        serde_json::to_vec(&out).map_err(unwritable)
    }

    /// A book from a snapshot taken under the same program. The restored state is checked
    /// against every invariant before it is accepted.
    pub fn restore(program: Program, bytes: &[u8]) -> Result<Book> {
        let bad = |message: String| Error::InvalidSnapshot { message };
        let header: SnapshotHeader =
            serde_json::from_slice(bytes).map_err(|e| bad(format!("not a snapshot: {e}")))?;
        if header.format != SNAPSHOT_FORMAT {
            return Err(bad(format!("unknown format \"{}\"", header.format)));
        }
        if header.version != SNAPSHOT_VERSION {
            return Err(bad(format!(
                "version {} is not supported (this build reads {SNAPSHOT_VERSION})",
                header.version
            )));
        }
        if header.program != program.fingerprint() {
            return Err(Error::ProgramMismatch {
                found: header.program,
                expected: program.fingerprint().to_owned(),
            });
        }
        let body: SnapshotIn =
            serde_json::from_slice(bytes).map_err(|e| bad(format!("corrupt state: {e}")))?;
        let book = Book {
            program,
            state: body.state,
        };
        book.check_invariants()
            .map_err(|e| bad(format!("inconsistent state: {e}")))?;
        Ok(book)
    }

    /// SHA-256 (hex) of the canonical encoding of the book's state: equal books, equal digests,
    /// on every platform. Fails as [`Book::snapshot`] does.
    pub fn digest(&self) -> Result<String> {
        let bytes = serde_json::to_vec(&self.state).map_err(unwritable)?;
        Ok(hex(&Sha256::digest(&bytes)))
    }
}

//! What can go wrong with a store, as a typed error. An event the engine rejects is not a
//! store failure: [`StoreError::Rejected`] carries the engine's error, and the rejection is
//! journalled. Every other error means the call changed nothing, in the file or in the book.

use std::path::PathBuf;

/// A store's error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The engine rejected the event (it is journalled as rejected; the book is unchanged).
    #[error("rejected: {0}")]
    Rejected(pointbook::Error),
    /// Another writer holds the store.
    #[error("{path} is held by another writer")]
    Locked {
        /// The store's file.
        path: PathBuf,
    },
    /// The file exists but is not a Pointbook store (or one of a format this build does not
    /// read).
    #[error("{path} is not a Pointbook store: {message}")]
    NotAStore {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The store was created under another program.
    #[error("the store holds program {found}, not {expected}")]
    ProgramMismatch {
        /// Fingerprint of the store's program.
        found: String,
        /// Fingerprint of the program given.
        expected: String,
    },
    /// The disk (or the store's page limit) is full. Nothing was written; the store works
    /// again once there is room.
    #[error("the disk is full: {message}")]
    Full {
        /// SQLite's words.
        message: String,
    },
    /// The file's contents contradict themselves (a journalled event the engine now rejects,
    /// a journal pruned past every readable snapshot).
    #[error("the store is damaged: {message}")]
    Damaged {
        /// What is wrong.
        message: String,
    },
    /// The engine failed on the store's own data (a program or snapshot it cannot read).
    #[error("{0}")]
    Engine(pointbook::Error),
    /// SQLite or the file system failed.
    #[error("storage error: {message}")]
    Io {
        /// What failed.
        message: String,
    },
}

impl StoreError {
    /// A stable, machine-readable code (`"locked"`), the same in every binding.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Rejected(e) | StoreError::Engine(e) => e.code(),
            StoreError::Locked { .. } => "store_locked",
            StoreError::NotAStore { .. } => "not_a_store",
            StoreError::ProgramMismatch { .. } => "program_mismatch",
            StoreError::Full { .. } => "store_full",
            StoreError::Damaged { .. } => "store_damaged",
            StoreError::Io { .. } => "store_io",
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => StoreError::Full {
                message: e.to_string(),
            },
            Some(ErrorCode::NotADatabase) => StoreError::NotAStore {
                path: PathBuf::new(),
                message: e.to_string(),
            },
            Some(ErrorCode::DatabaseCorrupt) => StoreError::Damaged {
                message: e.to_string(),
            },
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Locked {
                path: PathBuf::new(),
            },
            _ => StoreError::Io {
                message: e.to_string(),
            },
        }
    }
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        StoreError::Io {
            message: e.to_string(),
        }
    }
}

/// A store's result.
pub type Result<T> = std::result::Result<T, StoreError>;

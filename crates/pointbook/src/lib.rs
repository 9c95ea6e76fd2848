#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod analytics;
pub mod book;
pub mod calendar;
mod canonical;
mod earning;
mod engine;
pub mod error;
pub mod event;
pub mod ids;
mod instant;
pub mod ledger;
mod member;
pub mod money;
pub mod outcome;
pub mod parallel;
pub mod points;
pub mod program;
mod record;
mod reward;
mod state;
mod undo;

pub use book::Book;
pub use error::{Error, Result};
pub use event::Event;
pub use ids::{EventId, MemberId};
pub use ledger::Totals;
pub use outcome::{Account, Balance, Effect, ExplanationLine, Outcome, Posting, Progress};
pub use points::Points;
pub use program::Program;

/// An instant: UTC, RFC 3339 on the wire.
pub type Instant = chrono::DateTime<chrono::Utc>;

/// The project README's examples, compiled and run as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ProjectReadme;

/// Bundled sample programs.
pub mod samples {
    /// Bean & Leaf, the café program of SEMANTICS §11 (TOML).
    pub const BEAN_AND_LEAF: &str = include_str!("../samples/bean-and-leaf.toml");
}

#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod analytics;
mod applied;
mod bonus;
pub mod book;
pub mod calendar;
mod catch_up;
mod codec;
mod earning;
pub mod error;
pub mod event;
pub mod feed;
pub mod ids;
mod instant;
pub mod ledger;
mod lot;
mod map;
mod member;
mod membership;
pub mod money;
pub mod outcome;
pub mod parallel;
pub mod points;
mod pricing;
pub mod program;
mod purchase;
mod purchases;
mod record;
mod redeem;
mod refund;
mod reverse;
mod reward;
mod state;
mod tier;
mod transfer;
mod vec_map;

pub use book::Book;
pub use error::{Error, Result};
pub use event::Event;
pub use ids::{EventId, MemberId};
pub use instant::Instant;
pub use ledger::Totals;
pub use outcome::{Account, Balance, Effect, ExplanationLine, Outcome, Posting, Progress};
pub use points::Points;
pub use program::Program;

/// The project README's examples, compiled and run as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ProjectReadme;

/// Bundled sample programs.
pub mod samples {
    /// Bean & Leaf, the café program of docs/semantics.md §11 (TOML).
    pub const BEAN_AND_LEAF: &str = include_str!("../samples/bean-and-leaf.toml");
}

//! Lots (docs/semantics.md §4): the points of one credit with their own maturation and expiry, kept
//! in FIFO order: taken oldest-expiring first, paying a debt, emptied and dropped. A member's
//! lots are a [`Lots`], read directly and changed through [`LotsMut`], which logs every change
//! for undoing a rejected event. Crediting a lot and taking points back post to the ledger
//! ([`crate::ledger`]); maturation and expiry happen as a member is caught up
//! ([`crate::catch_up`]).

mod changes;
mod lots;

use crate::ids::EventId;
use crate::instant::Instant;
use crate::outcome::Reason;
use crate::program::{ExpiryPolicy, Program};
use serde::{Deserialize, Serialize};

pub(crate) use changes::{LotLog, LotsMut};

/// A member with this many lots keeps an index of them ([`Lots`]).
const SMALL: usize = 64;

pub(crate) use lots::Lots;

/// A lot: the points of one credit, with its own maturation and expiry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Lot {
    /// Creation order within the member (the last FIFO tie-break).
    pub seq: u64,
    /// The event that credited it.
    pub source: EventId,
    /// Why it was credited.
    pub origin: Reason,
    /// Points credited.
    pub points: i64,
    /// Points still in the lot and not held.
    pub remaining: i64,
    /// Points of the lot reserved by holds.
    pub held: i64,
    /// When earned.
    pub earned_at: Instant,
    /// When it becomes available.
    pub matures_at: Instant,
    /// Whether maturation has been posted (pending → available).
    pub matured: bool,
    /// When it expires; `None` for never (or the member-wide inactivity deadline).
    pub expires_at: Option<Instant>,
}

/// A lot's place in FIFO order: soonest expiry first (never last), then earliest earned, then
/// creation. It never changes, and no two lots of a member share it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct FifoKey {
    never: bool,
    expires_at: Option<Instant>,
    earned_at: Instant,
    seq: u64,
}

impl Lot {
    /// Its place in FIFO order.
    pub fn fifo_key(&self) -> FifoKey {
        FifoKey {
            never: self.expires_at.is_none(),
            expires_at: self.expires_at,
            earned_at: self.earned_at,
            seq: self.seq,
        }
    }

    /// Empty and not held: nothing can come back to it, and it is dropped when the event ends.
    pub fn is_spent(&self) -> bool {
        self.remaining == 0 && self.held == 0
    }
}

/// When a lot earned at `earned` expires under the program's policy (`None`: never, or the
/// member-wide inactivity deadline).
pub(crate) fn lot_expiry(p: &Program, earned: Instant) -> Option<Instant> {
    let cal = p.calendar();
    match &p.spec().expiry {
        ExpiryPolicy::Rolling { days } => Some(cal.days_after(earned, *days)),
        ExpiryPolicy::EndOfPeriod { period, after } => {
            let mut start = cal.period_start(*period, cal.date(earned))?;
            for _ in 0..=*after {
                start = cal.next_period_start(*period, start);
            }
            Some(cal.midnight(start))
        }
        ExpiryPolicy::Inactivity { .. } | ExpiryPolicy::Never => None,
    }
}

//! Lots (SEMANTICS §4): the points of one credit with their own maturation and expiry, kept
//! in FIFO order: taken oldest-expiring first, paying a debt, emptied and dropped. Crediting
//! a lot and taking points back post to the ledger ([`crate::ledger`]); maturation and expiry
//! happen as a member is caught up ([`crate::catch_up`]).

use crate::ids::EventId;
use crate::instant::Instant;
use crate::outcome::Reason;
use crate::program::{ExpiryPolicy, Program};
use serde::{Deserialize, Serialize};

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

impl Lot {
    /// The FIFO order: soonest expiry first (never last), then earliest earned, then creation.
    pub fn fifo_key(&self) -> (bool, Option<Instant>, Instant, u64) {
        (
            self.expires_at.is_none(),
            self.expires_at,
            self.earned_at,
            self.seq,
        )
    }
}

/// A member's open lots, in FIFO order. Read through `Deref`; changed only by
/// [`Member::insert_lot`] and [`Member::lots_mut`], which logs them for undoing first.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Lots(pub(crate) Vec<Lot>);

/// A copy has room for one more lot: copies are made to work on (a quote, a balance), and a
/// purchase adds a lot, which would otherwise move the whole copy into a new allocation.
impl Clone for Lots {
    fn clone(&self) -> Self {
        let mut lots = Vec::with_capacity(self.0.len() + 1);
        lots.extend_from_slice(&self.0);
        Lots(lots)
    }
}

impl std::ops::Deref for Lots {
    type Target = Vec<Lot>;
    fn deref(&self) -> &Vec<Lot> {
        &self.0
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

impl Lots {
    /// Inserts a new lot at its FIFO place. A new lot needs no undo copy: undoing the event
    /// removes it by its number ([`crate::member::Member::roll_back`]).
    pub fn insert(&mut self, lot: Lot) {
        let key = lot.fifo_key();
        let i = self.0.partition_point(|l| l.fifo_key() <= key);
        // Room for this lot only: a member's lots live as long as the book.
        self.0.reserve_exact(1);
        self.0.insert(i, lot);
    }

    /// A lot by its sequence number, for changing it.
    pub fn get_mut(&mut self, seq: u64) -> Option<&mut Lot> {
        self.0.iter_mut().find(|l| l.seq == seq)
    }

    /// The lots, for changing them in place (FIFO order is theirs to keep).
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, Lot> {
        self.0.iter_mut()
    }

    /// Points in matured lots, not held.
    pub fn available(&self) -> i64 {
        self.0
            .iter()
            .filter(|l| l.matured)
            .map(|l| l.remaining)
            .sum()
    }

    /// Whether a matured lot has points left.
    pub fn any_available(&self) -> bool {
        self.0.iter().any(|l| l.matured && l.remaining > 0)
    }

    /// Takes `points` from matured lots in FIFO order (the caller checked there are enough):
    /// the (lot, points) taken from each.
    pub fn take_fifo(&mut self, points: i64) -> Vec<(u64, i64)> {
        let mut parts = Vec::new();
        let mut todo = points;
        for l in self.0.iter_mut().filter(|l| l.matured && l.remaining > 0) {
            if todo == 0 {
                break;
            }
            let n = todo.min(l.remaining);
            l.remaining -= n;
            todo -= n;
            parts.push((l.seq, n));
        }
        parts
    }

    /// Pays `debt` from matured lots in FIFO order; returns what is left of it.
    pub fn pay(&mut self, debt: i64) -> i64 {
        let mut debt = debt;
        for l in self.0.iter_mut().filter(|l| l.matured && l.remaining > 0) {
            let n = debt.min(l.remaining);
            l.remaining -= n;
            debt -= n;
            if debt == 0 {
                break;
            }
        }
        debt
    }

    /// Whether a lot is empty and not held (nothing can come back to it).
    pub fn any_empty(&self) -> bool {
        self.0.iter().any(|l| l.remaining == 0 && l.held == 0)
    }

    /// Removes the lots that are empty and not held.
    pub fn drop_empty(&mut self) {
        self.0.retain(|l| l.remaining > 0 || l.held > 0);
        // Give the room back: a member's lots live as long as the book, and the room of the
        // lots that went was a quarter of all lots' memory (benches/RESULTS.md).
        self.0.shrink_to_fit();
    }

    /// Removes every lot (an erasure forfeits them).
    pub fn take_all(&mut self) -> Vec<Lot> {
        std::mem::take(&mut self.0)
    }
}

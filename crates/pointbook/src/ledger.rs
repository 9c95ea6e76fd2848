//! The one place that moves points: double-entry postings between accounts.

use crate::error::{Error, Result};
use crate::ids::EventId;
use crate::instant::Instant;
use crate::lot::{lot_expiry, Lot};
use crate::member::Member;
use crate::outcome::{Account, Effect, ExplanationLine, Posting, Reason};
use crate::points::Points;
use crate::program::{Program, Shortfall};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Program-wide accounts. `issued` and `forgiven` go negative: the sum of every account,
/// members' included, is always zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Totals {
    /// Minus every point ever credited, plus every point reversed.
    pub issued: i64,
    /// Points spent on rewards.
    pub redeemed: i64,
    /// Points that expired.
    pub expired: i64,
    /// Points of forgotten members.
    pub forfeited: i64,
    /// Minus the points written off.
    pub forgiven: i64,
}

/// An account relative to one member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Acc {
    Issued,
    Redeemed,
    Expired,
    Forfeited,
    Forgiven,
    Available,
    Pending,
    Held,
}

impl Acc {
    fn account(self, m: &Member) -> Account {
        match self {
            Acc::Issued => Account::Issued,
            Acc::Redeemed => Account::Redeemed,
            Acc::Expired => Account::Expired,
            Acc::Forfeited => Account::Forfeited,
            Acc::Forgiven => Account::Forgiven,
            Acc::Available => Account::Available(m.id.clone()),
            Acc::Pending => Account::Pending(m.id.clone()),
            Acc::Held => Account::Held(m.id.clone()),
        }
    }
}

/// The book-wide side of a transaction: totals, reward usage, and what the outcome reports.
/// Reward usage is the book's own until a redemption changes it (then a copy): most events
/// never touch it, and copying it per event cost an allocation per reward.
#[derive(Clone, Debug)]
pub(crate) struct Journal<'s> {
    pub event: EventId,
    pub totals: Totals,
    pub reward_usage: Cow<'s, BTreeMap<String, u64>>,
    pub postings: Vec<Posting>,
    pub effects: Vec<Effect>,
    pub explanation: Vec<ExplanationLine>,
    pub points: i64,
    /// Money a redemption takes off the order (docs/semantics.md §13).
    pub discount: Option<rust_decimal::Decimal>,
}

impl<'s> Journal<'s> {
    pub fn new(event: EventId, totals: Totals, reward_usage: &'s BTreeMap<String, u64>) -> Self {
        Journal {
            event,
            totals,
            reward_usage: Cow::Borrowed(reward_usage),
            postings: Vec::new(),
            effects: Vec::new(),
            explanation: Vec::new(),
            points: 0,
            discount: None,
        }
    }

    /// The id of the event being applied, for an error.
    pub fn event_name(&self) -> String {
        self.event.to_string()
    }

    /// An error for this event: its shape or its meaning is invalid.
    pub fn invalid(&self, message: &str) -> Error {
        Error::InvalidEvent {
            event: self.event_name(),
            message: message.to_owned(),
        }
    }

    /// Rejects this event, at `at`, when it is older than `clock` by more than the program's
    /// late tolerance (docs/semantics.md §9).
    pub fn check_late(&self, p: &Program, at: Instant, clock: Instant) -> Result<()> {
        if at < clock - p.late_tolerance() {
            return Err(Error::LateEvent {
                event: self.event_name(),
                at: at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                clock: clock.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            });
        }
        Ok(())
    }

    /// An overflow error for this event.
    pub fn overflow(&self) -> Error {
        Error::Overflow {
            event: self.event.to_string(),
        }
    }

    fn slot<'a>(totals: &'a mut Totals, m: &'a mut Member, acc: Acc) -> &'a mut i64 {
        match acc {
            Acc::Issued => &mut totals.issued,
            Acc::Redeemed => &mut totals.redeemed,
            Acc::Expired => &mut totals.expired,
            Acc::Forfeited => &mut totals.forfeited,
            Acc::Forgiven => &mut totals.forgiven,
            Acc::Available => &mut m.available,
            Acc::Pending => &mut m.pending,
            Acc::Held => &mut m.held,
        }
    }

    fn shift(&mut self, slot: &mut i64, by: i64) -> Result<()> {
        *slot = slot.checked_add(by).ok_or_else(|| self.overflow())?;
        Ok(())
    }

    /// Moves `points` from one account to another, both of or about member `m`.
    pub fn post(
        &mut self,
        m: &mut Member,
        at: Instant,
        from: Acc,
        to: Acc,
        points: i64,
        reason: Reason,
    ) -> Result<()> {
        if points == 0 {
            return Ok(());
        }
        let mut totals = self.totals;
        let neg = points.checked_neg().ok_or_else(|| self.overflow())?;
        let s = Self::slot(&mut totals, m, from);
        let v = s.checked_add(neg).ok_or_else(|| self.overflow())?;
        *s = v;
        let s = Self::slot(&mut totals, m, to);
        self.shift(s, points)?;
        self.totals = totals;
        self.postings.push(Posting {
            at,
            from: from.account(m),
            to: to.account(m),
            points: Points::new(points),
            reason,
        });
        Ok(())
    }

    /// Moves available points from one member to another.
    pub fn post_between(
        &mut self,
        from: &mut Member,
        to: &mut Member,
        at: Instant,
        points: i64,
    ) -> Result<()> {
        let neg = points.checked_neg().ok_or_else(|| self.overflow())?;
        self.shift(&mut from.available, neg)?;
        self.shift(&mut to.available, points)?;
        self.postings.push(Posting {
            at,
            from: Account::Available(from.id.clone()),
            to: Account::Available(to.id.clone()),
            points: Points::new(points),
            reason: Reason::Transfer,
        });
        Ok(())
    }

    /// Adds an explanation line.
    pub fn explain(
        &mut self,
        m: &Member,
        kind: &'static str,
        name: Option<String>,
        points: Decimal,
    ) {
        self.explanation.push(ExplanationLine {
            member: m.id.clone(),
            kind: Cow::Borrowed(kind),
            name,
            points,
        });
    }
}

/// What a credit creates: a lot of `points` credited by `source`.
pub(crate) struct Credit<'a> {
    pub points: i64,
    pub origin: Reason,
    pub source: &'a EventId,
    pub earned_at: Instant,
    /// A purchase's points: pending until the return window has passed.
    pub pending: bool,
}

/// A member's points moved through the ledger: credits that create lots, points taken back,
/// and a debt paid as points become available (docs/semantics.md §4, §5, §10).
impl Member {
    /// Creates a lot and posts its credit at `now`. Purchase lots (`pending`) mature after the
    /// return window; others are available at once. Returns the lot's sequence number.
    pub(crate) fn credit(
        &mut self,
        p: &Program,
        j: &mut Journal,
        now: Instant,
        credit: Credit,
    ) -> Result<u64> {
        let Credit {
            points,
            origin,
            source,
            earned_at,
            pending,
        } = credit;
        let matures_at = if pending {
            p.calendar().days_after(earned_at, p.spec().maturation.days)
        } else {
            earned_at
        };
        let matured = matures_at <= now;
        let seq = self.next_lot;
        self.next_lot += 1;
        self.lots_mut().insert(Lot {
            seq,
            source: source.clone(),
            origin,
            points,
            remaining: points,
            held: 0,
            earned_at,
            matures_at,
            matured,
            expires_at: lot_expiry(p, earned_at),
        });
        let to = if matured {
            Acc::Available
        } else {
            Acc::Pending
        };
        j.post(self, now, Acc::Issued, to, points, origin)?;
        if matured {
            self.settle_debt();
        }
        Ok(seq)
    }

    /// Takes points back to `issued`: from lot `own` first (pending or available), then
    /// available lots FIFO, then what is still missing as `shortfall` says: a debt or a
    /// write-off.
    pub(crate) fn take_back(
        &mut self,
        j: &mut Journal,
        now: Instant,
        points: i64,
        own: Option<u64>,
        reason: Reason,
        shortfall: Shortfall,
    ) -> Result<()> {
        let mut todo = points;
        if let Some((n, matured)) = own.and_then(|seq| self.lots_mut().take_from(seq, todo)) {
            todo -= n;
            let from = if matured {
                Acc::Available
            } else {
                Acc::Pending
            };
            j.post(self, now, from, Acc::Issued, n, reason)?;
        }
        let from_lots = todo.min(self.lots_available().max(0));
        if from_lots > 0 {
            self.lots_mut().take_fifo(from_lots);
        }
        j.post(self, now, Acc::Available, Acc::Issued, from_lots, reason)?;
        todo -= from_lots;
        if todo > 0 {
            if shortfall == Shortfall::AllowNegative {
                self.debt = self.debt.checked_add(todo).ok_or_else(|| j.overflow())?;
                j.post(self, now, Acc::Available, Acc::Issued, todo, reason)?;
                j.explain(self, "debt", None, Decimal::from(-todo));
            } else {
                j.post(self, now, Acc::Forgiven, Acc::Issued, todo, Reason::Forgive)?;
                j.explain(self, "forgive", None, Decimal::from(todo));
                j.effects.push(Effect::PointsForgiven {
                    member: self.id.clone(),
                    points: Points::new(todo),
                    at: now,
                });
            }
        }
        Ok(())
    }

    /// Points in matured lots: what the available account holds before the debt is taken
    /// off it (docs/semantics.md §10; checked against the lots in debug builds).
    fn lots_available(&self) -> i64 {
        let available = self.available.saturating_add(self.debt);
        debug_assert_eq!(available, self.lots.available(), "member {}", self.id);
        available
    }

    /// Points pay the debt first as they become available.
    pub(crate) fn settle_debt(&mut self) {
        if self.debt == 0 || self.lots_available() <= 0 {
            return;
        }
        let debt = self.debt;
        self.debt = self.lots_mut().pay(debt);
    }
}

//! The one place that moves points: double-entry postings between accounts.

use crate::error::{Error, Result};
use crate::ids::EventId;
use crate::member::Member;
use crate::outcome::{Account, Effect, ExplanationLine, Posting, Reason};
use crate::points::Points;
use crate::Instant;
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
        }
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

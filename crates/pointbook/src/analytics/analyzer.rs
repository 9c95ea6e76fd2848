//! The analyzer: replays events into a book of its own and accumulates, per period and per
//! member, what the outcomes say.

use super::rows::{EventCounts, Flows, Outstanding};
use super::{member_of, Options};
use crate::book::Book;
use crate::error::Result;
use crate::event::Event;
use crate::ids::MemberId;
use crate::instant::Instant;
use crate::outcome::{Account, Effect, Outcome, Posting};
use crate::program::Program;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};

#[derive(Clone, Debug, Default)]
pub(crate) struct PeriodAcc {
    pub(crate) flows: Flows,
    pub(crate) outstanding: Outstanding,
    pub(crate) enrolled: u64,
    pub(crate) forgotten: u64,
    pub(crate) tier_delta: Vec<i64>,
    pub(crate) tier_ups: u64,
    pub(crate) tier_downs: u64,
    pub(crate) purchases: u64,
    pub(crate) sales: Decimal,
    pub(crate) refunds: Decimal,
    pub(crate) discounts: Decimal,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct MemberAcc {
    pub(crate) enrolled_at: Option<Instant>,
    pub(crate) forgotten_at: Option<Instant>,
    pub(crate) tier: usize,
    pub(crate) purchases: Vec<Instant>,
    pub(crate) sales: Decimal,
    pub(crate) refunds: Decimal,
    pub(crate) points_issued: i64,
    pub(crate) points_redeemed: i64,
    pub(crate) outstanding: Outstanding,
    /// The latest instant of anything seen for the member (its clock, near enough).
    pub(crate) last_seen: Option<Instant>,
}

/// Replays events into a book of its own and accumulates the analytics.
#[derive(Clone, Debug)]
pub struct Analyzer {
    pub(crate) book: Book,
    pub(crate) options: Options,
    pub(crate) first: Option<Instant>,
    pub(crate) periods: BTreeMap<NaiveDate, PeriodAcc>,
    pub(crate) members: HashMap<MemberId, MemberAcc>,
    pub(crate) counts: EventCounts,
}

impl Analyzer {
    /// An analyzer with an empty book. Fails on options out of range.
    pub fn new(program: Program, options: Options) -> Result<Analyzer> {
        options.check()?;
        Ok(Analyzer {
            book: Book::new(program),
            options,
            first: None,
            periods: BTreeMap::new(),
            members: HashMap::new(),
            counts: EventCounts::default(),
        })
    }

    /// The book the events go into.
    pub fn book(&self) -> &Book {
        &self.book
    }

    /// Applies an event to the book and records what it did. Rejections are counted and
    /// returned; they change nothing.
    pub fn apply(&mut self, event: &Event) -> Result<Outcome> {
        let before = match event {
            Event::Refund(r) => self.book.purchase_amount(&r.member, &r.purchase),
            _ => None,
        };
        match self.book.apply(event) {
            Err(e) => {
                self.counts.rejected += 1;
                Err(e)
            }
            Ok(o) if o.duplicate => {
                self.counts.duplicates += 1;
                Ok(o)
            }
            Ok(o) => {
                self.counts.applied += 1;
                self.observe(event, &o, before);
                Ok(o)
            }
        }
    }

    /// Parses one JSON event and applies it; an unreadable event counts as rejected.
    pub fn apply_json(&mut self, json: &str) -> Result<Outcome> {
        self.apply_read(Event::from_json(json))
    }

    /// Applies an event as it was read: one that could not be read (a malformed line or row)
    /// counts as rejected.
    pub fn apply_read(&mut self, event: Result<Event>) -> Result<Outcome> {
        match event {
            Ok(e) => self.apply(&e),
            Err(e) => {
                self.counts.rejected += 1;
                Err(e)
            }
        }
    }

    /// Counts an event a binding could not even read (a malformed row) as rejected.
    pub fn count_unreadable(&mut self) {
        self.counts.rejected += 1;
    }

    pub(crate) fn key(&self, t: Instant) -> NaiveDate {
        let cal = self.book.program().calendar();
        let d = cal.date(t);
        cal.period_start(self.options.period, d).unwrap_or(d)
    }

    pub(crate) fn period(&mut self, t: Instant) -> &mut PeriodAcc {
        let levels = self.book.program().levels().len();
        let key = self.key(t);
        let p = self.periods.entry(key).or_default();
        if p.tier_delta.len() < levels {
            p.tier_delta.resize(levels, 0);
        }
        p
    }

    pub(crate) fn observe(
        &mut self,
        event: &Event,
        outcome: &Outcome,
        refundable_before: Option<Decimal>,
    ) {
        let at = event.at();
        self.first = Some(self.first.map_or(at, |f| f.min(at)));
        // A late forget closes the account now, not in the past: after everything already
        // counted for the member (its enrollment, its tier changes).
        let forgotten_at = match event {
            Event::Forget(e) => self
                .members
                .get(&e.member)
                .and_then(|m| m.last_seen)
                .map_or(at, |seen| seen.max(at)),
            _ => at,
        };
        for p in &outcome.postings {
            self.post(p);
        }
        // Money off orders, when the reward is issued: by a redeem at once or by a confirm.
        let issued = match event {
            Event::Redeem(r) => !r.hold,
            Event::Confirm(_) => true,
            _ => false,
        };
        if let (Some(d), true, false) = (outcome.discount, issued, outcome.duplicate) {
            let p = self.period(at);
            p.discounts = p.discounts.saturating_add(d);
        }
        for e in &outcome.effects {
            if let Effect::TierChanged { member, to, at, .. } = e {
                let to = self.book.program().level_index(to).unwrap_or(0);
                let from = self.members.get(member).map_or(0, |m| m.tier);
                let p = self.period(*at);
                if let (Some(f), Some(t)) = (p.tier_delta.get_mut(from), Some(to)) {
                    *f -= 1;
                    if let Some(t) = p.tier_delta.get_mut(t) {
                        *t += 1;
                    }
                }
                if to > from {
                    p.tier_ups += 1;
                } else {
                    p.tier_downs += 1;
                }
                let m = self.members.entry(member.clone()).or_default();
                m.tier = to;
                m.last_seen = Some(m.last_seen.map_or(*at, |s| s.max(*at)));
            }
        }
        match event {
            Event::Enroll(e) => {
                let p = self.period(at);
                p.enrolled += 1;
                if let Some(lowest) = p.tier_delta.first_mut() {
                    *lowest += 1;
                }
                let m = self.members.entry(e.member.clone()).or_default();
                m.enrolled_at = Some(at);
            }
            Event::Forget(e) => {
                let tier = self.members.get(&e.member).map_or(0, |m| m.tier);
                let p = self.period(forgotten_at);
                p.forgotten += 1;
                if let Some(t) = p.tier_delta.get_mut(tier) {
                    *t -= 1;
                }
                self.members
                    .entry(e.member.clone())
                    .or_default()
                    .forgotten_at = Some(forgotten_at);
            }
            Event::Purchase(e) => {
                let amount = e
                    .lines
                    .iter()
                    .fold(Decimal::ZERO, |s, l| s.saturating_add(l.amount));
                let p = self.period(at);
                p.purchases += 1;
                p.sales = p.sales.saturating_add(amount);
                let m = self.members.entry(e.member.clone()).or_default();
                m.purchases.push(at);
                m.sales = m.sales.saturating_add(amount);
            }
            Event::Refund(e) => {
                let after = self
                    .book
                    .purchase_amount(&e.member, &e.purchase)
                    .unwrap_or(Decimal::ZERO);
                let amount = refundable_before
                    .unwrap_or(Decimal::ZERO)
                    .saturating_sub(after)
                    .max(Decimal::ZERO);
                let p = self.period(at);
                p.refunds = p.refunds.saturating_add(amount);
                let m = self.members.entry(e.member.clone()).or_default();
                m.refunds = m.refunds.saturating_add(amount);
            }
            _ => {}
        }
        if let Some(id) = event.member() {
            if let Some(m) = self.members.get_mut(id) {
                m.last_seen = Some(m.last_seen.map_or(at, |s| s.max(at)));
            }
        }
    }

    pub(crate) fn post(&mut self, posting: &Posting) {
        let n = posting.points.get();
        let (from, to) = (&posting.from, &posting.to);
        let mut flows = Flows::default();
        let mut member_issued = 0i64;
        match (from, to) {
            (Account::Issued, t) if member_of(t).is_some() => {
                flows.issued = n;
                member_issued = n;
            }
            (f, Account::Issued) if member_of(f).is_some() => {
                flows.reversed = n;
                member_issued = -n;
            }
            (Account::Forgiven, Account::Issued) => flows.written_off = n,
            (Account::Forgiven, t) if member_of(t).is_some() => {
                flows.forgiven = n;
                member_issued = n;
            }
            (_, Account::Redeemed) => flows.redeemed = n,
            // A reversal gives spent points back: redeemed is net of it.
            (Account::Redeemed, _) => flows.redeemed = -n,
            (_, Account::Expired) => flows.expired = n,
            (_, Account::Forfeited) => flows.forfeited = n,
            _ => {}
        }
        let p = self.period(posting.at);
        p.flows.add(&flows);
        if let Some(s) = p.outstanding.slot(from) {
            *s = s.saturating_sub(n);
        }
        if let Some(s) = p.outstanding.slot(to) {
            *s = s.saturating_add(n);
        }
        for (account, sign) in [(from, -1i64), (to, 1i64)] {
            if let Some(id) = member_of(account) {
                let m = self.members.entry(id.clone()).or_default();
                if let Some(s) = m.outstanding.slot(account) {
                    *s = s.saturating_add(sign * n);
                }
            }
        }
        if let Some(id) = member_of(to).or_else(|| member_of(from)) {
            let m = self.members.entry(id.clone()).or_default();
            m.points_issued = m.points_issued.saturating_add(member_issued);
            m.points_redeemed = m.points_redeemed.saturating_add(flows.redeemed);
        }
    }
}

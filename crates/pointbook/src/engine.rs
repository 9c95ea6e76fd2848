//! Applying events: catch-up of a member to an instant, and one handler per event type.
//! A [`Txn`] changes the book's members in place, each touched member keeping an undo log
//! ([`crate::undo`]); the book writes the rest (purchase records, totals, reward usage, the
//! event's record) only on success, and a rejected event puts every member back, so it
//! changes nothing.

use crate::calendar::{add_days, day_number, same_day_in_year, Period};
use crate::earning::{self, Basket, Earn};
use crate::error::{Error, Result};
use crate::event::{
    Adjust, Enroll, Event, Forget, Line, Purchase, Redeem, Refund, Settle, Transfer,
};
use crate::ids::{EventId, MemberId};
use crate::ledger::{Acc, Journal, Totals};
use crate::member::{
    CapUse, Hold, Lot, Lots, Member, PurchaseRecord, Receipt, Redemption, RedemptionState,
    WindowEnd,
};
use crate::outcome::{BonusKind, Effect, Reason};
use crate::points::Points;
use crate::program::{Downgrade, ExpiryPolicy, Program, Shortfall, TierMetric, TierWindow};
use crate::state::{Map, Purchases, State};
use crate::undo::UndoLog;
use crate::{money, reward, Instant};
use chrono::{Datelike, Duration};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The members of a book as a transaction changes them: the book's own, in place, each member
/// the event touches keeping an undo log; or copies made as the event touches them (a quote,
/// which changes nothing). Unless committed, dropping it puts every member of the book back as
/// it was: after a rejected event, and after a panic while applying one (the bindings catch
/// panics and go on with the book).
pub(crate) struct Members<'a> {
    source: Source<'a>,
    /// Members touched in place, each with an open undo log.
    touched: Vec<MemberId>,
    /// Members the event enrolled in place.
    enrolled: Vec<MemberId>,
    committed: bool,
}

enum Source<'a> {
    Book(&'a mut Map<MemberId, Box<Member>>),
    /// A quote's: the book, read only, and copies of the members the event touched.
    #[allow(clippy::vec_box)] // boxed as the book holds them: a copy is a clone of the box
    Copies(&'a Map<MemberId, Box<Member>>, Vec<Box<Member>>),
}

impl<'a> Members<'a> {
    /// A book's members, to change in place.
    pub fn in_place(book: &'a mut Map<MemberId, Box<Member>>) -> Self {
        Members::of(Source::Book(book))
    }

    /// Copies of a book's members, made as an event touches them; the book does not change.
    pub fn copies(book: &'a Map<MemberId, Box<Member>>) -> Self {
        Members::of(Source::Copies(book, Vec::new()))
    }

    fn of(source: Source<'a>) -> Self {
        Members {
            source,
            touched: Vec::new(),
            enrolled: Vec::new(),
            committed: false,
        }
    }

    fn contains(&self, id: &MemberId) -> bool {
        match &self.source {
            Source::Book(book) => book.contains_key(id),
            Source::Copies(book, copies) => {
                copies.iter().any(|m| m.id == *id) || book.contains_key(id)
            }
        }
    }

    /// A member as it stands in the transaction.
    #[cfg(test)]
    pub fn get(&self, id: &MemberId) -> Option<&Member> {
        match &self.source {
            Source::Book(book) => book.get(id).map(|m| &**m),
            Source::Copies(book, copies) => copies
                .iter()
                .find(|m| m.id == *id)
                .or_else(|| book.get(id))
                .map(|m| &**m),
        }
    }

    /// A member, to change (in place, its undo log opened when the event first touches it).
    fn touch(&mut self, j: &Journal, id: &MemberId) -> Result<&mut Member> {
        let unknown = || Error::UnknownMember {
            event: ev(j),
            member: id.to_string(),
        };
        match &mut self.source {
            Source::Book(book) => {
                let m = book.get_mut(id).ok_or_else(unknown)?;
                if m.begin_undo() {
                    self.touched.push(id.clone());
                }
                Ok(m)
            }
            Source::Copies(book, copies) => {
                let i = match copies.iter().position(|m| m.id == *id) {
                    Some(i) => i,
                    None => {
                        copies.push(book.get(id).ok_or_else(unknown)?.clone());
                        copies.len() - 1
                    }
                };
                copies.get_mut(i).map(|m| &mut **m).ok_or_else(unknown)
            }
        }
    }

    /// Two different members at once (a transfer), both touched.
    fn touch_two(&mut self, j: &Journal, a: &MemberId, b: &MemberId) -> Result<[&mut Member; 2]> {
        if a == b {
            return Err(invalid(j, "a member cannot transfer to itself"));
        }
        self.touch(j, a)?;
        self.touch(j, b)?;
        let pair = match &mut self.source {
            Source::Book(book) => match book.get_disjoint_mut([a, b]) {
                [Some(x), Some(y)] => Some([&mut **x, &mut **y]),
                _ => None,
            },
            Source::Copies(_, copies) => {
                let mut found = copies.iter_mut().filter(|m| m.id == *a || m.id == *b);
                match (found.next(), found.next()) {
                    (Some(x), Some(y)) if x.id == *a => Some([&mut **x, &mut **y]),
                    (Some(y), Some(x)) => Some([&mut **x, &mut **y]),
                    _ => None,
                }
            }
        };
        pair.ok_or_else(|| Error::UnknownMember {
            event: ev(j),
            member: b.to_string(),
        })
    }

    /// Adds a member the event enrolls (removed again if the event is rejected).
    fn enroll(&mut self, j: &Journal, m: Box<Member>) -> Result<&mut Member> {
        if self.contains(&m.id) {
            return Err(Error::MemberExists {
                event: ev(j),
                member: m.id.to_string(),
            });
        }
        match &mut self.source {
            Source::Book(book) => {
                self.enrolled.push(m.id.clone());
                Ok(book.entry(m.id.clone()).or_insert(m))
            }
            Source::Copies(_, copies) => {
                let id = m.id.clone();
                copies.push(m);
                copies
                    .last_mut()
                    .map(|m| &mut **m)
                    .ok_or_else(|| Error::UnknownMember {
                        event: ev(j),
                        member: id.to_string(),
                    })
            }
        }
    }

    /// The members behind `at` with something due by then, in member order.
    fn due(&self, p: &Program, at: Instant) -> Vec<MemberId> {
        let behind = |m: &&Member| !m.closed && m.clock < at;
        let mut due: Vec<MemberId> = match &self.source {
            Source::Book(book) => book
                .values()
                .map(|m| &**m)
                .filter(behind)
                .filter(|m| next_due(p, m).is_some_and(|d| d <= at))
                .map(|m| m.id.clone())
                .collect(),
            Source::Copies(book, copies) => book
                .values()
                .map(|m| copies.iter().find(|c| c.id == m.id).unwrap_or(m))
                .map(|m| &**m)
                .filter(behind)
                .filter(|m| next_due(p, m).is_some_and(|d| d <= at))
                .map(|m| m.id.clone())
                .collect(),
        };
        due.sort_unstable();
        due
    }

    /// Moves the clock of every open member behind `at` to `at`: in place without an undo
    /// log, so only once nothing the event does can fail any more.
    fn move_clocks(&mut self, j: &Journal, at: Instant) -> Result<()> {
        let behind: Vec<MemberId> = match &mut self.source {
            Source::Book(book) => {
                for m in book.values_mut() {
                    if !m.closed && m.clock < at {
                        m.clock = at;
                    }
                }
                return Ok(());
            }
            Source::Copies(book, _) => book
                .values()
                .filter(|m| !m.closed && m.clock < at)
                .map(|m| m.id.clone())
                .collect(),
        };
        for id in &behind {
            let m = self.touch(j, id)?;
            m.clock = m.clock.max(at);
        }
        Ok(())
    }

    /// Keeps every change the event made: closes the undo logs.
    pub fn commit(mut self) {
        if let Source::Book(book) = &mut self.source {
            for id in std::mem::take(&mut self.touched) {
                if let Some(m) = book.get_mut(&id) {
                    m.commit();
                }
            }
        }
        self.committed = true;
    }
}

impl Drop for Members<'_> {
    fn drop(&mut self) {
        let Source::Book(book) = &mut self.source else {
            return;
        };
        if self.committed {
            return;
        }
        for id in self.enrolled.drain(..) {
            book.remove(&id);
        }
        for id in self.touched.drain(..) {
            if let Some(m) = book.get_mut(&id) {
                m.roll_back();
            }
        }
    }
}

/// A transaction: the members it changes, the journal, and the writes the book makes if the
/// event succeeds. An event touches one or two members and purchase records (an `advance`
/// many members, each once), so the writes are kept in short vectors: no tree or table to
/// allocate per event.
pub(crate) struct Txn<'a> {
    pub p: &'a Program,
    /// The book's members (a quote: copies of the ones it reads).
    pub book: Members<'a>,
    /// The book's purchase records, read only (this transaction's own are `purchases`).
    records: &'a Purchases,
    pub j: Journal<'a>,
    /// Purchase records written by the transaction, each key once.
    pub purchases: Vec<((MemberId, EventId), PurchaseRecord)>,
    /// Members whose purchase records all go (`forget`).
    pub erased: Vec<MemberId>,
    /// A quote: nothing will be committed, so no purchase record is written.
    quoting: bool,
}

/// What a committed transaction leaves for the book to write.
pub(crate) struct Done<'a> {
    pub j: Journal<'a>,
    pub purchases: Vec<((MemberId, EventId), PurchaseRecord)>,
    pub erased: Vec<MemberId>,
}

fn ev(j: &Journal) -> String {
    j.event.to_string()
}

impl<'a> Txn<'a> {
    /// A transaction of `event` that changes a book's members in place.
    pub fn in_place(p: &'a Program, state: &'a mut State, event: EventId) -> Self {
        let State {
            members,
            purchases,
            totals,
            reward_usage,
            ..
        } = state;
        Txn::of(
            p,
            Members::in_place(members),
            purchases,
            *totals,
            reward_usage,
            event,
        )
    }

    /// A transaction of `event` on copies of the members it touches: the book stays as it is
    /// (a quote).
    pub fn on_copies(p: &'a Program, state: &'a State, event: EventId) -> Self {
        Txn::of(
            p,
            Members::copies(&state.members),
            &state.purchases,
            state.totals,
            &state.reward_usage,
            event,
        )
    }

    fn of(
        p: &'a Program,
        book: Members<'a>,
        records: &'a Purchases,
        totals: Totals,
        reward_usage: &'a BTreeMap<String, u64>,
        event: EventId,
    ) -> Self {
        Txn {
            p,
            book,
            records,
            j: Journal::new(event, totals, reward_usage),
            purchases: Vec::new(),
            erased: Vec::new(),
            quoting: false,
        }
    }

    /// Keeps the changes to the members and hands over the rest for the book to write.
    pub fn commit(self) -> Done<'a> {
        let Txn {
            book,
            j,
            purchases,
            erased,
            ..
        } = self;
        book.commit();
        Done {
            j,
            purchases,
            erased,
        }
    }

    /// What a purchase would do, on copies of its members (a quote: nothing is committed).
    pub fn quote(&mut self, purchase: &Purchase) -> Result<()> {
        validate_head(&purchase.id, Some(&purchase.member), purchase.at)?;
        validate_basket(self.p, purchase)?;
        self.quoting = true;
        self.purchase(purchase)
    }

    /// Applies one event (already validated).
    pub fn run(&mut self, e: &Event, book_clock: Option<Instant>) -> Result<()> {
        validate_event(self.p, e)?;
        match e {
            Event::Enroll(e) => self.enroll(e, book_clock),
            Event::Purchase(e) => self.purchase(e),
            Event::Refund(e) => self.refund(e),
            Event::Redeem(e) => self.redeem(e),
            Event::Confirm(e) => self.settle(e, true),
            Event::Cancel(e) => self.settle(e, false),
            Event::Adjust(e) => self.adjust(e),
            Event::Transfer(e) => self.transfer(e),
            Event::Advance(e) => self.advance(e.at, book_clock),
            Event::Forget(e) => self.forget(e),
        }
    }

    fn enroll(&mut self, e: &Enroll, book_clock: Option<Instant>) -> Result<()> {
        if self.book.contains(&e.member) {
            return Err(Error::MemberExists {
                event: ev(&self.j),
                member: e.member.to_string(),
            });
        }
        if let Some(clock) = book_clock {
            check_late(self.p, &self.j, e.at, clock)?;
        }
        if let Some(r) = &e.referred_by {
            if *r == e.member {
                return Err(invalid(&self.j, "a member cannot refer itself"));
            }
            if !self.book.contains(r) {
                return Err(Error::UnknownMember {
                    event: ev(&self.j),
                    member: r.to_string(),
                });
            }
        }
        let p = self.p;
        let mut m = Box::new(Member {
            id: e.member.clone(),
            enrolled_at: e.at,
            clock: e.at,
            closed: false,
            birthday: e.birthday,
            referred_by: e.referred_by.clone(),
            referral_paid: false,
            first_purchase_done: false,
            attributes: e.attributes.clone(),
            available: 0,
            pending: 0,
            held: 0,
            debt: 0,
            lots: Lots::default(),
            next_lot: 0,
            holds: BTreeMap::new(),
            redemptions: BTreeMap::new(),
            tier: 0,
            tier_window: 0,
            tier_history: Vec::new(),
            metric: BTreeMap::new(),
            caps: BTreeMap::new(),
            next_birthday: None,
            last_activity: e.at,
            at_risk_window: None,
            window_end: WindowEnd::default(),
            undo: UndoLog::default(),
        });
        m.tier_window = window_key(p, &m, e.at);
        m.next_birthday = next_birthday(p, &m, e.at);
        let j = &mut self.j;
        let m = self.book.enroll(j, m)?;
        let signup = p.spec().bonuses.signup;
        bonus(p, j, m, e.at, signup, BonusKind::Signup, &e.id)?;
        j.points = signup;
        close(p, j, m)
    }

    fn purchase(&mut self, e: &Purchase) -> Result<()> {
        let p = self.p;
        let j = &mut self.j;
        let mut m = open(p, j, &mut self.book, &e.member, e.at)?;
        let now = m.clock;
        let tier = m.tier_at(e.at);
        let caps = &m.caps;
        let mut earn = compute_earn(p, j, &e.lines, e.channel.as_deref(), e.at, tier, &|rule| {
            let used = caps
                .get(&cap_key(p, rule, e.at))
                .copied()
                .unwrap_or_default();
            rule_cap(rule) - used
        })?;
        let mut cap_left = BTreeMap::new();
        for (rule, used) in &earn.cap_used {
            let key = cap_key(p, rule, e.at);
            let before = m.caps.get(&key).copied().unwrap_or_default();
            let cap = p
                .spec()
                .earning
                .rules
                .iter()
                .find(|r| &r.id == rule)
                .map(rule_cap)
                .unwrap_or_default();
            cap_left.insert(rule.clone(), cap - before);
            m.save_cap(&key);
            m.caps.insert(key, before + *used);
        }
        for c in std::mem::take(&mut earn.lines) {
            j.explain(m, c.kind, c.name, c.points);
        }
        let lot = if earn.points > 0 {
            let seq = credit(p, j, m, e.at, now, earn.points, Reason::Earn, &e.id, true)?;
            Some(seq)
        } else {
            None
        };
        j.points = earn.points;
        let visit = earn.eligible > Decimal::ZERO;
        let metric = match p.tier_metric() {
            TierMetric::PointsEarned => Decimal::from(earn.points),
            TierMetric::Spend => earn.eligible,
            TierMetric::Visits => Decimal::from(u8::from(visit)),
        };
        add_metric(p, j, m, e.at, metric)?;
        if !self.quoting {
            set_purchase(
                &mut self.purchases,
                (m.id.clone(), e.id.clone()),
                PurchaseRecord {
                    at: e.at,
                    tier,
                    receipt: Receipt::new(e.channel.as_deref(), &e.lines),
                    caps: CapUse::new(cap_left, std::mem::take(&mut earn.cap_used)),
                    credited: earn.points,
                    eligible: earn.eligible,
                    visit,
                    lot,
                },
            );
        }
        m.last_activity = m.last_activity.max(e.at);
        let bonuses = &p.spec().bonuses;
        if visit && !m.first_purchase_done {
            m.first_purchase_done = true;
            bonus(
                p,
                j,
                m,
                now,
                bonuses.first_purchase,
                BonusKind::FirstPurchase,
                &e.id,
            )?;
        }
        if let (Some(referral), Some(referrer)) = (&bonuses.referral, m.referred_by.clone()) {
            if !m.referral_paid && visit && earn.eligible >= referral.min_spend {
                m.referral_paid = true;
                bonus(p, j, m, now, referral.referee, BonusKind::Referee, &e.id)?;
                let r = self.book.touch(j, &referrer)?;
                if !r.closed {
                    let at = now.max(r.clock);
                    catch_up(p, j, r, at)?;
                    bonus(p, j, r, at, referral.referrer, BonusKind::Referrer, &e.id)?;
                }
                close_caught_up(r);
                m = self.book.touch(j, &e.member)?;
            }
        }
        upgrade_tier(p, j, m, now);
        close(p, j, m)
    }

    fn refund(&mut self, e: &Refund) -> Result<()> {
        let p = self.p;
        let j = &mut self.j;
        let m = open(p, j, &mut self.book, &e.member, e.at)?;
        let now = m.clock;
        let Some(rec) = purchase_record(
            self.records,
            &self.purchases,
            &self.erased,
            &m.id,
            &e.purchase,
        )?
        else {
            return Err(Error::UnknownPurchase {
                event: ev(j),
                purchase: e.purchase.to_string(),
            });
        };
        if e.at < rec.at {
            return Err(invalid(j, "a refund cannot precede its purchase"));
        }
        let (channel, bought) = rec.receipt.read().map_err(|err| Error::InvalidSnapshot {
            message: format!("purchase record of {}: {err}", e.purchase),
        })?;
        let lines = refund_lines(j, &bought, e)?;
        let left = rec.caps.left();
        let earn = compute_earn(p, j, &lines, channel, rec.at, rec.tier, &|rule| {
            left.get(&rule.id).copied().unwrap_or_default()
        })?;
        let reverse = (rec.credited - earn.points).max(0);
        for (rule, old) in rec.caps.used() {
            let new = earn.cap_used.get(rule).copied().unwrap_or_default();
            let key = cap_key(p, rule, rec.at);
            if m.caps.contains_key(&key) {
                m.save_cap(&key);
            }
            if let Some(used) = m.caps.get_mut(&key) {
                *used = (*used - (*old - new)).max(Decimal::ZERO);
            }
        }
        let visit = rec.visit && earn.eligible > Decimal::ZERO;
        let metric = match p.tier_metric() {
            TierMetric::PointsEarned => Decimal::from(reverse),
            TierMetric::Spend => rec.eligible - earn.eligible,
            TierMetric::Visits => Decimal::from(u8::from(rec.visit && !visit)),
        };
        add_metric(p, j, m, rec.at, -metric)?;
        j.explain(
            m,
            "reversal",
            Some(e.purchase.to_string()),
            Decimal::from(-reverse),
        );
        take_back(p, j, m, now, reverse, rec.lot, Reason::Reversal, false)?;
        j.points = -reverse;
        let receipt = Receipt::new(channel, &lines);
        let updated = PurchaseRecord {
            receipt,
            caps: rec.caps.with_used(earn.cap_used),
            credited: earn.points,
            eligible: earn.eligible,
            visit,
            ..rec
        };
        set_purchase(
            &mut self.purchases,
            (m.id.clone(), e.purchase.clone()),
            updated,
        );
        close(p, j, m)
    }

    fn redeem(&mut self, e: &Redeem) -> Result<()> {
        let p = self.p;
        let j = &mut self.j;
        let m = open(p, j, &mut self.book, &e.member, e.at)?;
        let now = m.clock;
        let Some(r) = p.reward(&e.reward) else {
            return Err(Error::UnknownReward {
                event: ev(j),
                reward: e.reward.clone(),
            });
        };
        let tier = m.tier_at(e.at);
        if let Some(min) = &r.min_tier {
            if p.level_index(min).is_some_and(|need| tier < need) {
                return Err(Error::TierTooLow {
                    event: ev(j),
                    reward: r.id.clone(),
                    required: min.clone(),
                    tier: level_name(p, tier),
                });
            }
        }
        if let Some(limit) = &r.limit {
            let cal = p.calendar();
            let key = |t: Instant| cal.period_start(limit.per, cal.date(t));
            let used = m
                .redemptions
                .values()
                .filter(|x| x.reward == r.id && x.state.counts() && key(x.at) == key(e.at))
                .count();
            if used >= limit.count as usize {
                return Err(Error::LimitReached {
                    event: ev(j),
                    reward: r.id.clone(),
                });
            }
        }
        let usage = j.reward_usage.get(&r.id).copied().unwrap_or(0);
        if r.stock.is_some_and(|s| usage >= s) {
            return Err(Error::OutOfStock {
                event: ev(j),
                reward: r.id.clone(),
            });
        }
        if m.available < r.cost {
            return Err(Error::InsufficientPoints {
                event: ev(j),
                member: m.id.to_string(),
                available: m.available,
                needed: r.cost,
            });
        }
        let parts = take_fifo(m, r.cost);
        j.reward_usage.to_mut().insert(r.id.clone(), usage + 1);
        j.points = -r.cost;
        m.last_activity = m.last_activity.max(e.at);
        if e.hold {
            for (seq, n) in &parts {
                if let Some(l) = m.lot_mut(*seq) {
                    l.held += n;
                }
            }
            j.post(m, now, Acc::Available, Acc::Held, r.cost, Reason::Hold)?;
            j.explain(m, "hold", Some(r.id.clone()), Decimal::from(-r.cost));
            let minutes = Duration::minutes(i64::from(r.hold_minutes));
            m.save_holds();
            m.holds.insert(
                e.id.clone(),
                Hold {
                    reward: r.id.clone(),
                    points: r.cost,
                    expires_at: now + minutes,
                    parts,
                },
            );
        } else {
            j.post(
                m,
                now,
                Acc::Available,
                Acc::Redeemed,
                r.cost,
                Reason::Redeem,
            )?;
            j.explain(m, "redeem", Some(r.id.clone()), Decimal::from(-r.cost));
            issue(p, j, m, &r.id, &e.id, now);
        }
        let state = if e.hold {
            RedemptionState::Held
        } else {
            RedemptionState::Issued
        };
        m.save_redemptions();
        m.redemptions.insert(
            e.id.clone(),
            Redemption {
                reward: r.id.clone(),
                at: e.at,
                state,
            },
        );
        close(p, j, m)
    }

    fn settle(&mut self, e: &Settle, confirm: bool) -> Result<()> {
        let p = self.p;
        let j = &mut self.j;
        let m = open(p, j, &mut self.book, &e.member, e.at)?;
        let now = m.clock;
        let Some(red) = m.redemptions.get(&e.redemption).cloned() else {
            return Err(Error::UnknownRedemption {
                event: ev(j),
                redemption: e.redemption.to_string(),
            });
        };
        let Some(hold) = m.holds.get(&e.redemption).cloned() else {
            return Err(Error::HoldNotActive {
                event: ev(j),
                redemption: e.redemption.to_string(),
                state: red.state.name().to_owned(),
            });
        };
        m.save_holds();
        m.holds.remove(&e.redemption);
        if confirm {
            for (seq, n) in &hold.parts {
                if let Some(l) = m.lot_mut(*seq) {
                    l.held -= n;
                }
            }
            j.post(
                m,
                now,
                Acc::Held,
                Acc::Redeemed,
                hold.points,
                Reason::Redeem,
            )?;
            j.explain(m, "redeem", Some(red.reward.clone()), Decimal::ZERO);
            issue(p, j, m, &red.reward, &e.redemption, now);
            set_state(m, &e.redemption, RedemptionState::Issued);
        } else {
            release(j, m, &hold, now)?;
            j.points = hold.points;
            j.explain(
                m,
                "release",
                Some(red.reward.clone()),
                Decimal::from(hold.points),
            );
            set_state(m, &e.redemption, RedemptionState::Cancelled);
        }
        close(p, j, m)
    }

    fn adjust(&mut self, e: &Adjust) -> Result<()> {
        let p = self.p;
        let j = &mut self.j;
        let m = open(p, j, &mut self.book, &e.member, e.at)?;
        let now = m.clock;
        if e.points > 0 {
            credit(p, j, m, e.at, now, e.points, Reason::Adjust, &e.id, false)?;
        } else {
            let need = e.points.checked_neg().ok_or_else(|| j.overflow())?;
            if m.available < need && !e.allow_negative {
                return Err(Error::InsufficientPoints {
                    event: ev(j),
                    member: m.id.to_string(),
                    available: m.available,
                    needed: need,
                });
            }
            take_back(p, j, m, now, need, None, Reason::Adjust, true)?;
        }
        j.points = e.points;
        j.explain(m, "adjust", Some(e.reason.clone()), Decimal::from(e.points));
        close(p, j, m)
    }

    fn transfer(&mut self, e: &Transfer) -> Result<()> {
        let p = self.p;
        let j = &mut self.j;
        if !p.spec().transfers.allowed {
            return Err(Error::TransfersDisabled { event: ev(j) });
        }
        if e.to == e.member {
            return Err(invalid(j, "a member cannot transfer to itself"));
        }
        let from_clock = open(p, j, &mut self.book, &e.member, e.at)?.clock;
        let to_clock = open(p, j, &mut self.book, &e.to, e.at)?.clock;
        let now = from_clock.max(to_clock);
        let [from, to] = self.book.touch_two(j, &e.member, &e.to)?;
        catch_up(p, j, from, now)?;
        catch_up(p, j, to, now)?;
        if from.available < e.points {
            return Err(Error::InsufficientPoints {
                event: ev(j),
                member: from.id.to_string(),
                available: from.available,
                needed: e.points,
            });
        }
        let parts = take_fifo(from, e.points);
        for (seq, n) in parts {
            let expires_at = from
                .lots
                .iter()
                .find(|l| l.seq == seq)
                .and_then(|l| l.expires_at);
            let lot = Lot {
                seq: to.next_lot,
                source: e.id.clone(),
                origin: Reason::Transfer,
                points: n,
                remaining: n,
                held: 0,
                earned_at: now,
                matures_at: now,
                matured: true,
                expires_at,
            };
            to.next_lot += 1;
            to.insert_lot(lot);
        }
        j.post_between(from, to, now, e.points)?;
        j.points = -e.points;
        j.explain(
            from,
            "transfer",
            Some(e.to.to_string()),
            Decimal::from(-e.points),
        );
        j.explain(
            to,
            "transfer",
            Some(e.member.to_string()),
            Decimal::from(e.points),
        );
        settle_debt(to);
        close(p, j, from)?;
        close(p, j, to)
    }

    fn advance(&mut self, at: Instant, book_clock: Option<Instant>) -> Result<()> {
        let p = self.p;
        if let Some(clock) = book_clock {
            check_late(p, &self.j, at, clock)?;
        }
        // Members behind the instant with something due by then are brought up to date, in
        // member order (postings and effects are written in that order).
        let due = self.book.due(p, at);
        self.book.touched.reserve(due.len());
        let j = &mut self.j;
        for id in &due {
            let m = self.book.touch(j, id)?;
            catch_up(p, j, m, at)?;
            // Caught up to `at`, its clock: `close` would find nothing more due.
            close_caught_up(m);
        }
        // The others only have their clocks moved, in place and without an undo log: nothing
        // can fail after this, and the event is committed once this returns.
        self.book.move_clocks(j, at)
    }

    fn forget(&mut self, e: &Forget) -> Result<()> {
        let j = &mut self.j;
        let m = open(self.p, j, &mut self.book, &e.member, e.at)?;
        let now = m.clock;
        m.save_holds();
        let holds = std::mem::take(&mut m.holds);
        let mut total = 0i64;
        for (id, hold) in holds {
            j.post(
                m,
                now,
                Acc::Held,
                Acc::Forfeited,
                hold.points,
                Reason::Forfeit,
            )?;
            total += hold.points;
            set_state(m, &id, RedemptionState::Forfeited);
            if let Some(u) = j.reward_usage.to_mut().get_mut(&hold.reward) {
                *u = u.saturating_sub(1);
            }
        }
        for l in std::mem::take(m.lots_mut()) {
            let from = if l.matured {
                Acc::Available
            } else {
                Acc::Pending
            };
            j.post(m, now, from, Acc::Forfeited, l.remaining, Reason::Forfeit)?;
            total += l.remaining;
        }
        if m.debt > 0 {
            let debt = m.debt;
            j.post(m, now, Acc::Forgiven, Acc::Available, debt, Reason::Forgive)?;
            j.effects.push(Effect::PointsForgiven {
                member: m.id.clone(),
                points: Points::new(debt),
                at: now,
            });
            m.debt = 0;
        }
        j.effects.push(Effect::PointsForfeited {
            member: m.id.clone(),
            points: Points::new(total),
            at: now,
        });
        j.points = -total;
        j.explain(m, "forfeit", None, Decimal::from(-total));
        m.closed = true;
        m.save_personal();
        m.birthday = None;
        m.next_birthday = None;
        m.referred_by = None;
        m.attributes.clear();
        // Every purchase record of the member goes (written by this transaction or not).
        self.purchases.retain(|((owner, _), _)| *owner != m.id);
        self.erased.push(m.id.clone());
        m.clear_caps();
        m.retain_metric(|_| false);
        Ok(())
    }
}

/// Touches an open member and brings it up to `at`, rejecting late or closed ones.
fn open<'m>(
    p: &Program,
    j: &mut Journal,
    book: &'m mut Members,
    id: &MemberId,
    at: Instant,
) -> Result<&'m mut Member> {
    let m = book.touch(j, id)?;
    if m.closed {
        return Err(Error::MemberClosed {
            event: ev(j),
            member: id.to_string(),
        });
    }
    check_late(p, j, at, m.clock)?;
    catch_up(p, j, m, at)?;
    Ok(m)
}

/// Finishes with a member: anything now due happens, then its emptied lots go.
fn close(p: &Program, j: &mut Journal, m: &mut Member) -> Result<()> {
    let clock = m.clock;
    catch_up(p, j, m, clock)?;
    close_caught_up(m);
    Ok(())
}

/// Finishes with a member that has nothing due at its clock: its emptied lots go.
fn close_caught_up(m: &mut Member) {
    if m.lots.iter().any(|l| l.remaining == 0 && l.held == 0) {
        m.lots_mut().retain(|l| l.remaining > 0 || l.held > 0);
    }
}

/// A purchase record: as this transaction wrote it, or as the book holds it (none for an
/// erased member).
fn purchase_record(
    records: &Purchases,
    written: &[((MemberId, EventId), PurchaseRecord)],
    erased: &[MemberId],
    member: &MemberId,
    id: &EventId,
) -> Result<Option<PurchaseRecord>> {
    if erased.contains(member) {
        return Ok(None);
    }
    match written.iter().find(|((m, p), _)| m == member && p == id) {
        Some((_, r)) => Ok(Some(r.clone())),
        None => records
            .get(member, id)
            .transpose()
            .map_err(|err| Error::InvalidSnapshot {
                message: format!("purchase record of {id}: {err}"),
            }),
    }
}

/// Writes a purchase record.
fn set_purchase(
    written: &mut Vec<((MemberId, EventId), PurchaseRecord)>,
    key: (MemberId, EventId),
    record: PurchaseRecord,
) {
    match written.iter_mut().find(|(k, _)| *k == key) {
        Some((_, r)) => *r = record,
        None => written.push((key, record)),
    }
}

fn invalid(j: &Journal, message: &str) -> Error {
    Error::InvalidEvent {
        event: ev(j),
        message: message.to_owned(),
    }
}

fn level_name(p: &Program, i: usize) -> String {
    p.levels().get(i).map(|l| l.id.clone()).unwrap_or_default()
}

fn set_state(m: &mut Member, id: &EventId, state: RedemptionState) {
    m.save_redemptions();
    if let Some(r) = m.redemptions.get_mut(id) {
        r.state = state;
    }
}

fn issue(
    p: &Program,
    j: &mut Journal,
    m: &Member,
    reward: &str,
    redemption: &EventId,
    at: Instant,
) {
    let secret = p.spec().voucher_secret.as_deref().unwrap_or("");
    j.effects.push(Effect::RewardIssued {
        member: m.id.clone(),
        reward: reward.to_owned(),
        redemption: redemption.clone(),
        code: reward::voucher_code(secret, redemption.as_str()),
        at,
    });
}

/// Rejects an event older than `clock` by more than the late tolerance.
fn check_late(p: &Program, j: &Journal, at: Instant, clock: Instant) -> Result<()> {
    let tolerance = Duration::days(i64::from(p.spec().late_tolerance_days));
    if at < clock - tolerance {
        return Err(Error::LateEvent {
            event: ev(j),
            at: at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            clock: clock.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        });
    }
    Ok(())
}

/// Checks an event's shape against the program: amounts, quantities, ids, instants.
pub(crate) fn validate_event(p: &Program, e: &Event) -> Result<()> {
    let bad = |message: String| Error::InvalidEvent {
        event: e.id().to_string(),
        message,
    };
    validate_head(e.id(), e.member(), e.at())?;
    match e {
        Event::Purchase(x) => validate_basket(p, x)?,
        Event::Refund(x) => {
            if x.lines.is_empty() {
                return Err(bad("a refund needs at least one line".into()));
            }
            for (i, l) in x.lines.iter().enumerate() {
                if let Some(a) = l.amount {
                    check_line_amount(p, &x.id, i + 1, a)?;
                }
            }
        }
        Event::Adjust(x) if x.points == 0 => return Err(bad("an adjustment of 0 points".into())),
        Event::Transfer(x) if x.points <= 0 => {
            return Err(bad(format!("cannot transfer {} points", x.points)))
        }
        Event::Enroll(x) => {
            if let Some(b) = x.birthday {
                if b.year() < 1900 || b > e.at().date_naive() {
                    return Err(bad(format!("birthday {b} is not a plausible date")));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// What every event needs: an id, a member id if it names one, an instant in 1900–9999.
fn validate_head(id: &EventId, member: Option<&MemberId>, at: Instant) -> Result<()> {
    let bad = |message: String| Error::InvalidEvent {
        event: id.to_string(),
        message,
    };
    if id.as_str().is_empty() {
        return Err(bad("id must not be empty".into()));
    }
    if member.is_some_and(|m| m.as_str().is_empty()) {
        return Err(bad("member must not be empty".into()));
    }
    let year = at.year();
    if !(1900..=9999).contains(&year) {
        return Err(bad(format!(
            "instant in year {year} is outside 1900..=9999"
        )));
    }
    Ok(())
}

/// A purchase's lines: at least one, amounts valid in the currency, quantities at least 1.
fn validate_basket(p: &Program, x: &Purchase) -> Result<()> {
    if x.lines.is_empty() {
        return Err(Error::InvalidEvent {
            event: x.id.to_string(),
            message: "a purchase needs at least one line".into(),
        });
    }
    for (i, l) in x.lines.iter().enumerate() {
        check_line_amount(p, &x.id, i + 1, l.amount)?;
        if l.quantity == 0 {
            return Err(Error::InvalidEvent {
                event: x.id.to_string(),
                message: format!("line {}: quantity must be at least 1", i + 1),
            });
        }
    }
    Ok(())
}

/// A line's amount in the program's currency. The message is built only for a bad amount:
/// this runs for every line of every purchase.
fn check_line_amount(p: &Program, event: &EventId, line: usize, amount: Decimal) -> Result<()> {
    money::check_amount(amount, &p.spec().currency, p.minor_units()).map_err(|m| {
        Error::InvalidEvent {
            event: event.to_string(),
            message: format!("line {line}: {m}"),
        }
    })
}

fn compute_earn(
    p: &Program,
    j: &Journal,
    lines: &[Line],
    channel: Option<&str>,
    at: Instant,
    tier: usize,
    cap_left: &dyn Fn(&crate::program::RuleSpec) -> Decimal,
) -> Result<Earn> {
    let basket = Basket {
        lines,
        channel,
        at,
        tier,
    };
    earning::earn(p, &basket, cap_left).ok_or_else(|| j.overflow())
}

fn rule_cap(rule: &crate::program::RuleSpec) -> Decimal {
    rule.cap
        .as_ref()
        .map(|c| Decimal::from(c.points))
        .unwrap_or_default()
}

/// The cap usage key of a rule at an instant: `rule@period-start` or `rule@life`.
fn cap_key(p: &Program, rule: &impl RuleIdent, at: Instant) -> String {
    let (id, per) = rule.ident(p);
    let cal = p.calendar();
    match per.and_then(|per| cal.period_start(per, cal.date(at))) {
        Some(start) => format!("{id}@{start}"),
        None => format!("{id}@life"),
    }
}

trait RuleIdent {
    fn ident<'p>(&'p self, p: &'p Program) -> (&'p str, Option<Period>);
}

impl RuleIdent for crate::program::RuleSpec {
    fn ident<'p>(&'p self, _: &'p Program) -> (&'p str, Option<Period>) {
        (&self.id, self.cap.as_ref().map(|c| c.per))
    }
}

impl RuleIdent for String {
    fn ident<'p>(&'p self, p: &'p Program) -> (&'p str, Option<Period>) {
        let per = p
            .spec()
            .earning
            .rules
            .iter()
            .find(|r| &r.id == self)
            .and_then(|r| r.cap.as_ref().map(|c| c.per));
        (self, per)
    }
}

/// The remaining basket after a refund's lines.
fn refund_lines(j: &Journal, lines: &[Line], e: &Refund) -> Result<Vec<Line>> {
    let mut out = lines.to_vec();
    for (i, rl) in e.lines.iter().enumerate() {
        let exceeds = |message: String| Error::RefundExceedsPurchase {
            event: ev(j),
            message: format!("line {}: {message}", i + 1),
        };
        let left: Decimal = out
            .iter()
            .filter(|l| l.sku == rl.sku)
            .map(|l| l.amount)
            .sum();
        let units: u64 = out
            .iter()
            .filter(|l| l.sku == rl.sku)
            .map(|l| u64::from(l.quantity))
            .sum();
        if !out.iter().any(|l| l.sku == rl.sku) {
            return Err(exceeds(format!("the purchase has no line {}", rl.sku)));
        }
        let amount = rl.amount.unwrap_or(left);
        if amount > left {
            return Err(exceeds(format!(
                "refund of {amount} for {} exceeds the {left} left",
                rl.sku
            )));
        }
        let mut qty = match rl.quantity {
            Some(q) if u64::from(q) > units => {
                return Err(exceeds(format!(
                    "refund of {q} units of {} exceeds the {units} left",
                    rl.sku
                )))
            }
            Some(q) => q,
            None if amount == left => u32::try_from(units).unwrap_or(u32::MAX),
            None => 0,
        };
        let mut todo = amount;
        for l in out.iter_mut().filter(|l| l.sku == rl.sku) {
            let take = todo.min(l.amount);
            l.amount -= take;
            todo -= take;
            let q = qty.min(l.quantity);
            l.quantity -= q;
            qty -= q;
        }
    }
    out.retain(|l| l.quantity > 0 || !l.amount.is_zero());
    Ok(out)
}

/// Credits a bonus lot (available at once) with its effect and explanation.
fn bonus(
    p: &Program,
    j: &mut Journal,
    m: &mut Member,
    at: Instant,
    points: i64,
    kind: BonusKind,
    source: &EventId,
) -> Result<()> {
    if points <= 0 {
        return Ok(());
    }
    credit(
        p,
        j,
        m,
        at,
        at.max(m.clock),
        points,
        Reason::Bonus,
        source,
        false,
    )?;
    j.effects.push(Effect::BonusAwarded {
        member: m.id.clone(),
        bonus: kind,
        points: Points::new(points),
        at,
    });
    // The explanation covers what the event itself credits; a birthday is credited by the
    // clock passing it (catch-up), and its effect is its explanation.
    if kind != BonusKind::Birthday {
        j.explain(
            m,
            "bonus",
            Some(kind.name().to_owned()),
            Decimal::from(points),
        );
    }
    if p.spec().bonuses.qualifying && p.tier_metric() == TierMetric::PointsEarned {
        add_metric(p, j, m, at, Decimal::from(points))?;
        upgrade_tier(p, j, m, at.max(m.clock));
    }
    Ok(())
}

/// When a lot earned at `earned` expires under the program's policy (`None`: never, or the
/// member-wide inactivity deadline).
fn lot_expiry(p: &Program, earned: Instant) -> Option<Instant> {
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

/// Creates a lot and posts its credit. Purchase lots (`pending`) mature after the return
/// window; others are available at once. Returns the lot's sequence number.
#[allow(clippy::too_many_arguments)]
fn credit(
    p: &Program,
    j: &mut Journal,
    m: &mut Member,
    earned_at: Instant,
    now: Instant,
    points: i64,
    origin: Reason,
    source: &EventId,
    pending: bool,
) -> Result<u64> {
    let matures_at = if pending {
        p.calendar().days_after(earned_at, p.spec().maturation.days)
    } else {
        earned_at
    };
    let matured = matures_at <= now;
    let seq = m.next_lot;
    m.next_lot += 1;
    m.insert_lot(Lot {
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
    j.post(m, now, Acc::Issued, to, points, origin)?;
    if matured {
        settle_debt(m);
    }
    Ok(seq)
}

/// Takes `points` from available lots in FIFO order (the caller checked there are enough).
fn take_fifo(m: &mut Member, points: i64) -> Vec<(u64, i64)> {
    let mut parts = Vec::new();
    let mut todo = points;
    if todo == 0 {
        return parts;
    }
    for l in m
        .lots_mut()
        .iter_mut()
        .filter(|l| l.matured && l.remaining > 0)
    {
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

/// Points pay the debt first as they become available.
fn settle_debt(m: &mut Member) {
    if m.debt == 0 || !m.lots.iter().any(|l| l.matured && l.remaining > 0) {
        return;
    }
    let mut debt = m.debt;
    for l in m
        .lots_mut()
        .iter_mut()
        .filter(|l| l.matured && l.remaining > 0)
    {
        let n = debt.min(l.remaining);
        l.remaining -= n;
        debt -= n;
        if debt == 0 {
            break;
        }
    }
    m.debt = debt;
}

/// Takes points back to `issued`: from lot `own` first (pending or available), then
/// available lots FIFO, then a debt or a write-off (`force_debt`: always a debt).
#[allow(clippy::too_many_arguments)]
fn take_back(
    p: &Program,
    j: &mut Journal,
    m: &mut Member,
    now: Instant,
    points: i64,
    own: Option<u64>,
    reason: Reason,
    force_debt: bool,
) -> Result<()> {
    let mut todo = points;
    if let Some(l) = own.and_then(|seq| m.lot_mut(seq)) {
        let n = todo.min(l.remaining);
        l.remaining -= n;
        todo -= n;
        let from = if l.matured {
            Acc::Available
        } else {
            Acc::Pending
        };
        j.post(m, now, from, Acc::Issued, n, reason)?;
    }
    let from_lots = todo.min(m.lots_available().max(0));
    take_fifo(m, from_lots);
    j.post(m, now, Acc::Available, Acc::Issued, from_lots, reason)?;
    todo -= from_lots;
    if todo > 0 {
        if force_debt || p.spec().refunds.shortfall == Shortfall::AllowNegative {
            m.debt = m.debt.checked_add(todo).ok_or_else(|| j.overflow())?;
            j.post(m, now, Acc::Available, Acc::Issued, todo, reason)?;
            j.explain(m, "debt", None, Decimal::from(-todo));
        } else {
            j.post(m, now, Acc::Forgiven, Acc::Issued, todo, Reason::Forgive)?;
            j.explain(m, "forgive", None, Decimal::from(todo));
            j.effects.push(Effect::PointsForgiven {
                member: m.id.clone(),
                points: Points::new(todo),
                at: now,
            });
        }
    }
    Ok(())
}

/// Returns a hold's points to the lots they came from, with their original expiry.
fn release(j: &mut Journal, m: &mut Member, hold: &Hold, now: Instant) -> Result<()> {
    for (seq, n) in &hold.parts {
        if let Some(l) = m.lot_mut(*seq) {
            l.held -= n;
            l.remaining += n;
        }
    }
    j.post(
        m,
        now,
        Acc::Held,
        Acc::Available,
        hold.points,
        Reason::Release,
    )?;
    if let Some(u) = j.reward_usage.to_mut().get_mut(&hold.reward) {
        *u = u.saturating_sub(1);
    }
    settle_debt(m);
    Ok(())
}

fn next_birthday(p: &Program, m: &Member, after: Instant) -> Option<Instant> {
    if p.spec().bonuses.birthday <= 0 {
        return None;
    }
    let b = m.birthday?;
    let cal = p.calendar();
    let year = cal.date(after).year();
    (year..=year + 1)
        .map(|y| cal.midnight(same_day_in_year(b, y)))
        .find(|t| *t >= after)
}

// ---- tiers -------------------------------------------------------------------------------

/// The metric key of an instant: window index (calendar, anniversary) or day number (rolling).
pub(crate) fn window_key(p: &Program, m: &Member, t: Instant) -> i64 {
    let cal = p.calendar();
    let d = cal.date(t);
    match p.tier_window() {
        TierWindow::CalendarYear => i64::from(d.year()),
        TierWindow::Anniversary => {
            let e = cal.date(m.enrolled_at);
            let mut k = d.year() - e.year();
            if same_day_in_year(e, e.year() + k) > d {
                k -= 1;
            }
            i64::from(k)
        }
        TierWindow::Rolling { .. } => day_number(d),
    }
}

/// The first instant of calendar or anniversary window `w`.
pub(crate) fn window_start(p: &Program, m: &Member, w: i64) -> Instant {
    let cal = p.calendar();
    let year = i32::try_from(w).unwrap_or(i32::MAX);
    match p.tier_window() {
        TierWindow::CalendarYear | TierWindow::Rolling { .. } => cal.midnight(
            chrono::NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(chrono::NaiveDate::MAX),
        ),
        TierWindow::Anniversary => {
            let e = cal.date(m.enrolled_at);
            cal.midnight(same_day_in_year(e, e.year().saturating_add(year)))
        }
    }
}

fn level_for(p: &Program, metric: Decimal) -> usize {
    p.levels()
        .iter()
        .rposition(|l| l.threshold <= metric)
        .unwrap_or(0)
}

fn rolling_days(p: &Program) -> Option<i64> {
    match p.tier_window() {
        TierWindow::Rolling { days } => Some(i64::from(*days)),
        _ => None,
    }
}

/// The metric summed over the rolling window ending on day `day`.
/// The metric over a rolling window, saturating at the largest decimal: each day's metric is
/// bounded (`add_metric`) but their sum need not be, and a sum beyond every threshold compares
/// with the thresholds as the largest decimal does.
fn rolling_sum(m: &Member, day: i64, days: i64) -> Decimal {
    m.metric
        .range(day - days + 1..=day)
        .fold(Decimal::ZERO, |sum, (_, v)| sum.saturating_add(*v))
}

/// What the formula of SEMANTICS §6 says the tier is at `t`.
fn formula(p: &Program, m: &Member, t: Instant) -> usize {
    let w = window_key(p, m, t);
    match rolling_days(p) {
        Some(days) => level_for(p, rolling_sum(m, w, days)),
        None => {
            let cur = m.metric.get(&w).copied().unwrap_or_default();
            let prev = m.metric.get(&(w - 1)).copied().unwrap_or_default();
            level_for(p, cur).max(level_for(p, prev))
        }
    }
}

/// Adds to the tier metric of the window (or day) of `at`. A metric beyond what a decimal
/// holds (a spend of 7.9 × 10^28) is an overflow error, as points beyond an `i64` are.
fn add_metric(p: &Program, j: &Journal, m: &mut Member, at: Instant, by: Decimal) -> Result<()> {
    if by.is_zero() {
        return Ok(());
    }
    let key = window_key(p, m, at);
    if let Some(days) = rolling_days(p) {
        if key <= m.tier_window - days {
            return Ok(()); // already outside the window
        }
    }
    m.save_metric(key);
    let v = m.metric.entry(key).or_default();
    *v = v.checked_add(by).ok_or_else(|| j.overflow())?;
    Ok(())
}

fn change_tier(p: &Program, j: &mut Journal, m: &mut Member, to: usize, at: Instant) {
    if to == m.tier {
        return;
    }
    j.effects.push(Effect::TierChanged {
        member: m.id.clone(),
        from: level_name(p, m.tier),
        to: level_name(p, to),
        at,
    });
    m.tier = to;
    m.tier_history.push((at, to));
}

/// An upgrade takes effect right after the event that crosses the threshold.
fn upgrade_tier(p: &Program, j: &mut Journal, m: &mut Member, now: Instant) {
    let f = formula(p, m, now);
    if f > m.tier {
        change_tier(p, j, m, f, now);
    }
}

/// The next instant at which the tier must be re-evaluated.
fn next_tier_check(p: &Program, m: &Member) -> Option<Instant> {
    if p.levels().len() < 2 {
        return None;
    }
    match rolling_days(p) {
        None => Some(window_end(p, m).0),
        Some(days) => {
            let cal = p.calendar();
            let drop = m
                .metric
                .iter()
                .find(|(d, v)| **d + days > m.tier_window && !v.is_zero())
                .map(|(d, _)| *d + days);
            let fall = (m.tier > 0 && m.tier != formula_at_day(p, m, m.tier_window + 1))
                .then_some(m.tier_window + 1);
            let day = match (drop, fall) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => a.or(b)?,
            };
            Some(cal.midnight(crate::calendar::date_of_day(day)))
        }
    }
}

fn formula_at_day(p: &Program, m: &Member, day: i64) -> usize {
    rolling_days(p).map_or(m.tier, |days| level_for(p, rolling_sum(m, day, days)))
}

/// A window boundary: the tier becomes what the formula says (at most one level down with
/// `one_down`).
fn tier_boundary(p: &Program, j: &mut Journal, m: &mut Member, at: Instant) {
    let mut to = match rolling_days(p) {
        None => {
            m.tier_window += 1;
            let w = m.tier_window;
            m.retain_metric(|k| k >= w - 1);
            formula(p, m, at)
        }
        Some(days) => {
            let day = day_number(p.calendar().date(at));
            m.tier_window = day;
            m.retain_metric(|k| k > day - days);
            level_for(p, rolling_sum(m, day, days))
        }
    };
    if p.spec().tiers.as_ref().map(|t| t.downgrade) == Some(Downgrade::OneDown) {
        to = to.max(m.tier.saturating_sub(1));
    }
    change_tier(p, j, m, to, at);
}

/// The TierAtRisk notice instant of the current window, if the program asks for one.
fn at_risk_notice(p: &Program, m: &Member) -> Option<(Instant, Instant)> {
    p.spec().tiers.as_ref()?.at_risk_days?;
    if rolling_days(p).is_some() || m.at_risk_window == Some(m.tier_window) {
        return None;
    }
    let (end, notice) = window_end(p, m);
    Some((notice?, end))
}

/// The end of the member's current calendar or anniversary window, and the instant of its
/// TierAtRisk notice (`at_risk_days` before, at local midnight) if the program has one:
/// remembered by [`remember_window_end`], computed otherwise.
fn window_end(p: &Program, m: &Member) -> (Instant, Option<Instant>) {
    match m.window_end.cached {
        Some((w, end, notice)) if w == m.tier_window => (end, notice),
        _ => compute_window_end(p, m),
    }
}

fn compute_window_end(p: &Program, m: &Member) -> (Instant, Option<Instant>) {
    let end = window_start(p, m, m.tier_window + 1);
    let notice = p
        .spec()
        .tiers
        .as_ref()
        .and_then(|t| t.at_risk_days)
        .map(|days| {
            let cal = p.calendar();
            cal.midnight(cal.date(end) - chrono::Days::new(u64::from(days)))
        });
    (end, notice)
}

/// Remembers [`window_end`] for the member's current window (calendar and anniversary
/// windows with more than one level: the only ones that ask for it).
fn remember_window_end(p: &Program, m: &mut Member) {
    let wanted = p.levels().len() >= 2 && rolling_days(p).is_none();
    if wanted && !matches!(m.window_end.cached, Some((w, ..)) if w == m.tier_window) {
        let (end, notice) = compute_window_end(p, m);
        m.window_end.cached = Some((m.tier_window, end, notice));
    }
}

fn raise_at_risk(p: &Program, j: &mut Journal, m: &mut Member, at: Instant, end: Instant) {
    m.at_risk_window = Some(m.tier_window);
    let cur = m.metric.get(&m.tier_window).copied().unwrap_or_default();
    let mut falls_to = level_for(p, cur);
    if p.spec().tiers.as_ref().map(|t| t.downgrade) == Some(Downgrade::OneDown) {
        falls_to = falls_to.max(m.tier.saturating_sub(1));
    }
    if falls_to < m.tier {
        j.effects.push(Effect::TierAtRisk {
            member: m.id.clone(),
            tier: level_name(p, m.tier),
            falls_to: level_name(p, falls_to),
            window_ends: end,
            at,
        });
    }
}

// ---- catch-up ----------------------------------------------------------------------------

fn inactivity_deadline(p: &Program, m: &Member) -> Option<Instant> {
    match p.spec().expiry {
        ExpiryPolicy::Inactivity { days } => Some(p.calendar().days_after(m.last_activity, days)),
        _ => None,
    }
}

/// When a lot expires, member-wide inactivity included.
pub(crate) fn effective_expiry(p: &Program, m: &Member, l: &Lot) -> Option<Instant> {
    l.expires_at.or_else(|| inactivity_deadline(p, m))
}

/// Brings a member up to `t`: everything due at or before `t` happens in time order
/// (holds lapse, lots mature, debts are paid, lots expire, birthdays, tier boundaries).
pub(crate) fn catch_up(p: &Program, j: &mut Journal, m: &mut Member, t: Instant) -> Result<()> {
    loop {
        remember_window_end(p, m);
        let inactivity = inactivity_deadline(p, m);
        let mut next: Option<Instant> = None;
        let mut consider = |x: Option<Instant>| {
            if let Some(x) = x {
                if x <= t && next.is_none_or(|n| x < n) {
                    next = Some(x);
                }
            }
        };
        consider(m.holds.values().map(|h| h.expires_at).min());
        consider(
            m.lots
                .iter()
                .filter(|l| !l.matured)
                .map(|l| l.matures_at)
                .min(),
        );
        consider(
            m.lots
                .iter()
                .filter(|l| l.remaining > 0)
                .filter_map(|l| l.expires_at.or(inactivity))
                .min(),
        );
        consider(m.next_birthday);
        consider(next_tier_check(p, m));
        let notice = at_risk_notice(p, m);
        consider(notice.map(|(n, _)| n));
        let Some(x) = next else { break };
        // Something that became due in the past (a late event's lot, points returned to an
        // expired lot) happens now: the clock never moves backwards.
        let x = x.max(m.clock);
        m.clock = x;
        step(p, j, m, x, notice)?;
    }
    m.clock = m.clock.max(t);
    Ok(())
}

/// The earliest instant at which something is due for a member: a hold lapses, a lot matures
/// or expires, a birthday, a tier boundary, a TierAtRisk notice.
pub(crate) fn next_due(p: &Program, m: &Member) -> Option<Instant> {
    if m.closed {
        return None;
    }
    let inactivity = inactivity_deadline(p, m);
    let mut next: Option<Instant> = None;
    let mut consider = |x: Option<Instant>| {
        if let Some(x) = x {
            if next.is_none_or(|n| x < n) {
                next = Some(x);
            }
        }
    };
    consider(m.holds.values().map(|h| h.expires_at).min());
    for l in m.lots.iter() {
        if !l.matured {
            consider(Some(l.matures_at));
        }
        if l.remaining > 0 {
            consider(l.expires_at.or(inactivity));
        }
    }
    consider(m.next_birthday);
    consider(next_tier_check(p, m));
    consider(at_risk_notice(p, m).map(|(n, _)| n));
    next
}

fn step(
    p: &Program,
    j: &mut Journal,
    m: &mut Member,
    x: Instant,
    notice: Option<(Instant, Instant)>,
) -> Result<()> {
    let lapsed: Vec<EventId> = m
        .holds
        .iter()
        .filter(|(_, h)| h.expires_at <= x)
        .map(|(id, _)| id.clone())
        .collect();
    if !lapsed.is_empty() {
        m.save_holds();
    }
    for id in lapsed {
        if let Some(hold) = m.holds.remove(&id) {
            release(j, m, &hold, x)?;
            set_state(m, &id, RedemptionState::Expired);
            j.effects.push(Effect::HoldExpired {
                member: m.id.clone(),
                redemption: id,
                points: Points::new(hold.points),
                at: x,
            });
        }
    }
    let mut matured = 0i64;
    if m.lots.iter().any(|l| !l.matured && l.matures_at <= x) {
        for l in m
            .lots_mut()
            .iter_mut()
            .filter(|l| !l.matured && l.matures_at <= x)
        {
            l.matured = true;
            matured += l.remaining;
        }
    }
    j.post(m, x, Acc::Pending, Acc::Available, matured, Reason::Mature)?;
    settle_debt(m);
    let inactivity = inactivity_deadline(p, m);
    let due = |l: &Lot| l.remaining > 0 && l.expires_at.or(inactivity).is_some_and(|e| e <= x);
    let mut expired = Vec::new();
    if m.lots.iter().any(due) {
        for l in m.lots_mut().iter_mut().filter(|l| due(l)) {
            expired.push((l.source.clone(), l.remaining, l.matured));
            l.remaining = 0;
        }
    }
    for (source, points, was_matured) in expired {
        let from = if was_matured {
            Acc::Available
        } else {
            Acc::Pending
        };
        j.post(m, x, from, Acc::Expired, points, Reason::Expire)?;
        j.effects.push(Effect::PointsExpired {
            member: m.id.clone(),
            points: Points::new(points),
            source,
            at: x,
        });
    }
    if m.next_birthday.is_some_and(|b| b <= x) {
        let points = p.spec().bonuses.birthday;
        let id = EventId::new(format!("birthday:{}:{}", m.id, p.calendar().date(x).year()));
        bonus(p, j, m, x, points, BonusKind::Birthday, &id)?;
        m.next_birthday = next_birthday(p, m, x + Duration::days(1));
    }
    if next_tier_check(p, m).is_some_and(|b| b <= x) {
        tier_boundary(p, j, m, x);
    }
    if let Some((n, end)) = notice {
        if n <= x {
            raise_at_risk(p, j, m, x, end);
        }
    }
    Ok(())
}

/// 00:00 local `days` after a local date, as an instant (re-exported for progress).
pub(crate) fn day_start_after(p: &Program, d: chrono::NaiveDate, days: u32) -> Instant {
    p.calendar().midnight(add_days(d, days))
}

/// The metric in the current window and the window's end, for progress.
pub(crate) fn current_metric(p: &Program, m: &Member, t: Instant) -> (Decimal, Instant) {
    let w = window_key(p, m, t);
    match rolling_days(p) {
        Some(days) => (
            rolling_sum(m, w, days),
            day_start_after(p, p.calendar().date(t), 1),
        ),
        None => (
            m.metric.get(&w).copied().unwrap_or_default(),
            window_start(p, m, w + 1),
        ),
    }
}

//! Catching a member up to an instant (docs/semantics.md §4, §6, §7): everything due by then
//! happens in time order: holds lapse, lots mature, debts are paid, lots expire, birthdays,
//! tier boundaries and notices.

use crate::error::Result;
use crate::ids::EventId;
use crate::instant::Instant;
use crate::ledger::{Acc, Journal};
use crate::lot::Lot;
use crate::member::{Member, NextDue};
use crate::outcome::{BonusKind, Effect, Reason};
use crate::points::Points;
use crate::program::{ExpiryPolicy, Program};
use crate::reward::RedemptionState;
use chrono::{Datelike, Duration};

impl Member {
    /// Brings a member up to `t`: everything due at or before `t` happens in time order
    /// (holds lapse, lots mature, debts are paid, lots expire, birthdays, tier boundaries).
    pub(crate) fn catch_up(&mut self, p: &Program, j: &mut Journal, t: Instant) -> Result<()> {
        loop {
            self.remember_window_end(p);
            let inactivity = self.inactivity_deadline(p);
            // The earliest instant due at or before `t`, and the earliest of all.
            let mut next: Option<Instant> = None;
            let mut first: Option<Instant> = None;
            let mut consider = |x: Option<Instant>| {
                if let Some(x) = x {
                    if first.is_none_or(|f| x < f) {
                        first = Some(x);
                    }
                    if x <= t && next.is_none_or(|n| x < n) {
                        next = Some(x);
                    }
                }
            };
            self.lots.tidy();
            #[cfg(debug_assertions)]
            self.lots.check_index(inactivity);
            consider(self.holds.values().map(|h| h.expires_at).min());
            consider(self.lots.next_maturity());
            consider(self.lots.next_expiry(inactivity));
            consider(self.next_birthday);
            consider(self.next_tier_check(p));
            let notice = self.at_risk_notice(p);
            consider(notice.map(|(n, _)| n));
            let Some(x) = next else {
                self.due = NextDue::known(first);
                break;
            };
            // Something that became due in the past (a late event's lot, points returned to an
            // expired lot) happens now: the clock never moves backwards.
            let x = x.max(self.clock);
            self.clock = x;
            self.step(p, j, x, notice)?;
        }
        self.clock = self.clock.max(t);
        Ok(())
    }

    /// Whether something may be due at or before `at`: what the last catch-up found when it
    /// still holds (see [`NextDue`]), else [`Member::next_due`].
    pub(crate) fn due_by(&self, p: &Program, at: Instant) -> bool {
        if self.closed {
            return false;
        }
        match self.due.by(at) {
            Some(due) => due,
            None => self.next_due(p).is_some_and(|d| d <= at),
        }
    }

    /// The earliest instant at which something is due for a member: a hold lapses, a lot matures
    /// or expires, a birthday, a tier boundary, a TierAtRisk notice.
    pub(crate) fn next_due(&self, p: &Program) -> Option<Instant> {
        if self.closed {
            return None;
        }
        let inactivity = self.inactivity_deadline(p);
        let mut next: Option<Instant> = None;
        let mut consider = |x: Option<Instant>| {
            if let Some(x) = x {
                if next.is_none_or(|n| x < n) {
                    next = Some(x);
                }
            }
        };
        consider(self.holds.values().map(|h| h.expires_at).min());
        consider(self.lots.next_maturity());
        consider(self.lots.next_expiry(inactivity));
        consider(self.next_birthday);
        consider(self.next_tier_check(p));
        consider(self.at_risk_notice(p).map(|(n, _)| n));
        next
    }

    fn step(
        &mut self,
        p: &Program,
        j: &mut Journal,
        x: Instant,
        notice: Option<(Instant, Instant)>,
    ) -> Result<()> {
        let lapsed: Vec<EventId> = self
            .holds
            .iter()
            .filter(|(_, h)| h.expires_at <= x)
            .map(|(id, _)| id.clone())
            .collect();
        for id in lapsed {
            self.save_hold(&id);
            if let Some(hold) = self.holds.remove(&id) {
                self.release_hold(j, &hold, x)?;
                self.set_redemption_state(&id, RedemptionState::Expired);
                j.effects.push(Effect::HoldExpired {
                    member: self.id.clone(),
                    redemption: id,
                    points: Points::new(hold.points),
                    at: x,
                });
            }
        }
        let matured = self.lots_mut().mature_until(x);
        j.post(
            self,
            x,
            Acc::Pending,
            Acc::Available,
            matured,
            Reason::Mature,
        )?;
        self.settle_debt();
        let inactivity = self.inactivity_deadline(p);
        let expired = self.lots_mut().expire_until(x, inactivity);
        for (source, points, was_matured) in expired {
            let from = if was_matured {
                Acc::Available
            } else {
                Acc::Pending
            };
            j.post(self, x, from, Acc::Expired, points, Reason::Expire)?;
            j.effects.push(Effect::PointsExpired {
                member: self.id.clone(),
                points: Points::new(points),
                source,
                at: x,
            });
        }
        if self.next_birthday.is_some_and(|b| b <= x) {
            let points = p.spec().bonuses.birthday;
            let id = EventId::new(format!(
                "birthday:{}:{}",
                self.id,
                p.calendar().date(x).year()
            ));
            self.bonus(p, j, x, points, BonusKind::Birthday, &id)?;
            self.next_birthday = self.next_birthday_after(p, x + Duration::days(1));
        }
        if self.next_tier_check(p).is_some_and(|b| b <= x) {
            self.tier_boundary(p, j, x);
        }
        if let Some((n, end)) = notice {
            if n <= x {
                self.raise_at_risk(p, j, x, end);
            }
        }
        Ok(())
    }

    /// Finishes with a member: anything now due happens, then its emptied lots go.
    pub(crate) fn finish(&mut self, p: &Program, j: &mut Journal) -> Result<()> {
        let clock = self.clock;
        self.catch_up(p, j, clock)?;
        self.drop_empty_lots();
        Ok(())
    }

    pub(crate) fn inactivity_deadline(&self, p: &Program) -> Option<Instant> {
        match p.spec().expiry {
            ExpiryPolicy::Inactivity { days } => {
                Some(p.calendar().days_after(self.last_activity, days))
            }
            _ => None,
        }
    }

    /// When a lot expires, member-wide inactivity included.
    pub(crate) fn effective_expiry(&self, p: &Program, l: &Lot) -> Option<Instant> {
        l.expires_at.or_else(|| self.inactivity_deadline(p))
    }

    /// Finishes with a member that has nothing due at its clock: its emptied lots go.
    pub(crate) fn drop_empty_lots(&mut self) {
        self.lots_mut().drop_spent();
    }
}

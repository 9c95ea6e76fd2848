//! Membership (docs/semantics.md §8): enrolling a member, and forgetting one (erasure: the points
//! are forfeited, personal data goes, the id stays taken).

use crate::book::txn::Txn;
use crate::error::{Error, Result};
use crate::event::{Enroll, Forget};
use crate::ids::EventId;
use crate::instant::Instant;
use crate::ledger::Acc;
use crate::member::Member;
use crate::outcome::{BonusKind, Effect, Reason};
use crate::points::Points;
use crate::reward::RedemptionState;
use rust_decimal::Decimal;

impl Txn<'_> {
    pub(crate) fn enroll(&mut self, e: &Enroll, book_clock: Option<Instant>) -> Result<()> {
        if self.book.contains(&e.member) {
            return Err(Error::MemberExists {
                event: self.j.event_name(),
                member: e.member.to_string(),
            });
        }
        if let Some(clock) = book_clock {
            self.j.check_late(self.p, e.at, clock)?;
        }
        if let Some(r) = &e.referred_by {
            if *r == e.member {
                return Err(self.j.invalid("a member cannot refer itself"));
            }
            if !self.book.contains(r) {
                return Err(Error::UnknownMember {
                    event: self.j.event_name(),
                    member: r.to_string(),
                });
            }
        }
        let p = self.p;
        let mut m = Box::new(Member::enrolled(e));
        m.tier_window = m.window_key(p, e.at);
        m.next_birthday = m.next_birthday_after(p, e.at);
        let j = &mut self.j;
        let m = self.book.enroll(j, m)?;
        let signup = p.spec().bonuses.signup;
        m.bonus(p, j, e.at, signup, BonusKind::Signup, &e.id)?;
        j.points = signup;
        m.finish(p, j)
    }

    pub(crate) fn forget(&mut self, e: &Forget) -> Result<()> {
        let j = &mut self.j;
        let m = self.book.open(self.p, j, &e.member, e.at)?;
        let now = m.clock;
        let ids: Vec<EventId> = m.holds.keys().cloned().collect();
        for id in &ids {
            m.save_hold(id);
        }
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
            m.set_redemption_state(&id, RedemptionState::Forfeited);
            if let Some(u) = j.reward_usage.to_mut().get_mut(&hold.reward) {
                *u = u.saturating_sub(u64::from(hold.units));
            }
        }
        for l in m.lots_mut().take_all() {
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

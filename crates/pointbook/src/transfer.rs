//! Points moved by hand (docs/semantics.md §8): adjustments and transfers between members, which
//! keep each lot's expiry.

use crate::book::txn::Txn;
use crate::error::{Error, Result};
use crate::event::{Adjust, Transfer};
use crate::ledger::Credit;
use crate::lot::Lot;
use crate::outcome::Reason;
use crate::program::Shortfall;
use rust_decimal::Decimal;

impl Txn<'_> {
    pub(crate) fn adjust(&mut self, e: &Adjust) -> Result<()> {
        let p = self.p;
        let j = &mut self.j;
        let m = self.book.open(p, j, &e.member, e.at)?;
        let now = m.clock;
        if e.points > 0 {
            let credit = Credit {
                points: e.points,
                origin: Reason::Adjust,
                source: &e.id,
                earned_at: e.at,
                pending: false,
            };
            m.credit(p, j, now, credit)?;
        } else {
            let need = e.points.checked_neg().ok_or_else(|| j.overflow())?;
            if m.available < need && !e.allow_negative {
                return Err(Error::InsufficientPoints {
                    event: j.event_name(),
                    member: m.id.to_string(),
                    available: m.available,
                    needed: need,
                });
            }
            // Taken by hand: what the lots do not cover is always a debt.
            m.take_back(j, now, need, None, Reason::Adjust, Shortfall::AllowNegative)?;
        }
        j.points = e.points;
        j.explain(m, "adjust", Some(e.reason.clone()), Decimal::from(e.points));
        m.finish(p, j)
    }

    pub(crate) fn transfer(&mut self, e: &Transfer) -> Result<()> {
        let p = self.p;
        let j = &mut self.j;
        if !p.spec().transfers.allowed {
            return Err(Error::TransfersDisabled {
                event: j.event_name(),
            });
        }
        if e.to == e.member {
            return Err(j.invalid("a member cannot transfer to itself"));
        }
        let from_clock = self.book.open(p, j, &e.member, e.at)?.clock;
        let to_clock = self.book.open(p, j, &e.to, e.at)?.clock;
        let now = from_clock.max(to_clock);
        let [from, to] = self.book.touch_two(j, &e.member, &e.to)?;
        from.catch_up(p, j, now)?;
        to.catch_up(p, j, now)?;
        if from.available < e.points {
            return Err(Error::InsufficientPoints {
                event: j.event_name(),
                member: from.id.to_string(),
                available: from.available,
                needed: e.points,
            });
        }
        let parts = from.lots_mut().take_fifo(e.points);
        for (seq, n) in parts {
            let expires_at = from.lots.get(seq).and_then(|l| l.expires_at);
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
            to.lots_mut().insert(lot);
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
        to.settle_debt();
        from.finish(p, j)?;
        to.finish(p, j)
    }
}

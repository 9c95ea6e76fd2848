//! Reversals (docs/semantics.md §13): the points an issued redemption spent, given back to
//! the lots they came from with their own expiry, by a `reverse` or by a refund of the
//! purchase the redemption paid for.

use crate::book::txn::Txn;
use crate::error::{Error, Result};
use crate::event::Reverse;
use crate::ids::EventId;
use crate::instant::Instant;
use crate::ledger::{Acc, Journal};
use crate::member::Member;
use crate::outcome::{Effect, Reason};
use crate::points::Points;
use crate::reward::RedemptionState;
use rust_decimal::{Decimal, RoundingStrategy};

impl Member {
    /// Gives back `points` of issued redemption `rid` (all that is left of it when `None`):
    /// the points last taken go back first, so what stays spent is what a redemption of that
    /// many points would have taken. Points of a lot already past its expiry expire as the
    /// event finishes. A reversal of all that is left voids the redemption: its limit count and
    /// stock come back. Returns the points given back.
    pub(crate) fn give_back(
        &mut self,
        j: &mut Journal,
        rid: &EventId,
        points: Option<i64>,
        now: Instant,
    ) -> Result<i64> {
        let Some(red) = self.redemptions.get(rid).cloned() else {
            return Err(Error::UnknownRedemption {
                event: j.event_name(),
                redemption: rid.to_string(),
            });
        };
        let exceeds = |message: String| Error::ReversalExceeds {
            event: j.event_name(),
            message,
        };
        if red.state != RedemptionState::Issued {
            return Err(exceeds(format!(
                "redemption {rid} is {}: only an issued redemption is given back",
                red.state.name()
            )));
        }
        if red.lots.is_empty() {
            return Err(exceeds(format!(
                "redemption {rid} was recorded without the lots its points came from (before reversals existed): nothing of it can be given back"
            )));
        }
        let left = red.left();
        let n = points.unwrap_or(left);
        if n > left {
            return Err(exceeds(format!(
                "a reversal of {n} points exceeds the {left} left of redemption {rid}"
            )));
        }
        // Parts are given back from the last taken; the first `reversed` points from the end
        // went back already.
        let mut skip = red.reversed;
        let mut todo = n;
        for part in red.lots.iter().rev() {
            let gone = skip.min(part.points());
            skip -= gone;
            let k = (part.points() - gone).min(todo);
            if k > 0 {
                self.lots_mut().put_back(part, k);
                todo -= k;
            }
        }
        j.post(
            self,
            now,
            Acc::Redeemed,
            Acc::Available,
            n,
            Reason::Reversal,
        )?;
        self.settle_debt();
        let whole = n == left;
        self.save_redemption(rid);
        if let Some(r) = self.redemptions.get_mut(rid) {
            r.reversed += n;
        }
        if whole {
            self.set_redemption_state(rid, RedemptionState::Reversed);
        }
        if whole {
            if let Some(u) = j.reward_usage.to_mut().get_mut(&red.reward) {
                *u = u.saturating_sub(u64::from(red.units));
            }
        }
        j.explain(self, "reversal", Some(rid.to_string()), Decimal::from(n));
        j.effects.push(Effect::RewardReversed {
            member: self.id.clone(),
            reward: red.reward,
            redemption: rid.clone(),
            points: Points::new(n),
            whole,
            at: now,
        });
        Ok(n)
    }

    /// Gives back the share of every issued redemption that paid for `purchase` which a refund
    /// of `refunded` out of the `before` left of it returns: floor(points left × refunded /
    /// before), or all that is left when nothing of the purchase is. Returns the points given
    /// back.
    pub(crate) fn give_back_share(
        &mut self,
        j: &mut Journal,
        purchase: &EventId,
        refunded: Decimal,
        before: Decimal,
        now: Instant,
    ) -> Result<i64> {
        let paid: Vec<(EventId, i64)> = self
            .redemptions
            .iter()
            .filter(|(_, r)| {
                r.purchase.as_ref() == Some(purchase)
                    && r.state == RedemptionState::Issued
                    && r.left() > 0
                    && !r.lots.is_empty()
            })
            .map(|(id, r)| (id.clone(), r.left()))
            .collect();
        let mut given = 0i64;
        for (rid, left) in paid {
            let share = if refunded >= before {
                left
            } else {
                Decimal::from(left)
                    .checked_mul(refunded)
                    .and_then(|x| x.checked_div(before))
                    .map(|x| x.round_dp_with_strategy(0, RoundingStrategy::ToZero))
                    .and_then(|x| i64::try_from(x).ok())
                    .ok_or_else(|| j.overflow())?
            };
            if share > 0 {
                given += self.give_back(j, &rid, Some(share), now)?;
            }
        }
        Ok(given)
    }
}

impl Txn<'_> {
    pub(crate) fn reverse(&mut self, e: &Reverse) -> Result<()> {
        let p = self.p;
        let j = &mut self.j;
        let m = self.book.open(p, j, &e.member, e.at)?;
        let now = m.clock;
        j.points = m.give_back(j, &e.redemption, e.points, now)?;
        m.finish(p, j)
    }
}

//! Redemption (docs/semantics.md §7): redeeming a reward at once or as a hold, confirming or
//! cancelling a hold, a hold that lapses, and the voucher a redemption issues.

use crate::book::txn::Txn;
use crate::error::{Error, Result};
use crate::event::{Redeem, Settle};
use crate::ids::EventId;
use crate::instant::Instant;
use crate::ledger::{Acc, Journal};
use crate::member::Member;
use crate::outcome::{Effect, Reason};
use crate::pricing::price;
use crate::program::Program;
use crate::reward::{voucher_code, Hold, Redemption, RedemptionState, Spent};
use crate::tier::level_name;
use chrono::Duration;
use rust_decimal::Decimal;

impl Member {
    /// Returns a hold's points to the lots they came from, with their original expiry.
    pub(crate) fn release_hold(
        &mut self,
        j: &mut Journal,
        hold: &Hold,
        now: Instant,
    ) -> Result<()> {
        self.lots_mut().unhold(&hold.parts, true);
        j.post(
            self,
            now,
            Acc::Held,
            Acc::Available,
            hold.points,
            Reason::Release,
        )?;
        if let Some(u) = j.reward_usage.to_mut().get_mut(&hold.reward) {
            *u = u.saturating_sub(u64::from(hold.units));
        }
        self.settle_debt();
        Ok(())
    }

    /// The lots `parts` were taken from, each as it is now, with the points taken: what a
    /// reversal needs to put them back.
    pub(crate) fn spent_from(&self, parts: &[(u64, i64)]) -> Vec<Spent> {
        parts
            .iter()
            .filter_map(|&(seq, points)| Some(Spent::of(self.lots.get(seq)?, points)))
            .collect()
    }

    /// Moves a redemption to `state`. One that no longer counts (cancelled, lapsed, forfeited,
    /// reversed) can never be given back: the lots it spent from are forgotten.
    pub(crate) fn set_redemption_state(&mut self, id: &EventId, state: RedemptionState) {
        self.save_redemption(id);
        if let Some(r) = self.redemptions.get_mut(id) {
            r.state = state;
            if !state.counts() {
                r.lots = Vec::new();
            }
        }
    }

    pub(crate) fn issue_reward(
        &self,
        p: &Program,
        j: &mut Journal,
        reward: &str,
        redemption: &EventId,
        at: Instant,
    ) {
        let secret = p.spec().voucher_secret.as_deref().unwrap_or("");
        j.effects.push(Effect::RewardIssued {
            member: self.id.clone(),
            reward: reward.to_owned(),
            redemption: redemption.clone(),
            code: voucher_code(secret, redemption.as_str()),
            at,
        });
    }
}

impl Txn<'_> {
    pub(crate) fn redeem(&mut self, e: &Redeem) -> Result<()> {
        let p = self.p;
        let j = &mut self.j;
        let m = self.book.open(p, j, &e.member, e.at)?;
        let now = m.clock;
        let Some(r) = p.reward(&e.reward) else {
            return Err(Error::UnknownReward {
                event: j.event_name(),
                reward: e.reward.clone(),
            });
        };
        let tier = m.tier_at(e.at);
        if let Some(min) = &r.min_tier {
            if p.level_index(min).is_some_and(|need| tier < need) {
                return Err(Error::TierTooLow {
                    event: j.event_name(),
                    reward: r.id.clone(),
                    required: min.clone(),
                    tier: level_name(p, tier),
                });
            }
        }
        let price = price(p, j, r, e)?;
        if let Some(limit) = &r.limit {
            let cal = p.calendar();
            let key = |t: Instant| cal.period_start(limit.per, cal.date(t));
            let used: u64 = m
                .redemptions
                .values()
                .filter(|x| x.reward == r.id && key(x.at) == key(e.at))
                .map(Redemption::counted)
                .sum();
            if used + u64::from(price.units) > u64::from(limit.count) {
                return Err(Error::LimitReached {
                    event: j.event_name(),
                    reward: r.id.clone(),
                });
            }
        }
        let usage = j.reward_usage.get(&r.id).copied().unwrap_or(0);
        let units = u64::from(price.units);
        if r.stock.is_some_and(|s| usage + units > s) {
            return Err(Error::OutOfStock {
                event: j.event_name(),
                reward: r.id.clone(),
            });
        }
        let cost = price.points;
        if m.available < cost {
            return Err(Error::InsufficientPoints {
                event: j.event_name(),
                member: m.id.to_string(),
                available: m.available,
                needed: cost,
            });
        }
        let parts = m.lots_mut().take_fifo(cost);
        let lots = m.spent_from(&parts);
        j.reward_usage.to_mut().insert(r.id.clone(), usage + units);
        j.points = -cost;
        j.discount = price.discount;
        m.last_activity = m.last_activity.max(e.at);
        if e.hold {
            m.lots_mut().hold(&parts);
            j.post(m, now, Acc::Available, Acc::Held, cost, Reason::Hold)?;
            j.explain(m, "hold", Some(r.id.clone()), Decimal::from(-cost));
            let minutes = Duration::minutes(i64::from(r.hold_minutes));
            m.save_hold(&e.id);
            m.holds.insert(
                e.id.clone(),
                Hold {
                    reward: r.id.clone(),
                    points: cost,
                    expires_at: now + minutes,
                    parts,
                    units: price.units,
                },
            );
        } else {
            j.post(m, now, Acc::Available, Acc::Redeemed, cost, Reason::Redeem)?;
            j.explain(m, "redeem", Some(r.id.clone()), Decimal::from(-cost));
            m.issue_reward(p, j, &r.id, &e.id, now);
        }
        let state = if e.hold {
            RedemptionState::Held
        } else {
            RedemptionState::Issued
        };
        m.save_redemption(&e.id);
        m.redemptions.insert(
            e.id.clone(),
            Redemption {
                reward: r.id.clone(),
                at: e.at,
                state,
                units: price.units,
                points: cost,
                reversed: 0,
                lots,
                discount: price.discount,
                purchase: e.purchase.clone(),
            },
        );
        m.finish(p, j)
    }

    pub(crate) fn settle(&mut self, e: &Settle, confirm: bool) -> Result<()> {
        let p = self.p;
        let j = &mut self.j;
        let m = self.book.open(p, j, &e.member, e.at)?;
        let now = m.clock;
        let Some(red) = m.redemptions.get(&e.redemption).cloned() else {
            return Err(Error::UnknownRedemption {
                event: j.event_name(),
                redemption: e.redemption.to_string(),
            });
        };
        let Some(hold) = m.holds.get(&e.redemption).cloned() else {
            return Err(Error::HoldNotActive {
                event: j.event_name(),
                redemption: e.redemption.to_string(),
                state: red.state.name().to_owned(),
            });
        };
        m.save_hold(&e.redemption);
        m.holds.remove(&e.redemption);
        if confirm {
            m.lots_mut().unhold(&hold.parts, false);
            j.post(
                m,
                now,
                Acc::Held,
                Acc::Redeemed,
                hold.points,
                Reason::Redeem,
            )?;
            j.explain(m, "redeem", Some(red.reward.clone()), Decimal::ZERO);
            m.issue_reward(p, j, &red.reward, &e.redemption, now);
            m.set_redemption_state(&e.redemption, RedemptionState::Issued);
            j.discount = red.discount;
        } else {
            m.release_hold(j, &hold, now)?;
            j.points = hold.points;
            j.explain(
                m,
                "release",
                Some(red.reward.clone()),
                Decimal::from(hold.points),
            );
            m.set_redemption_state(&e.redemption, RedemptionState::Cancelled);
        }
        m.finish(p, j)
    }
}

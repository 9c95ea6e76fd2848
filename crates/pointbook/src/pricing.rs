//! What a redemption costs and takes off the order (docs/semantics.md §7, §13): a fixed cost,
//! a cost per free item or the points a points payment names; and the discount of its kind.

use crate::book::txn::Txn;
use crate::error::{Error, Result};
use crate::event::{validate_event, Event, Line, Pay, Purchase, Redeem};
use crate::ids::EventId;
use crate::ledger::Journal;
use crate::program::{Program, RewardKind, RewardSpec};
use rust_decimal::{Decimal, RoundingStrategy};

/// What one redeem of a reward costs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Price {
    /// Units of the reward, counted by its limit and stock.
    pub units: u32,
    /// Points spent.
    pub points: i64,
    /// Money off the order, where the kind has one.
    pub discount: Option<Decimal>,
}

/// The price of `e`, a redeem of `r`. A field that means nothing for the reward's kind is an
/// invalid event rather than ignored: the till meant something by it.
pub(crate) fn price(p: &Program, j: &Journal, r: &RewardSpec, e: &Redeem) -> Result<Price> {
    let invalid = |message: String| j.invalid(&message);
    let overflow = || j.overflow();
    let kind = kind_name(&r.kind);
    let unused = |field: &str| invalid(format!("{field} means nothing for a {kind} reward"));
    if e.points.is_some() && !r.kind.names_points() {
        return Err(unused("points"));
    }
    if e.quantity.is_some() && !matches!(r.kind, RewardKind::FreeItem { .. }) {
        return Err(unused("quantity"));
    }
    if !e.lines.is_empty() && !matches!(r.kind, RewardKind::PercentOff { .. }) {
        return Err(unused("lines"));
    }
    if e.order_total.is_some()
        && matches!(r.kind, RewardKind::Voucher | RewardKind::FreeItem { .. })
    {
        return Err(unused("order_total"));
    }
    let fixed = |discount: Option<Decimal>| Price {
        units: 1,
        points: r.cost,
        discount,
    };
    Ok(match &r.kind {
        RewardKind::Voucher => fixed(None),
        RewardKind::AmountOff { amount } => {
            fixed(Some(e.order_total.map_or(*amount, |t| t.min(*amount))))
        }
        RewardKind::FreeItem { .. } => {
            let units = e.quantity.unwrap_or(1);
            let points = r.cost.checked_mul(i64::from(units)).ok_or_else(overflow)?;
            Price {
                units,
                points,
                discount: None,
            }
        }
        RewardKind::PointsPayment {
            rate,
            step,
            max_share,
        } => {
            let (Some(points), Some(total)) = (e.points, e.order_total) else {
                return Err(invalid(
                    "a points payment needs `points` and `order_total`".into(),
                ));
            };
            if points % step != 0 {
                return Err(invalid(format!(
                    "points {points} are not a multiple of the reward's step {step}"
                )));
            }
            let discount = Decimal::from(points)
                .checked_mul(*rate)
                .ok_or_else(overflow)?;
            // The discount has the currency's decimals at most, so the share is rounded down to
            // them: it reads as money and compares the same.
            let most = total
                .checked_mul(*max_share)
                .ok_or_else(overflow)?
                .round_dp_with_strategy(p.minor_units(), RoundingStrategy::ToZero);
            if discount > most {
                return Err(Error::ExceedsOrder {
                    event: j.event_name(),
                    message: format!(
                        "{points} points pay {discount}, more than the {most} reward {} may pay of an order of {total}",
                        r.id
                    ),
                });
            }
            Price {
                units: 1,
                points,
                discount: Some(discount),
            }
        }
        RewardKind::PercentOff {
            percent,
            max_amount,
            categories,
            skus,
        } => {
            let filtered = !categories.is_empty() || !skus.is_empty();
            let eligible = if !e.lines.is_empty() {
                amount_of(e.lines.iter().filter(|l| applies_to(&r.kind, l))).ok_or_else(overflow)?
            } else if filtered {
                return Err(invalid(format!(
                    "reward {} is off some categories or SKUs: the redeem needs the order's `lines`",
                    r.id
                )));
            } else {
                e.order_total
                    .ok_or_else(|| invalid("a percent off needs `order_total` or `lines`".into()))?
            };
            let off = eligible
                .checked_mul(*percent)
                .and_then(|x| x.checked_div(Decimal::ONE_HUNDRED))
                .ok_or_else(overflow)?
                .round_dp_with_strategy(p.minor_units(), RoundingStrategy::ToZero);
            let off = max_amount.map_or(off, |m| off.min(m));
            fixed(Some(off))
        }
    })
}

/// What lines add up to (`None`: beyond a decimal).
pub(crate) fn amount_of<'l>(lines: impl IntoIterator<Item = &'l Line>) -> Option<Decimal> {
    lines
        .into_iter()
        .try_fold(Decimal::ZERO, |sum, l| sum.checked_add(l.amount))
}

/// The wire name of a reward kind.
pub(crate) fn kind_name(kind: &RewardKind) -> &'static str {
    match kind {
        RewardKind::Voucher => "voucher",
        RewardKind::AmountOff { .. } => "amount_off",
        RewardKind::FreeItem { .. } => "free_item",
        RewardKind::PointsPayment { .. } => "points_payment",
        RewardKind::PercentOff { .. } => "percent_off",
    }
}

/// Whether a line is one a reward's discount applies to: any line, or for a percent off of
/// some categories or SKUs, those.
fn applies_to(kind: &RewardKind, l: &Line) -> bool {
    match kind {
        RewardKind::PercentOff {
            categories, skus, ..
        } if !categories.is_empty() || !skus.is_empty() => {
            categories.contains(&l.category) || skus.contains(&l.sku)
        }
        _ => true,
    }
}

/// `lines` with `discount` taken off the lines it applies to, in proportion to their amounts:
/// each line's share is rounded down to the minor unit, and the units left over are taken
/// from those lines in order, one each, while they have any left.
pub(crate) fn take_off(
    lines: &[Line],
    kind: &RewardKind,
    discount: Decimal,
    minor: u32,
) -> Option<Vec<Line>> {
    let base = amount_of(lines.iter().filter(|l| applies_to(kind, l)))?;
    let mut out = lines.to_vec();
    if base.is_zero() {
        return Some(out);
    }
    let discount = discount.min(base);
    let mut left = discount;
    for l in out.iter_mut().filter(|l| applies_to(kind, l)) {
        let share = l
            .amount
            .checked_mul(discount)?
            .checked_div(base)?
            .round_dp_with_strategy(minor, RoundingStrategy::ToZero);
        l.amount -= share;
        left -= share;
    }
    let unit = Decimal::new(1, minor);
    for l in out.iter_mut().filter(|l| applies_to(kind, l)) {
        if left <= Decimal::ZERO {
            break;
        }
        if l.amount >= unit {
            l.amount -= unit;
            left -= unit;
        }
    }
    Some(out)
}

impl Txn<'_> {
    /// What `purchase` would do paid in part with `pay` (a quote: nothing is committed): the
    /// redemption first, its discount taken off the lines it applies to ([`take_off`]), then
    /// the purchase of what is left to pay. The outcome is the purchase's, with the
    /// redemption's points, postings and explanation before its own, and its discount.
    pub fn quote_paid(&mut self, purchase: &Purchase, pay: &Pay) -> Result<()> {
        let p = self.p;
        let Some(r) = p.reward(&pay.reward) else {
            return Err(Error::UnknownReward {
                event: self.j.event_name(),
                reward: pay.reward.clone(),
            });
        };
        let total = amount_of(&purchase.lines).ok_or_else(|| self.j.overflow())?;
        let (order_total, lines) = match &r.kind {
            RewardKind::PointsPayment { .. } | RewardKind::AmountOff { .. } => (Some(total), Vec::new()),
            RewardKind::PercentOff { .. } => (None, purchase.lines.clone()),
            RewardKind::Voucher | RewardKind::FreeItem { .. } => {
                return Err(self.j.invalid(&format!(
                    "reward {} takes no money off an order: a quote is paid with a points payment, a percent off or an amount off",
                    r.id
                )))
            }
        };
        let redeem = Redeem {
            id: EventId::new(format!("{}:pay", purchase.id)),
            member: purchase.member.clone(),
            at: purchase.at,
            reward: r.id.clone(),
            hold: false,
            points: pay.points,
            order_total,
            lines,
            quantity: None,
            purchase: Some(purchase.id.clone()),
        };
        validate_event(p, &Event::Redeem(redeem.clone()))?;
        self.redeem(&redeem)?;
        let (spent, discount) = (self.j.points, self.j.discount);
        let paid = Purchase {
            lines: take_off(
                &purchase.lines,
                &r.kind,
                discount.unwrap_or_default(),
                p.minor_units(),
            )
            .ok_or_else(|| self.j.overflow())?,
            ..purchase.clone()
        };
        self.quote(&paid)?;
        self.j.points = self
            .j
            .points
            .checked_add(spent)
            .ok_or_else(|| self.j.overflow())?;
        self.j.discount = discount;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(sku: &str, category: &str, amount: &str) -> Line {
        Line {
            sku: sku.into(),
            category: category.into(),
            amount: amount.parse().unwrap_or_default(),
            quantity: 1,
        }
    }

    fn amounts(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.amount.to_string()).collect()
    }

    /// 1.00 off 1.00 + 2.00: shares 0.33 and 0.66, and the cent left over from the first line:
    /// 0.66 and 1.34 are left, 2.00 in all.
    #[test]
    fn a_discount_is_taken_off_in_proportion_to_the_cent() {
        let lines = [line("A", "x", "1.00"), line("B", "x", "2.00")];
        let off = Decimal::new(100, 2);
        let out = take_off(&lines, &RewardKind::Voucher, off, 2);
        assert_eq!(
            out.map(|o| amounts(&o)),
            Some(vec!["0.66".into(), "1.34".into()])
        );
        // A discount larger than the lines takes them to zero, no further.
        let out = take_off(&lines, &RewardKind::Voucher, Decimal::new(500, 2), 2);
        assert_eq!(
            out.map(|o| amounts(&o)),
            Some(vec!["0.00".into(), "0.00".into()])
        );
        // A filtered percent off leaves the other lines alone.
        let coffee = RewardKind::PercentOff {
            percent: Decimal::TEN,
            max_amount: None,
            categories: vec!["coffee".into()],
            skus: Vec::new(),
        };
        let lines = [line("L", "coffee", "4.75"), line("C", "pastry", "10.00")];
        let out = take_off(&lines, &coffee, Decimal::new(47, 2), 2);
        assert_eq!(
            out.map(|o| amounts(&o)),
            Some(vec!["4.28".into(), "10.00".into()])
        );
    }
}

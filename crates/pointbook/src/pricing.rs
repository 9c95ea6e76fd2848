//! What a redemption costs and takes off the order (docs/semantics.md §7, §13): a fixed cost,
//! a cost per free item or the points a points payment names; and the discount of its kind.

use crate::error::{Error, Result};
use crate::event::{Line, Redeem};
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
    let overflow = || Error::Overflow {
        event: j.event_name(),
    };
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
                sum_eligible(&e.lines, categories, skus, filtered).ok_or_else(overflow)?
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

/// The amount of the lines a percent off applies to: all, or those of its categories or SKUs.
fn sum_eligible(
    lines: &[Line],
    categories: &[String],
    skus: &[String],
    filtered: bool,
) -> Option<Decimal> {
    lines
        .iter()
        .filter(|l| !filtered || categories.contains(&l.category) || skus.contains(&l.sku))
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

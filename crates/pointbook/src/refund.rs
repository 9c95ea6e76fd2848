//! Refunds (docs/semantics.md §5): what is left of a purchase after a refund, and the points that
//! come back by recomputing its earn.

use crate::book::txn::{purchase_record, set_purchase, Txn};
use crate::earning::{cap_key, compute_earn};
use crate::error::{Error, Result};
use crate::event::{Line, Refund};
use crate::ledger::Journal;
use crate::outcome::Reason;
use crate::pricing::amount_of;
use crate::program::TierMetric;
use crate::purchase::{PurchaseRecord, Receipt};
use rust_decimal::Decimal;

/// The remaining basket after a refund's lines.
pub(crate) fn refund_lines(j: &Journal, lines: &[Line], e: &Refund) -> Result<Vec<Line>> {
    let mut out = lines.to_vec();
    for (i, rl) in e.lines.iter().enumerate() {
        let exceeds = |message: String| Error::RefundExceedsPurchase {
            event: j.event_name(),
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

impl Txn<'_> {
    pub(crate) fn refund(&mut self, e: &Refund) -> Result<()> {
        let p = self.p;
        let j = &mut self.j;
        let m = self.book.open(p, j, &e.member, e.at)?;
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
                event: j.event_name(),
                purchase: e.purchase.to_string(),
            });
        };
        if e.at < rec.at {
            return Err(j.invalid("a refund cannot precede its purchase"));
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
        m.add_metric(p, j, rec.at, -metric)?;
        j.explain(
            m,
            "reversal",
            Some(e.purchase.to_string()),
            Decimal::from(-reverse),
        );
        // Points a redemption spent paying for the purchase come back first (docs/semantics.md
        // §13): they may cover what the refund takes back.
        let total = |lines: &[Line]| amount_of(lines).ok_or_else(|| j.overflow());
        let (before, after) = (total(&bought)?, total(&lines)?);
        let given = m.give_back_share(j, &e.purchase, before - after, before, now)?;
        let shortfall = p.spec().refunds.shortfall;
        m.take_back(j, now, reverse, rec.lot, Reason::Reversal, shortfall)?;
        j.points = given - reverse;
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
        m.finish(p, j)
    }
}

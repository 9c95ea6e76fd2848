//! Building the analysis from an analyzer's accumulators: periods, the summary, member
//! rows with RFM scores and churn risk.

use super::analyzer::{Analyzer, MemberAcc, PeriodAcc};
use super::rows::{Analysis, Churn, Flows, MemberRow, Outstanding, PeriodRow, Rfm, Summary};
use super::{count_ratio, money_ratio, ratio};
use crate::calendar::{day_number, Calendar};
use crate::event::{Advance, Event};
use crate::ids::{EventId, MemberId};
use crate::instant::Instant;
use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::BTreeMap;

impl Analyzer {
    /// Brings the book up to the analysis instant (an `advance`, so that everything due —
    /// maturation, expiry, hold lapses, tier boundaries — is counted) and computes the
    /// analysis.
    pub fn finish(mut self) -> Analysis {
        let as_of = self
            .book
            .clock()
            .map(|c| self.options.as_of.map_or(c, |a| a.max(c)));
        if let Some(t) = as_of {
            let advance = Event::Advance(Advance {
                id: EventId::new(format!(
                    "analytics@{}",
                    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
                )),
                at: t,
            });
            // The closing advance is the analysis's own, not one of the history's events: it
            // is observed but not counted. It cannot be late (it is at or after the clock).
            if let Ok(o) = self.book.apply(&advance) {
                if !o.duplicate {
                    self.observe(&advance, &o, None);
                }
            }
        }
        Report::new(&self, as_of).build()
    }
}

/// Builds the analysis from an analyzer's accumulators.
pub(crate) struct Report<'a> {
    a: &'a Analyzer,
    cal: &'a Calendar,
    as_of: Option<Instant>,
    point_value: Decimal,
    minor: u32,
    /// Period start dates, and one more: the end of the last period.
    bounds: Vec<NaiveDate>,
}

impl<'a> Report<'a> {
    pub(crate) fn new(a: &'a Analyzer, as_of: Option<Instant>) -> Self {
        let program = a.book.program();
        let cal = program.calendar();
        let mut bounds = Vec::new();
        if let (Some(first), Some(last)) = (a.first, as_of) {
            let period = a.options.period;
            let mut d = a.key(first);
            let end = a.key(last);
            while d <= end {
                bounds.push(d);
                d = cal.next_period_start(period, d);
            }
            bounds.push(d);
        }
        Report {
            a,
            cal,
            as_of,
            point_value: program.spec().point_value,
            minor: program.minor_units(),
            bounds,
        }
    }

    pub(crate) fn value(&self, points: i64) -> Decimal {
        self.point_value
            .checked_mul(Decimal::from(points))
            .unwrap_or(Decimal::MAX)
    }

    pub(crate) fn day(&self, t: Instant) -> i64 {
        day_number(self.cal.date(t))
    }

    pub(crate) fn build(&self) -> Analysis {
        let program = self.a.book.program();
        let tiers: Vec<String> = program.levels().iter().map(|l| l.id.clone()).collect();
        let mut members: Vec<(&MemberId, &MemberAcc)> = self.a.members.iter().collect();
        members.sort_unstable_by(|x, y| x.0.cmp(y.0));
        let periods = self.periods(&tiers, &members);
        let rows = self.member_rows(&tiers, &members);
        let summary = self.summary(&tiers, &rows);
        Analysis {
            program: program.spec().name.clone(),
            currency: program.spec().currency.clone(),
            point_value: self.point_value,
            tiers,
            period: self.a.options.period,
            as_of: self.as_of,
            events: self.a.counts,
            periods,
            summary,
            members: rows,
        }
    }

    pub(crate) fn periods(
        &self,
        tiers: &[String],
        members: &[(&MemberId, &MemberAcc)],
    ) -> Vec<PeriodRow> {
        let n = self.bounds.len().saturating_sub(1);
        let bound_days: Vec<i64> = self.bounds.iter().map(|d| day_number(*d)).collect();
        let window = i64::from(self.a.options.active_days);
        // Per boundary: active members; per period: new actives, purchasers, returning.
        let mut active = vec![0u64; n + 1];
        let mut active_new = vec![0u64; n];
        let mut purchasers = vec![0u64; n];
        let mut returning = vec![0u64; n];
        let period_of = |day: i64| bound_days.partition_point(|b| *b <= day).checked_sub(1);
        for (_, m) in members {
            let mut days: Vec<i64> = m.purchases.iter().map(|t| self.day(*t)).collect();
            days.sort_unstable();
            let enrolled = m.enrolled_at.map(|t| self.day(t));
            let forgotten = m.forgotten_at.map(|t| self.day(t));
            for (i, b) in bound_days.iter().enumerate() {
                let before = days.partition_point(|d| d < b);
                let open = enrolled.is_some_and(|e| e < *b) && forgotten.is_none_or(|f| f >= *b);
                let recent = before > 0 && days.get(before - 1).is_some_and(|d| *d >= b - window);
                if open && recent {
                    active[i] += 1;
                    if i > 0 && enrolled.and_then(period_of) == Some(i - 1) {
                        active_new[i - 1] += 1;
                    }
                }
            }
            let mut last_period = None;
            for d in &days {
                let Some(p) = period_of(*d).filter(|p| *p < n) else {
                    continue;
                };
                if last_period != Some(p) {
                    purchasers[p] += 1;
                    if days.first().is_some_and(|f| *f < bound_days[p]) {
                        returning[p] += 1;
                    }
                    last_period = Some(p);
                }
            }
        }
        let mut rows = Vec::with_capacity(n);
        let mut outstanding = Outstanding::default();
        let mut mix = vec![0i64; tiers.len()];
        let mut open_members = 0i64;
        let empty = PeriodAcc::default();
        for i in 0..n {
            let acc = self.a.periods.get(&self.bounds[i]).unwrap_or(&empty);
            outstanding.add(&acc.outstanding);
            for (m, d) in mix.iter_mut().zip(&acc.tier_delta) {
                *m += d;
            }
            open_members += i64::try_from(acc.enrolled).unwrap_or(i64::MAX)
                - i64::try_from(acc.forgotten).unwrap_or(i64::MAX);
            let end = self.cal.midnight(self.bounds[i + 1]);
            let end = self.as_of.map_or(end, |a| end.min(a));
            let crr = ratio(
                Decimal::from(active[i + 1]) - Decimal::from(active_new[i]),
                Decimal::from(active[i]),
            );
            // The last local date before the end; the start's for an empty last period.
            let before_end = end
                .checked_sub_signed(chrono::TimeDelta::seconds(1))
                .unwrap_or(end);
            let last = self.cal.date(before_end).max(self.bounds[i]);
            rows.push(PeriodRow {
                label: self.a.options.period.label(self.bounds[i]),
                start: self.bounds[i],
                last,
                end,
                flows: acc.flows,
                outstanding,
                liability: self.value(outstanding.total()),
                members: u64::try_from(open_members).unwrap_or(0),
                enrolled: acc.enrolled,
                forgotten: acc.forgotten,
                tier_mix: mix.iter().map(|c| u64::try_from(*c).unwrap_or(0)).collect(),
                tier_ups: acc.tier_ups,
                tier_downs: acc.tier_downs,
                active_start: active[i],
                active_end: active[i + 1],
                active_new: active_new[i],
                retention_rate: crr,
                purchasers: purchasers[i],
                returning_purchasers: returning[i],
                repurchase_rate: count_ratio(returning[i], purchasers[i]),
                purchases: acc.purchases,
                purchase_frequency: count_ratio(acc.purchases, purchasers[i]),
                sales: acc.sales,
                refunds: acc.refunds,
                discounts: acc.discounts,
                average_order_value: money_ratio(acc.sales, acc.purchases, self.minor),
            });
        }
        rows
    }

    pub(crate) fn member_rows(
        &self,
        tiers: &[String],
        members: &[(&MemberId, &MemberAcc)],
    ) -> Vec<MemberRow> {
        let as_of_day = self.as_of.map(|t| self.day(t));
        let percentile = i64::from(self.a.options.churn_percentile);
        let mut rows: Vec<MemberRow> = members
            .iter()
            .map(|(id, m)| {
                let mut days: Vec<i64> = m.purchases.iter().map(|t| self.day(*t)).collect();
                days.sort_unstable();
                let since = days.last().zip(as_of_day).map(|(l, a)| a - l);
                MemberRow {
                    member: (*id).clone(),
                    tier: tiers.get(m.tier).cloned().unwrap_or_default(),
                    enrolled_at: m.enrolled_at,
                    closed: m.forgotten_at.is_some(),
                    purchases: m.purchases.len() as u64,
                    first_purchase: m.purchases.iter().min().copied(),
                    last_purchase: m.purchases.iter().max().copied(),
                    sales: m.sales,
                    refunds: m.refunds,
                    lifetime_value: m.sales.saturating_sub(m.refunds),
                    average_order_value: money_ratio(m.sales, m.purchases.len() as u64, self.minor),
                    points_issued: m.points_issued,
                    points_redeemed: m.points_redeemed,
                    outstanding: m.outstanding,
                    rfm: None,
                    churn: churn(&days, since, percentile, m.forgotten_at.is_some()),
                }
            })
            .collect();
        score_rfm(&mut rows);
        rows
    }

    pub(crate) fn summary(&self, tiers: &[String], rows: &[MemberRow]) -> Summary {
        let mut flows = Flows::default();
        let mut outstanding = Outstanding::default();
        let mut purchases = 0u64;
        let (mut sales, mut refunds, mut discounts) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        for p in self.a.periods.values() {
            flows.add(&p.flows);
            outstanding.add(&p.outstanding);
            purchases += p.purchases;
            sales = sales.saturating_add(p.sales);
            refunds = refunds.saturating_add(p.refunds);
            discounts = discounts.saturating_add(p.discounts);
        }
        let net = flows.net_issued();
        let ended = flows.redeemed.saturating_add(flows.expired);
        let expected_rate = ratio(Decimal::from(flows.expired), Decimal::from(ended));
        let unheld = outstanding
            .available
            .saturating_add(outstanding.pending)
            .max(0);
        let expected_points = expected_rate
            .and_then(|r| r.checked_mul(Decimal::from(unheld)))
            .map(|p| p.round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven))
            .and_then(|p| i64::try_from(p).ok())
            .unwrap_or(0);
        let liability = self.value(outstanding.total());
        let expected_value = self.value(expected_points);
        let open: Vec<&MemberRow> = rows.iter().filter(|r| !r.closed).collect();
        let mut tier_mix = vec![0u64; tiers.len()];
        for r in &open {
            if let Some(i) = tiers.iter().position(|t| *t == r.tier) {
                tier_mix[i] += 1;
            }
        }
        let buyers: Vec<&MemberRow> = rows.iter().filter(|r| r.purchases > 0).collect();
        let repeat = buyers.iter().filter(|r| r.purchases > 1).count() as u64;
        let ltv = buyers
            .iter()
            .fold(Decimal::ZERO, |s, r| s.saturating_add(r.lifetime_value));
        let mut segments = BTreeMap::new();
        for r in &open {
            if let Some(rfm) = &r.rfm {
                *segments.entry(rfm.segment).or_insert(0u64) += 1;
            }
        }
        Summary {
            flows,
            net_issued: net,
            outstanding,
            liability,
            cost: self.value(net),
            redemption_rate: ratio(Decimal::from(flows.redeemed), Decimal::from(net)),
            breakage_rate: ratio(Decimal::from(flows.expired), Decimal::from(net)),
            expected_breakage_rate: expected_rate,
            expected_breakage_points: expected_points,
            expected_breakage_value: expected_value,
            deferred_revenue: liability.saturating_sub(expected_value),
            members: open.len() as u64,
            tier_mix,
            purchasers: buyers.len() as u64,
            repurchase_rate: count_ratio(repeat, buyers.len() as u64),
            purchases,
            purchase_frequency: count_ratio(purchases, buyers.len() as u64),
            sales,
            refunds,
            discounts,
            average_order_value: money_ratio(sales, purchases, self.minor),
            average_lifetime_value: money_ratio(ltv, buyers.len() as u64, self.minor),
            at_risk: open.iter().filter(|r| r.churn.at_risk).count() as u64,
            segments,
        }
    }
}

/// The churn flag from a member's sorted purchase days.
pub(crate) fn churn(days: &[i64], since: Option<i64>, percentile: i64, closed: bool) -> Churn {
    let quiet = |reason: String| Churn {
        at_risk: false,
        days_since_last: since,
        threshold_days: None,
        reason,
    };
    if closed {
        return quiet("account closed".to_owned());
    }
    let mut gaps: Vec<i64> = days.windows(2).map(|w| w[1] - w[0]).collect();
    if gaps.len() < 2 {
        return quiet(format!(
            "{} purchase(s): at least 3 are needed to know this member's rhythm",
            days.len()
        ));
    }
    gaps.sort_unstable();
    // Nearest rank: the smallest gap with at least `percentile`% of the gaps at or below.
    let n = i64::try_from(gaps.len()).unwrap_or(i64::MAX);
    let rank = (percentile * n + 99) / 100;
    let idx = usize::try_from(rank.clamp(1, n) - 1).unwrap_or(0);
    let threshold = gaps.get(idx).copied().unwrap_or(0);
    let since_days = since.unwrap_or(0);
    let at_risk = since_days > threshold;
    let reason = if at_risk {
        format!(
            "no purchase for {since_days} days; {percentile}% of this member's {} gaps between \
             purchases were at most {threshold} days",
            gaps.len()
        )
    } else {
        format!(
            "last purchase {since_days} days ago, within this member's rhythm ({percentile}% of \
             {} gaps at most {threshold} days)",
            gaps.len()
        )
    };
    Churn {
        at_risk,
        days_since_last: since,
        threshold_days: Some(threshold),
        reason,
    }
}

/// Quintile score 1–5 of each value (higher is better): `1 + 5 × (values strictly worse) / n`,
/// so equal values score the same.
pub(crate) fn quintiles(values: &[Decimal]) -> Vec<u8> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    values
        .iter()
        .map(|v| {
            let worse = sorted.partition_point(|s| s < v);
            u8::try_from(1 + (5 * worse) / n.max(1)).unwrap_or(5).min(5)
        })
        .collect()
}

pub(crate) fn segment(r: u8, f: u8) -> &'static str {
    match (r, f) {
        (4..=5, 4..=5) => "champions",
        (3..=5, 3..=5) => "loyal",
        (4..=5, _) => "new_or_promising",
        (1..=2, 3..=5) => "at_risk",
        (1..=2, _) => "hibernating",
        _ => "needs_attention",
    }
}

pub(crate) fn score_rfm(rows: &mut [MemberRow]) {
    let scored: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.closed && r.purchases > 0 && r.churn.days_since_last.is_some())
        .map(|(i, _)| i)
        .collect();
    let pick = |f: &dyn Fn(&MemberRow) -> Decimal| -> Vec<Decimal> {
        scored.iter().filter_map(|i| rows.get(*i)).map(f).collect()
    };
    let r = quintiles(&pick(&|m| {
        -Decimal::from(m.churn.days_since_last.unwrap_or(0))
    }));
    let f = quintiles(&pick(&|m| Decimal::from(m.purchases)));
    let m = quintiles(&pick(&|m| m.lifetime_value));
    for (k, i) in scored.iter().enumerate() {
        if let Some(row) = rows.get_mut(*i) {
            let (r, f, m) = (r[k], f[k], m[k]);
            row.rfm = Some(Rfm {
                recency_days: row.churn.days_since_last.unwrap_or(0),
                r,
                f,
                m,
                segment: segment(r, f),
            });
        }
    }
}

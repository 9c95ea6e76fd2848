//! The earn of one purchase: exact contributions, rounded once (docs/semantics.md §3).

use crate::book::txn::{set_purchase, Txn};
use crate::calendar::Period;
use crate::error::Result;
use crate::event::{Line, Purchase};
use crate::instant::Instant;
use crate::ledger::{Credit, Journal};
use crate::member::NextDue;
use crate::outcome::{BonusKind, Reason};
use crate::program::{Program, Rounding, RuleSpec, TierMetric};
use crate::purchase::{CapUse, PurchaseRecord, Receipt};
use chrono::{Datelike, Timelike};
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::BTreeMap;

/// One contribution to an earn.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Contribution {
    /// `base`, `rule`, `tier` or `rounding`.
    pub kind: &'static str,
    /// Rule or tier id.
    pub name: Option<String>,
    /// Exact points.
    pub points: Decimal,
}

/// The earn of a purchase.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Earn {
    /// Contributions, then the rounding line; they add up to `points`.
    pub lines: Vec<Contribution>,
    /// Whole points credited.
    pub points: i64,
    /// Eligible spend.
    pub eligible: Decimal,
    /// Contribution of each capped rule (after its cap).
    pub cap_used: BTreeMap<String, Decimal>,
}

/// The facts of a purchase that earning looks at.
pub(crate) struct Basket<'a> {
    pub lines: &'a [Line],
    pub channel: Option<&'a str>,
    pub at: Instant,
    pub tier: usize,
}

pub(crate) fn hundred() -> Decimal {
    Decimal::ONE_HUNDRED
}

/// Whether a line earns at all.
pub(crate) fn eligible(p: &Program, line: &Line) -> bool {
    let e = &p.spec().earning;
    !e.exclude_categories.contains(&line.category) && !e.exclude_skus.contains(&line.sku)
}

pub(crate) fn rule_active(p: &Program, r: &RuleSpec, at: Instant) -> bool {
    let local = at.with_timezone(&p.calendar().tz());
    let date = local.date_naive();
    if r.from.is_some_and(|f| date < f) || r.until.is_some_and(|u| date > u) {
        return false;
    }
    if !r.weekdays.is_empty() && !r.weekdays.contains(&date.weekday()) {
        return false;
    }
    if let Some([from, until]) = r.hours {
        let h = local.hour();
        if h < from || h >= until {
            return false;
        }
    }
    true
}

pub(crate) fn line_matches(r: &RuleSpec, line: &Line) -> bool {
    (r.categories.is_empty() && r.skus.is_empty())
        || r.categories.contains(&line.category)
        || r.skus.contains(&line.sku)
}

/// Computes the earn. `cap_left(rule)` gives what is left of a capped rule's cap.
/// Returns `None` on decimal overflow.
pub(crate) fn earn(
    p: &Program,
    b: &Basket<'_>,
    cap_left: &dyn Fn(&RuleSpec) -> Decimal,
) -> Option<Earn> {
    let spec = p.spec();
    let rate = spec.earning.base_rate;
    let mut eligible_lines: Vec<(&Line, Decimal)> = Vec::with_capacity(b.lines.len());
    let mut base = Decimal::ZERO;
    let mut spend = Decimal::ZERO;
    for line in b.lines.iter().filter(|l| eligible(p, l)) {
        let lb = line.amount.checked_mul(rate)?;
        base = base.checked_add(lb)?;
        spend = spend.checked_add(line.amount)?;
        eligible_lines.push((line, lb));
    }
    // The base, each rule, the tier and the rounding at most.
    let mut lines = Vec::with_capacity(spec.earning.rules.len() + 3);
    lines.push(Contribution {
        kind: "base",
        name: None,
        points: base,
    });
    let mut total = base;
    let mut cap_used = BTreeMap::new();
    let tier_id = p.levels().get(b.tier).map(|l| l.id.as_str()).unwrap_or("");
    for r in &spec.earning.rules {
        if !rule_active(p, r, b.at)
            || (!r.channels.is_empty()
                && !b.channel.is_some_and(|c| r.channels.iter().any(|x| x == c)))
            || (!r.tiers.is_empty() && !r.tiers.iter().any(|t| t == tier_id))
            || r.min_basket.is_some_and(|m| spend < m)
        {
            continue;
        }
        let matching = || eligible_lines.iter().filter(|(l, _)| line_matches(r, l));
        if matching().next().is_none() {
            continue;
        }
        let mut c = if let Some(pct) = r.bonus_percent {
            let mut s = Decimal::ZERO;
            for (_, lb) in matching() {
                s = s.checked_add(*lb)?;
            }
            s.checked_mul(pct)?.checked_div(hundred())?
        } else if let Some(ppu) = r.points_per_unit {
            let units: u64 = matching().map(|(l, _)| u64::from(l.quantity)).sum();
            Decimal::from(units).checked_mul(Decimal::from(ppu))?
        } else {
            Decimal::from(r.bonus_points.unwrap_or(0))
        };
        if r.cap.is_some() {
            let left = cap_left(r).max(Decimal::ZERO);
            c = c.min(left);
            cap_used.insert(r.id.clone(), c);
        }
        total = total.checked_add(c)?;
        lines.push(Contribution {
            kind: "rule",
            name: Some(r.id.clone()),
            points: c,
        });
    }
    if let Some(level) = p.levels().get(b.tier) {
        if !level.bonus_percent.is_zero() {
            let c = base
                .checked_mul(level.bonus_percent)?
                .checked_div(hundred())?;
            total = total.checked_add(c)?;
            lines.push(Contribution {
                kind: "tier",
                name: Some(level.id.clone()),
                points: c,
            });
        }
    }
    let strategy = match spec.rounding {
        Rounding::Floor => RoundingStrategy::ToNegativeInfinity,
        Rounding::Ceil => RoundingStrategy::ToPositiveInfinity,
        Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
        Rounding::HalfUp => RoundingStrategy::MidpointAwayFromZero,
    };
    let rounded = total.round_dp_with_strategy(0, strategy);
    lines.push(Contribution {
        kind: "rounding",
        name: None,
        points: rounded.checked_sub(total)?.normalize(),
    });
    let points = i64::try_from(rounded.mantissa() / 10i128.pow(rounded.scale())).ok()?;
    Some(Earn {
        lines,
        points,
        eligible: spend,
        cap_used,
    })
}

pub(crate) fn compute_earn(
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
    earn(p, &basket, cap_left).ok_or_else(|| j.overflow())
}

pub(crate) fn rule_cap(rule: &crate::program::RuleSpec) -> Decimal {
    rule.cap
        .as_ref()
        .map(|c| Decimal::from(c.points))
        .unwrap_or_default()
}

/// The cap usage key of a rule at an instant: `rule@period-start` or `rule@life`.
pub(crate) fn cap_key(p: &Program, rule: &impl RuleIdent, at: Instant) -> String {
    let (id, per) = rule.ident(p);
    let cal = p.calendar();
    match per.and_then(|per| cal.period_start(per, cal.date(at))) {
        Some(start) => format!("{id}@{start}"),
        None => format!("{id}@life"),
    }
}

pub(crate) trait RuleIdent {
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

impl Txn<'_> {
    pub(crate) fn purchase(&mut self, e: &Purchase) -> Result<()> {
        let p = self.p;
        let j = &mut self.j;
        let mut m = self.book.open(p, j, &e.member, e.at)?;
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
            let credit = Credit {
                points: earn.points,
                origin: Reason::Earn,
                source: &e.id,
                earned_at: e.at,
                pending: true,
            };
            let seq = m.credit(p, j, now, credit)?;
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
        m.add_metric(p, j, e.at, metric)?;
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
            m.bonus(
                p,
                j,
                now,
                bonuses.first_purchase,
                BonusKind::FirstPurchase,
                &e.id,
            )?;
        }
        if let (Some(referral), Some(referrer)) = (&bonuses.referral, m.referred_by.clone()) {
            if !m.referral_paid && visit && earn.eligible >= referral.min_spend {
                m.referral_paid = true;
                m.bonus(p, j, now, referral.referee, BonusKind::Referee, &e.id)?;
                let r = self.book.touch(j, &referrer)?;
                if !r.closed {
                    let at = now.max(r.clock);
                    r.catch_up(p, j, at)?;
                    r.bonus(p, j, at, referral.referrer, BonusKind::Referrer, &e.id)?;
                    // Credited after its catch-up: what is next due is to be looked up again.
                    r.due = NextDue::UNKNOWN;
                }
                r.drop_empty_lots();
                m = self.book.touch(j, &e.member)?;
            }
        }
        m.upgrade_tier(p, j, now);
        m.finish(p, j)
    }
}

//! What if: two analyses of the same history side by side.

use super::rows::{Analysis, MemberRow};
use crate::ids::MemberId;
use crate::money::opt_decimal_string;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// What a headline metric counts, so a report can format it (`1,234 points`, `USD 12.34`,
/// `24.0%`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A number of points.
    Points,
    /// Money in the program's currency.
    Money,
    /// A ratio (0.2399 is 23.99%).
    Rate,
    /// A number of events.
    Events,
}

/// One headline metric under both programs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricRow {
    /// Metric name (`points_issued`, `cost`, …).
    pub metric: &'static str,
    /// What it counts.
    pub unit: Unit,
    /// Under program A.
    #[serde(with = "opt_decimal_string")]
    pub a: Option<Decimal>,
    /// Under program B.
    #[serde(with = "opt_decimal_string")]
    pub b: Option<Decimal>,
    /// `b − a` (absent when either is).
    #[serde(with = "opt_decimal_string")]
    pub delta: Option<Decimal>,
}

/// Members in a tier under both programs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TierMixRow {
    /// Tier id.
    pub tier: String,
    /// Members under A.
    pub a: u64,
    /// Members under B.
    pub b: u64,
}

/// Members who end in tier `from` under A and `to` under B.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TierMove {
    /// Tier under A.
    pub from: String,
    /// Tier under B.
    pub to: String,
    /// How many members.
    pub members: u64,
}

/// A member whose points differ between the programs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Affected {
    /// Member.
    pub member: MemberId,
    /// Points issued (net) under A.
    pub points_a: i64,
    /// Under B.
    pub points_b: i64,
    /// `points_b − points_a`.
    pub delta: i64,
    /// Tier under A.
    pub tier_a: String,
    /// Tier under B.
    pub tier_b: String,
}

/// Two programs over the same history, side by side.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// Program A's name.
    pub a: String,
    /// Program B's name.
    pub b: String,
    /// Headline metrics.
    pub metrics: Vec<MetricRow>,
    /// Tier mix at the end (tiers of A, then those only B has).
    pub tier_mix: Vec<TierMixRow>,
    /// Members who would end in another tier under B, by (A tier, B tier).
    pub tier_moves: Vec<TierMove>,
    /// How many members would end in another tier.
    pub members_changing_tier: u64,
    /// Members whose points or tier differ: those who would end in another tier first, then
    /// the largest differences in points first (ties by id).
    pub most_affected: Vec<Affected>,
}

impl Comparison {
    /// True when the two programs give the same numbers on this history.
    pub fn is_identical(&self) -> bool {
        self.metrics.iter().all(|m| m.a == m.b)
            && self.tier_mix.iter().all(|t| t.a == t.b)
            && self.tier_moves.is_empty()
            && self.most_affected.is_empty()
    }
}

/// The headline metrics: name, what it counts, value.
pub(crate) fn headline(a: &Analysis) -> Vec<(&'static str, Unit, Option<Decimal>)> {
    let s = &a.summary;
    let p = |n: i64| Some(Decimal::from(n));
    vec![
        ("points_issued", Unit::Points, p(s.net_issued)),
        ("cost", Unit::Money, Some(s.cost)),
        ("points_redeemed", Unit::Points, p(s.flows.redeemed)),
        ("points_expired", Unit::Points, p(s.flows.expired)),
        ("points_outstanding", Unit::Points, p(s.outstanding.total())),
        ("liability", Unit::Money, Some(s.liability)),
        ("redemption_rate", Unit::Rate, s.redemption_rate),
        ("breakage_rate", Unit::Rate, s.breakage_rate),
        (
            "expected_breakage_value",
            Unit::Money,
            Some(s.expected_breakage_value),
        ),
        ("deferred_revenue", Unit::Money, Some(s.deferred_revenue)),
        ("discounts", Unit::Money, Some(s.discounts)),
        (
            "rejected_events",
            Unit::Events,
            Some(Decimal::from(a.events.rejected)),
        ),
    ]
}

/// Compares two analyses of the same history; `top` bounds `most_affected`. Money deltas
/// are left out when the programs' currencies differ.
pub fn compare(a: &Analysis, b: &Analysis, top: usize) -> Comparison {
    let same_currency = a.currency == b.currency;
    let metrics = headline(a)
        .into_iter()
        .zip(headline(b))
        .map(|((metric, unit, x), (_, _, y))| MetricRow {
            metric,
            unit,
            a: x,
            b: y,
            delta: x
                .zip(y)
                .filter(|_| same_currency || unit != Unit::Money)
                .map(|(x, y)| y.saturating_sub(x)),
        })
        .collect();
    let mut tiers: Vec<&String> = a.tiers.iter().collect();
    tiers.extend(b.tiers.iter().filter(|t| !a.tiers.contains(t)));
    let mix = |x: &Analysis, t: &String| {
        x.tiers
            .iter()
            .position(|s| s == t)
            .and_then(|i| x.summary.tier_mix.get(i).copied())
            .unwrap_or(0)
    };
    let tier_mix = tiers
        .iter()
        .map(|t| TierMixRow {
            tier: (*t).clone(),
            a: mix(a, t),
            b: mix(b, t),
        })
        .collect();
    let by_id: HashMap<&MemberId, &MemberRow> = b.members.iter().map(|m| (&m.member, m)).collect();
    let mut moves: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut affected = Vec::new();
    for x in &a.members {
        let Some(y) = by_id.get(&x.member) else {
            continue;
        };
        if x.tier != y.tier && !x.closed && !y.closed {
            *moves.entry((x.tier.clone(), y.tier.clone())).or_insert(0) += 1;
        }
        if x.points_issued != y.points_issued || x.tier != y.tier {
            affected.push(Affected {
                member: x.member.clone(),
                points_a: x.points_issued,
                points_b: y.points_issued,
                delta: y.points_issued.saturating_sub(x.points_issued),
                tier_a: x.tier.clone(),
                tier_b: y.tier.clone(),
            });
        }
    }
    // A member who changes tier is the story of a what-if, whatever their points: first.
    affected.sort_by(|p, q| {
        let moves = |m: &Affected| m.tier_a != m.tier_b;
        moves(q)
            .cmp(&moves(p))
            .then_with(|| q.delta.unsigned_abs().cmp(&p.delta.unsigned_abs()))
            .then_with(|| p.member.cmp(&q.member))
    });
    affected.truncate(top);
    let members_changing_tier = moves.values().sum();
    Comparison {
        a: a.program.clone(),
        b: b.program.clone(),
        metrics,
        tier_mix,
        tier_moves: moves
            .into_iter()
            .map(|((from, to), members)| TierMove { from, to, members })
            .collect(),
        members_changing_tier,
        most_affected: affected,
    }
}

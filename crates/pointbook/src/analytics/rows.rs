//! What an analysis returns: the summary, a row per period and a row per member, each
//! field defined in `docs/analytics.md`.

use crate::calendar::Period;
use crate::ids::MemberId;
use crate::instant::Instant;
use crate::money::{decimal_string, opt_decimal_string};
use crate::outcome::Account;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// How the replayed events fared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EventCounts {
    /// Applied (each changed the book).
    pub applied: u64,
    /// Resends of applied events (nothing changed).
    pub duplicates: u64,
    /// Rejected (nothing changed).
    pub rejected: u64,
}

/// Points moved between members and the program, in a period or in total. Every field is
/// a count of points, never negative.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Flows {
    /// Credited to members (earn, bonuses, positive adjustments).
    pub issued: i64,
    /// Taken back from members by refunds and negative adjustments.
    pub reversed: i64,
    /// Members' debts written off when they were forgotten (credited back to them).
    pub forgiven: i64,
    /// Reversals members could not cover, written off instead of leaving a debt (they
    /// never left the members, so they do not change what is outstanding).
    pub written_off: i64,
    /// Spent on rewards.
    pub redeemed: i64,
    /// Expired (breakage).
    pub expired: i64,
    /// Lost by forgotten members.
    pub forfeited: i64,
}

impl Flows {
    /// Points issued net of reversals: `issued − reversed + forgiven`. At every instant it
    /// equals `redeemed + expired + forfeited + outstanding`.
    pub fn net_issued(&self) -> i64 {
        self.issued
            .saturating_sub(self.reversed)
            .saturating_add(self.forgiven)
    }

    pub(crate) fn add(&mut self, o: &Flows) {
        self.issued = self.issued.saturating_add(o.issued);
        self.reversed = self.reversed.saturating_add(o.reversed);
        self.forgiven = self.forgiven.saturating_add(o.forgiven);
        self.written_off = self.written_off.saturating_add(o.written_off);
        self.redeemed = self.redeemed.saturating_add(o.redeemed);
        self.expired = self.expired.saturating_add(o.expired);
        self.forfeited = self.forfeited.saturating_add(o.forfeited);
    }
}

/// Points members hold: the program's liability in points.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Outstanding {
    /// Available points, net of debts.
    pub available: i64,
    /// Points in the return window.
    pub pending: i64,
    /// Points reserved by holds.
    pub held: i64,
}

impl Outstanding {
    /// `available + pending + held`.
    pub fn total(&self) -> i64 {
        self.available
            .saturating_add(self.pending)
            .saturating_add(self.held)
    }

    pub(crate) fn add(&mut self, o: &Outstanding) {
        self.available = self.available.saturating_add(o.available);
        self.pending = self.pending.saturating_add(o.pending);
        self.held = self.held.saturating_add(o.held);
    }

    pub(crate) fn slot(&mut self, account: &Account) -> Option<&mut i64> {
        match account {
            Account::Available(_) => Some(&mut self.available),
            Account::Pending(_) => Some(&mut self.pending),
            Account::Held(_) => Some(&mut self.held),
            _ => None,
        }
    }
}

/// One reporting period: its flows, and the standing at its end.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PeriodRow {
    /// The period's name: `2026-W11`, `2026-03`, `2026-Q1` or `2026` ([`Period::label`]).
    pub label: String,
    /// First local date of the period.
    pub start: NaiveDate,
    /// Last local date of the period (the day before the next period's start, or the
    /// analysis instant's date for the last period).
    pub last: NaiveDate,
    /// The instant the period ends (00:00 local on the next period's first date), or the
    /// analysis instant for the last period, if earlier.
    pub end: Instant,
    /// Points moved during the period.
    pub flows: Flows,
    /// Points outstanding at the end.
    pub outstanding: Outstanding,
    /// Money value of what is outstanding at the end (`outstanding × point_value`).
    #[serde(with = "decimal_string")]
    pub liability: Decimal,
    /// Members enrolled and not forgotten at the end.
    pub members: u64,
    /// Members enrolled during the period.
    pub enrolled: u64,
    /// Members forgotten during the period.
    pub forgotten: u64,
    /// Members per tier at the end, in the program's level order.
    pub tier_mix: Vec<u64>,
    /// Tier changes upwards during the period.
    pub tier_ups: u64,
    /// Tier changes downwards during the period.
    pub tier_downs: u64,
    /// Active members at the start.
    pub active_start: u64,
    /// Active members at the end.
    pub active_end: u64,
    /// Members enrolled during the period and active at its end.
    pub active_new: u64,
    /// Customer retention rate `(active_end − active_new) / active_start`.
    #[serde(with = "opt_decimal_string")]
    pub retention_rate: Option<Decimal>,
    /// Members who bought during the period.
    pub purchasers: u64,
    /// Of them, members who had bought before the period.
    pub returning_purchasers: u64,
    /// `returning_purchasers / purchasers`.
    #[serde(with = "opt_decimal_string")]
    pub repurchase_rate: Option<Decimal>,
    /// Purchases during the period.
    pub purchases: u64,
    /// `purchases / purchasers`.
    #[serde(with = "opt_decimal_string")]
    pub purchase_frequency: Option<Decimal>,
    /// What purchases during the period paid (every line, excluded categories included).
    #[serde(with = "decimal_string")]
    pub sales: Decimal,
    /// Money refunded during the period.
    #[serde(with = "decimal_string")]
    pub refunds: Decimal,
    /// Money rewards took off orders during the period (docs/semantics.md §13), counted when
    /// the reward is issued.
    #[serde(with = "decimal_string")]
    pub discounts: Decimal,
    /// Average order value `sales / purchases`, in minor units of the currency.
    #[serde(with = "opt_decimal_string")]
    pub average_order_value: Option<Decimal>,
}

/// A member's RFM scores (1 worst to 5 best, by quintile among members who bought).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rfm {
    /// Local days from the last purchase to the analysis instant.
    pub recency_days: i64,
    /// Recency score (fewer days is better).
    pub r: u8,
    /// Frequency score (more purchases is better).
    pub f: u8,
    /// Monetary score (more net revenue is better).
    pub m: u8,
    /// Segment named from `r` and `f` (see the docs).
    pub segment: &'static str,
}

/// A member's churn-risk flag, with why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Churn {
    /// True when the member has gone quiet for longer than their own rhythm suggests.
    pub at_risk: bool,
    /// Local days from the last purchase to the analysis instant.
    pub days_since_last: Option<i64>,
    /// The chosen percentile of the member's gaps between purchases, in days.
    pub threshold_days: Option<i64>,
    /// The reason, in words.
    pub reason: String,
}

/// One member's metrics at the analysis instant.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemberRow {
    /// Member.
    pub member: MemberId,
    /// Tier at the analysis instant.
    pub tier: String,
    /// When the member enrolled.
    pub enrolled_at: Option<Instant>,
    /// Forgotten (account closed).
    pub closed: bool,
    /// Purchases.
    pub purchases: u64,
    /// First purchase.
    pub first_purchase: Option<Instant>,
    /// Last purchase.
    pub last_purchase: Option<Instant>,
    /// What the member's purchases paid.
    #[serde(with = "decimal_string")]
    pub sales: Decimal,
    /// What was refunded to the member.
    #[serde(with = "decimal_string")]
    pub refunds: Decimal,
    /// Historical customer lifetime value: `sales − refunds`.
    #[serde(with = "decimal_string")]
    pub lifetime_value: Decimal,
    /// `sales / purchases`, in minor units.
    #[serde(with = "opt_decimal_string")]
    pub average_order_value: Option<Decimal>,
    /// Points credited to the member net of reversals (`issued − reversed + forgiven`).
    pub points_issued: i64,
    /// Points the member spent on rewards.
    pub points_redeemed: i64,
    /// Points the member holds.
    pub outstanding: Outstanding,
    /// RFM scores (members who bought and are not forgotten).
    pub rfm: Option<Rfm>,
    /// Churn risk.
    pub churn: Churn,
}

/// The headline numbers at the analysis instant.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Every flow since the first event.
    pub flows: Flows,
    /// `flows.net_issued()`.
    pub net_issued: i64,
    /// Points outstanding.
    pub outstanding: Outstanding,
    /// Money value of the outstanding points.
    #[serde(with = "decimal_string")]
    pub liability: Decimal,
    /// Money value of the points issued net (`net_issued × point_value`): the program's
    /// cost in points.
    #[serde(with = "decimal_string")]
    pub cost: Decimal,
    /// `redeemed / net_issued`.
    #[serde(with = "opt_decimal_string")]
    pub redemption_rate: Option<Decimal>,
    /// Realised breakage: `expired / net_issued`.
    #[serde(with = "opt_decimal_string")]
    pub breakage_rate: Option<Decimal>,
    /// Ultimate breakage estimated from the history: of the points that reached an end by
    /// the member's choice or by time, the share that expired: `expired / (redeemed +
    /// expired)`.
    #[serde(with = "opt_decimal_string")]
    pub expected_breakage_rate: Option<Decimal>,
    /// Points of `available + pending` expected to expire, at `expected_breakage_rate`
    /// (held points are expected to be redeemed), rounded half to even.
    pub expected_breakage_points: i64,
    /// Their money value.
    #[serde(with = "decimal_string")]
    pub expected_breakage_value: Decimal,
    /// What finance defers as revenue: the liability less expected breakage.
    #[serde(with = "decimal_string")]
    pub deferred_revenue: Decimal,
    /// Members enrolled and not forgotten.
    pub members: u64,
    /// Members per tier, in the program's level order.
    pub tier_mix: Vec<u64>,
    /// Members who ever bought.
    pub purchasers: u64,
    /// `members with 2+ purchases / members with 1+`.
    #[serde(with = "opt_decimal_string")]
    pub repurchase_rate: Option<Decimal>,
    /// Purchases.
    pub purchases: u64,
    /// `purchases / purchasers`.
    #[serde(with = "opt_decimal_string")]
    pub purchase_frequency: Option<Decimal>,
    /// What all purchases paid.
    #[serde(with = "decimal_string")]
    pub sales: Decimal,
    /// What was refunded.
    #[serde(with = "decimal_string")]
    pub refunds: Decimal,
    /// Money rewards took off orders.
    #[serde(with = "decimal_string")]
    pub discounts: Decimal,
    /// `sales / purchases`, in minor units.
    #[serde(with = "opt_decimal_string")]
    pub average_order_value: Option<Decimal>,
    /// Mean historical lifetime value over purchasers, in minor units.
    #[serde(with = "opt_decimal_string")]
    pub average_lifetime_value: Option<Decimal>,
    /// Members flagged at churn risk.
    pub at_risk: u64,
    /// Members per RFM segment.
    pub segments: BTreeMap<&'static str, u64>,
}

/// The analysis of one program over one history.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Analysis {
    /// The program's name.
    pub program: String,
    /// Its currency.
    pub currency: String,
    /// Money value of one point.
    #[serde(with = "decimal_string")]
    pub point_value: Decimal,
    /// Tier ids in level order (the order of every `tier_mix`).
    pub tiers: Vec<String>,
    /// The reporting period.
    pub period: Period,
    /// The instant the analysis is taken at.
    pub as_of: Option<Instant>,
    /// How the events fared.
    pub events: EventCounts,
    /// One row per period, from the first event's period to the analysis instant's.
    pub periods: Vec<PeriodRow>,
    /// Headline numbers.
    pub summary: Summary,
    /// One row per member, sorted by id.
    pub members: Vec<MemberRow>,
}

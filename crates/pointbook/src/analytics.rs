//! Loyalty analytics: liability and breakage, member metrics, and what-if comparison.
//!
//! An [`Analyzer`] replays events into its own [`Book`] and watches every outcome: postings
//! give the point flows and balances per period, effects give the tier moves, the events
//! give the money. [`Analyzer::finish`] brings the book up to the analysis instant and
//! returns an [`Analysis`]; [`compare`] sets two analyses of the same history side by side.
//! Every definition and formula is written out in `docs/analytics.md`.
//!
//! ```
//! use pointbook::analytics::{analyze, Options};
//! use pointbook::{Event, Program};
//!
//! let program = Program::from_toml(pointbook::samples::BEAN_AND_LEAF)?;
//! let events = [
//!     r#"{"type":"enroll","id":"e1","member":"m1","at":"2026-01-10T15:00:00Z"}"#,
//!     r#"{"type":"purchase","id":"p1","member":"m1","at":"2026-02-01T15:00:00Z",
//!         "lines":[{"sku":"BEANS","category":"coffee","amount":"100.00"}]}"#,
//! ];
//! let events = events.iter().map(|e| Event::from_json(e)).collect::<Result<Vec<_>, _>>()?;
//! let analysis = analyze(program, &events, Options::default())?;
//! assert_eq!(analysis.summary.flows.issued, 125); // 25 signup + 100 earned
//! assert_eq!(analysis.summary.liability.to_string(), "1.25");
//! assert_eq!(analysis.periods.len(), 2); // January and February 2026
//! # Ok::<(), pointbook::Error>(())
//! ```

use crate::book::Book;
use crate::calendar::{day_number, Calendar, Period};
use crate::error::{Error, Result};
use crate::event::Event;
use crate::ids::{EventId, MemberId};
use crate::instant::Instant;
use crate::money::{decimal_string, opt_decimal_string};
use crate::outcome::{Account, Effect, Outcome, Posting};
use crate::program::Program;
use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Decimal places of every ratio (rates, averages of counts), rounded half to even.
pub const RATIO_PLACES: u32 = 4;

/// What the analysis measures and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// The reporting period (week, month, quarter or year, in the program's time zone).
    pub period: Period,
    /// A member is *active* at an instant when they made a purchase in the `active_days`
    /// local days before it.
    pub active_days: u32,
    /// Churn risk: a member is at risk when the days since the last purchase exceed this
    /// percentile (1–100) of their own gaps between purchases.
    pub churn_percentile: u32,
    /// The instant the analysis is taken at; the last event's instant when absent or
    /// earlier.
    pub as_of: Option<Instant>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            period: Period::Month,
            active_days: 90,
            churn_percentile: 90,
            as_of: None,
        }
    }
}

impl Options {
    /// Parses a reporting period by name: `week`, `month`, `quarter` or `year`.
    ///
    /// ```
    /// use pointbook::analytics::Options;
    /// use pointbook::calendar::Period;
    /// assert_eq!(Options::period_named("quarter")?, Period::Quarter);
    /// assert_eq!(Options::period_named("fortnight").unwrap_err().code(), "invalid_options");
    /// # Ok::<(), pointbook::Error>(())
    /// ```
    pub fn period_named(name: &str) -> Result<Period> {
        match name {
            "week" => Ok(Period::Week),
            "month" => Ok(Period::Month),
            "quarter" => Ok(Period::Quarter),
            "year" => Ok(Period::Year),
            _ => Err(Error::InvalidOptions {
                message: format!(
                    "analytics option period: {name:?}: use week, month, quarter or year"
                ),
            }),
        }
    }

    /// Options from JSON, every field optional: `{"period": "quarter", "as_of":
    /// "2027-01-01T00:00:00Z", "active_days": 60, "churn_percentile": 80}` (the C ABI's form).
    /// Unknown fields are rejected.
    ///
    /// ```
    /// use pointbook::analytics::Options;
    /// let o = Options::from_json(r#"{"period":"year","active_days":30}"#)?;
    /// assert_eq!((o.period, o.active_days, o.churn_percentile), (pointbook::calendar::Period::Year, 30, 90));
    /// assert_eq!(Options::from_json(r#"{"perod":"year"}"#).unwrap_err().code(), "invalid_options");
    /// # Ok::<(), pointbook::Error>(())
    /// ```
    pub fn from_json(text: &str) -> Result<Options> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            period: Option<String>,
            as_of: Option<Instant>,
            active_days: Option<u32>,
            churn_percentile: Option<u32>,
        }
        let w: Wire = serde_json::from_str(text).map_err(|e| Error::InvalidOptions {
            message: format!("analytics options: {e}"),
        })?;
        let d = Options::default();
        let options = Options {
            period: match w.period {
                Some(p) => Options::period_named(&p)?,
                None => d.period,
            },
            as_of: w.as_of,
            active_days: w.active_days.unwrap_or(d.active_days),
            churn_percentile: w.churn_percentile.unwrap_or(d.churn_percentile),
        };
        options.check()?;
        Ok(options)
    }

    fn check(&self) -> Result<()> {
        let bad = |field: &str, message: &str| {
            Err(Error::InvalidOptions {
                message: format!("analytics option {field}: {message}"),
            })
        };
        if matches!(self.period, Period::Day | Period::Life) {
            return bad("period", "must be week, month, quarter or year");
        }
        if self.active_days == 0 {
            return bad("active_days", "must be at least 1");
        }
        if !(1..=100).contains(&self.churn_percentile) {
            return bad("churn_percentile", "must be 1 to 100");
        }
        Ok(())
    }
}

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

    fn add(&mut self, o: &Flows) {
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

    fn add(&mut self, o: &Outstanding) {
        self.available = self.available.saturating_add(o.available);
        self.pending = self.pending.saturating_add(o.pending);
        self.held = self.held.saturating_add(o.held);
    }

    fn slot(&mut self, account: &Account) -> Option<&mut i64> {
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
    /// First local date of the period.
    pub start: NaiveDate,
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

#[derive(Clone, Debug, Default)]
struct PeriodAcc {
    flows: Flows,
    outstanding: Outstanding,
    enrolled: u64,
    forgotten: u64,
    tier_delta: Vec<i64>,
    tier_ups: u64,
    tier_downs: u64,
    purchases: u64,
    sales: Decimal,
    refunds: Decimal,
}

#[derive(Clone, Debug, Default)]
struct MemberAcc {
    enrolled_at: Option<Instant>,
    forgotten_at: Option<Instant>,
    tier: usize,
    purchases: Vec<Instant>,
    sales: Decimal,
    refunds: Decimal,
    points_issued: i64,
    points_redeemed: i64,
    outstanding: Outstanding,
    /// The latest instant of anything seen for the member (its clock, near enough).
    last_seen: Option<Instant>,
}

/// Replays events into a book of its own and accumulates the analytics.
#[derive(Clone, Debug)]
pub struct Analyzer {
    book: Book,
    options: Options,
    first: Option<Instant>,
    periods: BTreeMap<NaiveDate, PeriodAcc>,
    members: HashMap<MemberId, MemberAcc>,
    counts: EventCounts,
}

impl Analyzer {
    /// An analyzer with an empty book. Fails on options out of range.
    pub fn new(program: Program, options: Options) -> Result<Analyzer> {
        options.check()?;
        Ok(Analyzer {
            book: Book::new(program),
            options,
            first: None,
            periods: BTreeMap::new(),
            members: HashMap::new(),
            counts: EventCounts::default(),
        })
    }

    /// The book the events go into.
    pub fn book(&self) -> &Book {
        &self.book
    }

    /// Applies an event to the book and records what it did. Rejections are counted and
    /// returned; they change nothing.
    pub fn apply(&mut self, event: &Event) -> Result<Outcome> {
        let before = match event {
            Event::Refund(r) => self.book.purchase_amount(&r.member, &r.purchase),
            _ => None,
        };
        match self.book.apply(event) {
            Err(e) => {
                self.counts.rejected += 1;
                Err(e)
            }
            Ok(o) if o.duplicate => {
                self.counts.duplicates += 1;
                Ok(o)
            }
            Ok(o) => {
                self.counts.applied += 1;
                self.observe(event, &o, before);
                Ok(o)
            }
        }
    }

    /// Parses one JSON event and applies it; an unreadable event counts as rejected.
    pub fn apply_json(&mut self, json: &str) -> Result<Outcome> {
        self.apply_read(Event::from_json(json))
    }

    /// Applies an event as it was read: one that could not be read (a malformed line or row)
    /// counts as rejected.
    pub fn apply_read(&mut self, event: Result<Event>) -> Result<Outcome> {
        match event {
            Ok(e) => self.apply(&e),
            Err(e) => {
                self.counts.rejected += 1;
                Err(e)
            }
        }
    }

    /// Counts an event a binding could not even read (a malformed row) as rejected.
    pub fn count_unreadable(&mut self) {
        self.counts.rejected += 1;
    }

    fn key(&self, t: Instant) -> NaiveDate {
        let cal = self.book.program().calendar();
        let d = cal.date(t);
        cal.period_start(self.options.period, d).unwrap_or(d)
    }

    fn period(&mut self, t: Instant) -> &mut PeriodAcc {
        let levels = self.book.program().levels().len();
        let key = self.key(t);
        let p = self.periods.entry(key).or_default();
        if p.tier_delta.len() < levels {
            p.tier_delta.resize(levels, 0);
        }
        p
    }

    fn observe(&mut self, event: &Event, outcome: &Outcome, refundable_before: Option<Decimal>) {
        let at = event.at();
        self.first = Some(self.first.map_or(at, |f| f.min(at)));
        // A late forget closes the account now, not in the past: after everything already
        // counted for the member (its enrollment, its tier changes).
        let forgotten_at = match event {
            Event::Forget(e) => self
                .members
                .get(&e.member)
                .and_then(|m| m.last_seen)
                .map_or(at, |seen| seen.max(at)),
            _ => at,
        };
        for p in &outcome.postings {
            self.post(p);
        }
        for e in &outcome.effects {
            if let Effect::TierChanged { member, to, at, .. } = e {
                let to = self.book.program().level_index(to).unwrap_or(0);
                let from = self.members.get(member).map_or(0, |m| m.tier);
                let p = self.period(*at);
                if let (Some(f), Some(t)) = (p.tier_delta.get_mut(from), Some(to)) {
                    *f -= 1;
                    if let Some(t) = p.tier_delta.get_mut(t) {
                        *t += 1;
                    }
                }
                if to > from {
                    p.tier_ups += 1;
                } else {
                    p.tier_downs += 1;
                }
                let m = self.members.entry(member.clone()).or_default();
                m.tier = to;
                m.last_seen = Some(m.last_seen.map_or(*at, |s| s.max(*at)));
            }
        }
        match event {
            Event::Enroll(e) => {
                let p = self.period(at);
                p.enrolled += 1;
                if let Some(lowest) = p.tier_delta.first_mut() {
                    *lowest += 1;
                }
                let m = self.members.entry(e.member.clone()).or_default();
                m.enrolled_at = Some(at);
            }
            Event::Forget(e) => {
                let tier = self.members.get(&e.member).map_or(0, |m| m.tier);
                let p = self.period(forgotten_at);
                p.forgotten += 1;
                if let Some(t) = p.tier_delta.get_mut(tier) {
                    *t -= 1;
                }
                self.members
                    .entry(e.member.clone())
                    .or_default()
                    .forgotten_at = Some(forgotten_at);
            }
            Event::Purchase(e) => {
                let amount = e
                    .lines
                    .iter()
                    .fold(Decimal::ZERO, |s, l| s.saturating_add(l.amount));
                let p = self.period(at);
                p.purchases += 1;
                p.sales = p.sales.saturating_add(amount);
                let m = self.members.entry(e.member.clone()).or_default();
                m.purchases.push(at);
                m.sales = m.sales.saturating_add(amount);
            }
            Event::Refund(e) => {
                let after = self
                    .book
                    .purchase_amount(&e.member, &e.purchase)
                    .unwrap_or(Decimal::ZERO);
                let amount = refundable_before
                    .unwrap_or(Decimal::ZERO)
                    .saturating_sub(after)
                    .max(Decimal::ZERO);
                let p = self.period(at);
                p.refunds = p.refunds.saturating_add(amount);
                let m = self.members.entry(e.member.clone()).or_default();
                m.refunds = m.refunds.saturating_add(amount);
            }
            _ => {}
        }
        if let Some(id) = event.member() {
            if let Some(m) = self.members.get_mut(id) {
                m.last_seen = Some(m.last_seen.map_or(at, |s| s.max(at)));
            }
        }
    }

    fn post(&mut self, posting: &Posting) {
        let n = posting.points.get();
        let (from, to) = (&posting.from, &posting.to);
        let mut flows = Flows::default();
        let mut member_issued = 0i64;
        match (from, to) {
            (Account::Issued, t) if member_of(t).is_some() => {
                flows.issued = n;
                member_issued = n;
            }
            (f, Account::Issued) if member_of(f).is_some() => {
                flows.reversed = n;
                member_issued = -n;
            }
            (Account::Forgiven, Account::Issued) => flows.written_off = n,
            (Account::Forgiven, t) if member_of(t).is_some() => {
                flows.forgiven = n;
                member_issued = n;
            }
            (_, Account::Redeemed) => flows.redeemed = n,
            (_, Account::Expired) => flows.expired = n,
            (_, Account::Forfeited) => flows.forfeited = n,
            _ => {}
        }
        let p = self.period(posting.at);
        p.flows.add(&flows);
        if let Some(s) = p.outstanding.slot(from) {
            *s = s.saturating_sub(n);
        }
        if let Some(s) = p.outstanding.slot(to) {
            *s = s.saturating_add(n);
        }
        for (account, sign) in [(from, -1i64), (to, 1i64)] {
            if let Some(id) = member_of(account) {
                let m = self.members.entry(id.clone()).or_default();
                if let Some(s) = m.outstanding.slot(account) {
                    *s = s.saturating_add(sign * n);
                }
            }
        }
        if let Some(id) = member_of(to).or_else(|| member_of(from)) {
            let m = self.members.entry(id.clone()).or_default();
            m.points_issued = m.points_issued.saturating_add(member_issued);
            m.points_redeemed = m.points_redeemed.saturating_add(flows.redeemed);
        }
    }

    /// Brings the book up to the analysis instant (an `advance`, so that everything due —
    /// maturation, expiry, hold lapses, tier boundaries — is counted) and computes the
    /// analysis.
    pub fn finish(mut self) -> Analysis {
        let as_of = self
            .book
            .clock()
            .map(|c| self.options.as_of.map_or(c, |a| a.max(c)));
        if let Some(t) = as_of {
            let advance = Event::Advance(crate::event::Advance {
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

/// Replays `events` under `program` and analyses the result. Rejected events are counted
/// in [`Analysis::events`]; only bad options fail.
pub fn analyze<'a>(
    program: Program,
    events: impl IntoIterator<Item = &'a Event>,
    options: Options,
) -> Result<Analysis> {
    let mut analyzer = Analyzer::new(program, options)?;
    for e in events {
        let _ = analyzer.apply(e);
    }
    Ok(analyzer.finish())
}

fn member_of(a: &Account) -> Option<&MemberId> {
    match a {
        Account::Available(m) | Account::Pending(m) | Account::Held(m) => Some(m),
        _ => None,
    }
}

/// `n / d` rounded to [`RATIO_PLACES`], or `None` when `d` is zero.
fn ratio(n: Decimal, d: Decimal) -> Option<Decimal> {
    n.checked_div(d)
        .map(|r| r.round_dp_with_strategy(RATIO_PLACES, RoundingStrategy::MidpointNearestEven))
}

fn count_ratio(n: u64, d: u64) -> Option<Decimal> {
    ratio(Decimal::from(n), Decimal::from(d))
}

fn money_ratio(n: Decimal, d: u64, minor: u32) -> Option<Decimal> {
    n.checked_div(Decimal::from(d))
        .map(|r| r.round_dp_with_strategy(minor, RoundingStrategy::MidpointNearestEven))
}

/// Builds the analysis from an analyzer's accumulators.
struct Report<'a> {
    a: &'a Analyzer,
    cal: &'a Calendar,
    as_of: Option<Instant>,
    point_value: Decimal,
    minor: u32,
    /// Period start dates, and one more: the end of the last period.
    bounds: Vec<NaiveDate>,
}

impl<'a> Report<'a> {
    fn new(a: &'a Analyzer, as_of: Option<Instant>) -> Self {
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

    fn value(&self, points: i64) -> Decimal {
        self.point_value
            .checked_mul(Decimal::from(points))
            .unwrap_or(Decimal::MAX)
    }

    fn day(&self, t: Instant) -> i64 {
        day_number(self.cal.date(t))
    }

    fn build(&self) -> Analysis {
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

    fn periods(&self, tiers: &[String], members: &[(&MemberId, &MemberAcc)]) -> Vec<PeriodRow> {
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
            rows.push(PeriodRow {
                start: self.bounds[i],
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
                average_order_value: money_ratio(acc.sales, acc.purchases, self.minor),
            });
        }
        rows
    }

    fn member_rows(&self, tiers: &[String], members: &[(&MemberId, &MemberAcc)]) -> Vec<MemberRow> {
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

    fn summary(&self, tiers: &[String], rows: &[MemberRow]) -> Summary {
        let mut flows = Flows::default();
        let mut outstanding = Outstanding::default();
        let mut purchases = 0u64;
        let (mut sales, mut refunds) = (Decimal::ZERO, Decimal::ZERO);
        for p in self.a.periods.values() {
            flows.add(&p.flows);
            outstanding.add(&p.outstanding);
            purchases += p.purchases;
            sales = sales.saturating_add(p.sales);
            refunds = refunds.saturating_add(p.refunds);
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
            average_order_value: money_ratio(sales, purchases, self.minor),
            average_lifetime_value: money_ratio(ltv, buyers.len() as u64, self.minor),
            at_risk: open.iter().filter(|r| r.churn.at_risk).count() as u64,
            segments,
        }
    }
}

/// The churn flag from a member's sorted purchase days.
fn churn(days: &[i64], since: Option<i64>, percentile: i64, closed: bool) -> Churn {
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
fn quintiles(values: &[Decimal]) -> Vec<u8> {
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

fn segment(r: u8, f: u8) -> &'static str {
    match (r, f) {
        (4..=5, 4..=5) => "champions",
        (3..=5, 3..=5) => "loyal",
        (4..=5, _) => "new_or_promising",
        (1..=2, 3..=5) => "at_risk",
        (1..=2, _) => "hibernating",
        _ => "needs_attention",
    }
}

fn score_rfm(rows: &mut [MemberRow]) {
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

/// One headline metric under both programs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricRow {
    /// Metric name (`points_issued`, `cost`, …).
    pub metric: &'static str,
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
    /// Members whose points differ, the largest differences first (ties by id).
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

/// The headline metrics: name, value, and whether it is money.
fn headline(a: &Analysis) -> Vec<(&'static str, Option<Decimal>, bool)> {
    let s = &a.summary;
    let p = |n: i64| Some(Decimal::from(n));
    vec![
        ("points_issued", p(s.net_issued), false),
        ("cost", Some(s.cost), true),
        ("points_redeemed", p(s.flows.redeemed), false),
        ("points_expired", p(s.flows.expired), false),
        ("points_outstanding", p(s.outstanding.total()), false),
        ("liability", Some(s.liability), true),
        ("redemption_rate", s.redemption_rate, false),
        ("breakage_rate", s.breakage_rate, false),
        (
            "expected_breakage_value",
            Some(s.expected_breakage_value),
            true,
        ),
        ("deferred_revenue", Some(s.deferred_revenue), true),
        (
            "rejected_events",
            Some(Decimal::from(a.events.rejected)),
            false,
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
        .map(|((metric, x, money), (_, y, _))| MetricRow {
            metric,
            a: x,
            b: y,
            delta: x
                .zip(y)
                .filter(|_| same_currency || !money)
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
    affected.sort_by(|p, q| {
        q.delta
            .unsigned_abs()
            .cmp(&p.delta.unsigned_abs())
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

//! Programs: the file format ([`ProgramSpec`]) and the validated [`Program`].
//!
//! A program loads from TOML or JSON. Unknown fields are rejected, decimals are written as
//! strings or integers (never floats), and contradictions are caught at load with the path
//! of the offending field.

use crate::calendar::{Calendar, Period};
use crate::error::{Error, Result};
use crate::money::{self, lenient_decimal, opt_decimal_string};
use chrono::{NaiveDate, Weekday};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// How the exact earn of a purchase is rounded to whole points, once per purchase.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Towards negative infinity (the default).
    #[default]
    Floor,
    /// Half to even (banker's rounding).
    HalfEven,
    /// Half away from zero.
    HalfUp,
    /// Towards positive infinity.
    Ceil,
}

/// A loyalty program as written in its file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramSpec {
    /// Display name.
    pub name: String,
    /// ISO 4217 currency code of all amounts.
    pub currency: String,
    /// IANA time zone of every calendar notion (`America/New_York`).
    pub time_zone: String,
    /// Money value of one point, for liability.
    #[serde(with = "lenient_decimal")]
    pub point_value: Decimal,
    /// Rounding of each purchase's exact earn.
    #[serde(default)]
    pub rounding: Rounding,
    /// How many days an event may be older than its member's clock and still be accepted.
    #[serde(default = "default_late_tolerance")]
    pub late_tolerance_days: u32,
    /// Secret key for deterministic voucher codes; required when there are rewards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voucher_secret: Option<String>,
    /// How purchases earn.
    pub earning: EarningSpec,
    /// How long purchase points stay pending.
    #[serde(default)]
    pub maturation: MaturationSpec,
    /// When points expire.
    #[serde(default)]
    pub expiry: ExpiryPolicy,
    /// Bonus events.
    #[serde(default)]
    pub bonuses: BonusSpec,
    /// Tiers; without them every member is in one implicit level named `member`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiers: Option<TierSpec>,
    /// Rewards points buy.
    #[serde(default)]
    pub rewards: Vec<RewardSpec>,
    /// Transfers between members.
    #[serde(default)]
    pub transfers: TransferSpec,
    /// What a refund does when the member no longer has the points.
    #[serde(default)]
    pub refunds: RefundSpec,
}

fn default_late_tolerance() -> u32 {
    7
}

/// How purchases earn points.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarningSpec {
    /// Points per unit of currency.
    #[serde(with = "lenient_decimal")]
    pub base_rate: Decimal,
    /// Categories that earn nothing.
    #[serde(default)]
    pub exclude_categories: Vec<String>,
    /// SKUs that earn nothing.
    #[serde(default)]
    pub exclude_skus: Vec<String>,
    /// Earning rules, in order.
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
}

/// An earning rule: exactly one award, optional conditions, optional cap.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Unique id, named in explanations.
    pub id: String,
    /// Award: this percentage of the base of matching lines.
    #[serde(
        default,
        with = "money::opt_lenient_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub bonus_percent: Option<Decimal>,
    /// Award: these points per unit of matching lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_per_unit: Option<i64>,
    /// Award: these points once per matching purchase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bonus_points: Option<i64>,
    /// Lines match when their category is listed (or their SKU is, see `skus`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// Lines match when their SKU is listed (or their category is).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skus: Vec<String>,
    /// Purchases match when their channel is listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<String>,
    /// Purchases match when the member's tier is listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<String>,
    /// Purchases match when their eligible basket is at least this amount.
    #[serde(
        default,
        with = "opt_decimal_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub min_basket: Option<Decimal>,
    /// First local date the rule is active.
    #[serde(default, with = "opt_date", skip_serializing_if = "Option::is_none")]
    pub from: Option<NaiveDate>,
    /// Last local date the rule is active (inclusive).
    #[serde(default, with = "opt_date", skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    /// Local weekdays the rule is active (`["sat", "sun"]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weekdays: Vec<Weekday>,
    /// Local hours the rule is active, `[from, until)` (`[7, 11]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<[u32; 2]>,
    /// Most points the rule gives a member per period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<CapSpec>,
}

/// A cap on a rule's contribution per member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapSpec {
    /// Points at most.
    pub points: i64,
    /// Per local period (`life`: over the rule's life).
    pub per: Period,
}

/// The return window: how long purchase points stay pending.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaturationSpec {
    /// Days (0: available at once).
    pub days: u32,
}

/// When points expire.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExpiryPolicy {
    /// Never.
    #[default]
    Never,
    /// N days after earning.
    Rolling {
        /// Days.
        days: u32,
    },
    /// At the start of the (after+1)th period after the earning period.
    EndOfPeriod {
        /// Month, quarter or year.
        period: Period,
        /// Whole periods kept after the earning period.
        after: u32,
    },
    /// All lots expire N days after the member's last purchase or redemption.
    Inactivity {
        /// Days.
        days: u32,
    },
}

/// Bonus events.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BonusSpec {
    /// Points at enrollment.
    #[serde(default)]
    pub signup: i64,
    /// Points once a year at 00:00 local on the birthday.
    #[serde(default)]
    pub birthday: i64,
    /// Points with the first purchase that has eligible spend.
    #[serde(default)]
    pub first_purchase: i64,
    /// Referral bonus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral: Option<ReferralSpec>,
    /// Whether bonus points count toward a `points_earned` tier metric.
    #[serde(default)]
    pub qualifying: bool,
}

/// Referral bonus: both credited when the referee's first purchase of at least `min_spend`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralSpec {
    /// Points to the referrer.
    pub referrer: i64,
    /// Points to the referee.
    pub referee: i64,
    /// Minimum eligible spend of the purchase.
    #[serde(with = "money::decimal_string")]
    pub min_spend: Decimal,
}

/// What tiers measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierMetric {
    /// Points credited by purchases, net of reversals.
    PointsEarned,
    /// Eligible spend, net of refunds.
    Spend,
    /// Purchases with eligible spend.
    Visits,
}

/// The window a tier metric is measured over.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TierWindow {
    /// Local calendar years.
    CalendarYear,
    /// Membership years from enrollment.
    Anniversary,
    /// The last N local days.
    Rolling {
        /// Days.
        days: u32,
    },
}

/// How far a tier may fall at a window boundary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Downgrade {
    /// To whatever the formula says.
    #[default]
    Formula,
    /// At most one level per boundary.
    OneDown,
}

/// Tier rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierSpec {
    /// What is measured.
    pub metric: TierMetric,
    /// Over which window.
    pub window: TierWindow,
    /// Fall limit.
    #[serde(default)]
    pub downgrade: Downgrade,
    /// Emit `TierAtRisk` this many days before a window closes for members who would fall.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_risk_days: Option<u32>,
    /// Levels, lowest first; the first has threshold 0.
    pub levels: Vec<LevelSpec>,
}

/// One tier level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelSpec {
    /// Unique id (`gold`).
    pub id: String,
    /// Metric needed.
    #[serde(with = "lenient_decimal")]
    pub threshold: Decimal,
    /// Bonus percentage of the base of eligible lines.
    #[serde(default, with = "lenient_decimal")]
    pub bonus_percent: Decimal,
}

/// A reward points buy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardSpec {
    /// Unique id.
    pub id: String,
    /// Points cost.
    pub cost: i64,
    /// Cash part paid at the till, if any.
    #[serde(
        default,
        with = "opt_decimal_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub cash: Option<Decimal>,
    /// Lowest tier that may redeem it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_tier: Option<String>,
    /// Redemptions per member per period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<LimitSpec>,
    /// Global stock (redemptions held or issued).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock: Option<u64>,
    /// What the reward is.
    #[serde(default)]
    pub kind: RewardKind,
    /// Minutes a hold lasts before it is released.
    #[serde(default = "default_hold_minutes")]
    pub hold_minutes: u32,
}

fn default_hold_minutes() -> u32 {
    15
}

/// A per-member limit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSpec {
    /// Redemptions at most.
    pub count: u32,
    /// Per local period.
    pub per: Period,
}

/// What a reward is.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RewardKind {
    /// A voucher (the default).
    #[default]
    Voucher,
    /// An amount off the basket.
    AmountOff {
        /// The amount.
        #[serde(with = "money::decimal_string")]
        amount: Decimal,
    },
    /// A free item.
    FreeItem {
        /// Its SKU.
        sku: String,
    },
}

/// Transfers between members.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferSpec {
    /// Whether members may transfer points.
    #[serde(default)]
    pub allowed: bool,
}

/// What happens to the part of a reversal the member cannot cover.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shortfall {
    /// `available` goes negative (a debt), paid first by points as they become available.
    #[default]
    AllowNegative,
    /// The rest is written off to the `forgiven` account.
    Forgive,
}

/// Refund policy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundSpec {
    /// Debt or write-off.
    #[serde(default)]
    pub shortfall: Shortfall,
}

/// Optional local dates: a string (`"2026-12-05"`) or a TOML date (`2026-12-05`).
mod opt_date {
    use chrono::NaiveDate;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Text(String),
        Toml(toml::value::Datetime),
    }

    pub fn serialize<S: Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.collect_str(d),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        let date = match Option::<Repr>::deserialize(d)? {
            None => return Ok(None),
            Some(Repr::Text(t)) => t.parse::<NaiveDate>().ok(),
            Some(Repr::Toml(t)) => t
                .date
                .filter(|_| t.time.is_none() && t.offset.is_none())
                .and_then(|d| {
                    NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                }),
        };
        date.map(Some)
            .ok_or_else(|| D::Error::custom("expected a local date, e.g. 2026-12-05"))
    }
}

/// A validated program: built only by its loaders, so every `Program` is consistent.
///
/// ```
/// let program = pointbook::Program::from_toml(r#"
///     name = "Tiny"
///     currency = "USD"
///     time_zone = "Europe/Paris"
///     point_value = "0.01"
///     [earning]
///     base_rate = 1
/// "#)?;
/// assert_eq!(program.levels()[0].id, "member");
/// # Ok::<(), pointbook::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Program {
    spec: ProgramSpec,
    calendar: Calendar,
    minor_units: u32,
    levels: Vec<LevelSpec>,
    metric: TierMetric,
    window: TierWindow,
    fingerprint: String,
}

impl Program {
    /// Loads a program from TOML.
    pub fn from_toml(text: &str) -> Result<Program> {
        let de = toml::Deserializer::new(text);
        let spec: ProgramSpec = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            Error::InvalidProgram {
                path: if path == "." { "program".into() } else { path },
                message: inner.message().trim().to_string(),
            }
        })?;
        Program::from_spec(spec)
    }

    /// Loads a program from JSON.
    pub fn from_json(text: &str) -> Result<Program> {
        let mut de = serde_json::Deserializer::from_str(text);
        let spec: ProgramSpec = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let mut message = inner.to_string();
            // The path already says where; drop serde_json's " at line 1 column 412".
            let position = format!(" at line {} column {}", inner.line(), inner.column());
            if path != "." && message.ends_with(&position) {
                message.truncate(message.len() - position.len());
            }
            Error::InvalidProgram {
                path: if path == "." { "program".into() } else { path },
                message,
            }
        })?;
        Program::from_spec(spec)
    }

    /// Loads a program from JSON (text starting with `{`) or TOML (anything else).
    pub fn parse(text: &str) -> Result<Program> {
        if text.trim_start().starts_with('{') {
            Program::from_json(text)
        } else {
            Program::from_toml(text)
        }
    }

    /// Validates a spec into a program.
    pub fn from_spec(spec: ProgramSpec) -> Result<Program> {
        let tz: chrono_tz::Tz = spec.time_zone.parse().map_err(|_| {
            invalid(
                "time_zone",
                format!("unknown time zone \"{}\"", spec.time_zone),
            )
        })?;
        validate(&spec)?;
        let (levels, metric, window) = match &spec.tiers {
            Some(t) => (t.levels.clone(), t.metric, t.window.clone()),
            None => (
                vec![LevelSpec {
                    id: "member".into(),
                    threshold: Decimal::ZERO,
                    bonus_percent: Decimal::ZERO,
                }],
                TierMetric::PointsEarned,
                TierWindow::CalendarYear,
            ),
        };
        let canonical = serde_json::to_vec(&spec).map_err(|e| invalid("program", e.to_string()))?;
        let fingerprint = hex(&Sha256::digest(&canonical));
        Ok(Program {
            minor_units: money::minor_units(&spec.currency),
            calendar: Calendar::new(tz),
            spec,
            levels,
            metric,
            window,
            fingerprint,
        })
    }

    /// The program as written.
    pub fn spec(&self) -> &ProgramSpec {
        &self.spec
    }

    /// The program's calendar.
    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// Decimal places of the program's currency.
    pub fn minor_units(&self) -> u32 {
        self.minor_units
    }

    /// Tier levels, lowest first (one implicit `member` level when the program has no tiers).
    pub fn levels(&self) -> &[LevelSpec] {
        &self.levels
    }

    /// The tier metric.
    pub fn tier_metric(&self) -> TierMetric {
        self.metric
    }

    /// The tier window.
    pub fn tier_window(&self) -> &TierWindow {
        &self.window
    }

    /// The index of a level by id.
    pub fn level_index(&self, id: &str) -> Option<usize> {
        self.levels.iter().position(|l| l.id == id)
    }

    /// A reward by id.
    pub fn reward(&self, id: &str) -> Option<&RewardSpec> {
        self.spec.rewards.iter().find(|r| r.id == id)
    }

    /// SHA-256 (hex) of the program's canonical JSON: snapshots carry it.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The program as canonical JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.spec).unwrap_or_default()
    }
}

fn invalid(path: impl Into<String>, message: impl Into<String>) -> Error {
    Error::InvalidProgram {
        path: path.into(),
        message: message.into(),
    }
}

/// Most days any duration in a program may span (100 years).
const MAX_DAYS: u32 = 36_600;
/// Largest points amount a program may name.
const MAX_POINTS: i64 = 1_000_000_000_000;

fn check_days(path: &str, days: u32) -> Result<()> {
    if days > MAX_DAYS {
        return Err(invalid(
            path,
            format!("{days} days is more than {MAX_DAYS}"),
        ));
    }
    Ok(())
}

fn check_points(path: &str, points: i64, allow_zero: bool) -> Result<()> {
    if points < 0 || (!allow_zero && points == 0) || points > MAX_POINTS {
        let range = if allow_zero { "0" } else { "1" };
        return Err(invalid(
            path,
            format!("{points} is outside {range}..={MAX_POINTS} points"),
        ));
    }
    Ok(())
}

fn check_percent(path: &str, p: Decimal) -> Result<()> {
    if p.is_sign_negative() || p > Decimal::from(100_000) {
        return Err(invalid(path, format!("{p} is outside 0..=100000 percent")));
    }
    Ok(())
}

fn check_money(path: &str, d: Decimal, spec: &ProgramSpec) -> Result<()> {
    money::check_amount(d, &spec.currency, money::minor_units(&spec.currency))
        .map_err(|m| invalid(path, m))
}

fn validate(spec: &ProgramSpec) -> Result<()> {
    if spec.name.trim().is_empty() {
        return Err(invalid("name", "must not be empty"));
    }
    if spec.currency.len() != 3 || !spec.currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(invalid(
            "currency",
            format!(
                "\"{}\" is not an ISO 4217 code (three capital letters)",
                spec.currency
            ),
        ));
    }
    if spec.point_value.is_sign_negative() {
        return Err(invalid("point_value", "must not be negative"));
    }
    check_days("late_tolerance_days", spec.late_tolerance_days)?;
    if spec.earning.base_rate.is_sign_negative()
        || spec.earning.base_rate > Decimal::from(1_000_000)
    {
        return Err(invalid(
            "earning.base_rate",
            "must be between 0 and 1000000",
        ));
    }
    let level_ids: Vec<&str> = match &spec.tiers {
        Some(t) => t.levels.iter().map(|l| l.id.as_str()).collect(),
        None => vec!["member"],
    };
    let mut ids = BTreeSet::new();
    for (i, r) in spec.earning.rules.iter().enumerate() {
        let p = format!("earning.rules[{i}]");
        if r.id.trim().is_empty() {
            return Err(invalid(format!("{p}.id"), "must not be empty"));
        }
        if !ids.insert(r.id.as_str()) {
            return Err(invalid(
                format!("{p}.id"),
                format!("duplicate rule id \"{}\"", r.id),
            ));
        }
        let awards = [
            r.bonus_percent.is_some(),
            r.points_per_unit.is_some(),
            r.bonus_points.is_some(),
        ]
        .iter()
        .filter(|a| **a)
        .count();
        if awards != 1 {
            return Err(invalid(
                p,
                "a rule awards exactly one of bonus_percent, points_per_unit, bonus_points",
            ));
        }
        if let Some(b) = r.bonus_percent {
            check_percent(&format!("{p}.bonus_percent"), b)?;
            if b.is_zero() {
                return Err(invalid(
                    format!("{p}.bonus_percent"),
                    "a bonus of 0% awards nothing",
                ));
            }
        }
        if let Some(u) = r.points_per_unit {
            check_points(&format!("{p}.points_per_unit"), u, false)?;
        }
        if let Some(b) = r.bonus_points {
            check_points(&format!("{p}.bonus_points"), b, false)?;
        }
        for t in &r.tiers {
            if !level_ids.contains(&t.as_str()) {
                return Err(invalid(
                    format!("{p}.tiers"),
                    format!("unknown tier \"{t}\""),
                ));
            }
        }
        if let Some(m) = r.min_basket {
            check_money(&format!("{p}.min_basket"), m, spec)?;
        }
        if let (Some(f), Some(u)) = (r.from, r.until) {
            if f > u {
                return Err(invalid(
                    format!("{p}.until"),
                    format!("{u} is before from {f}"),
                ));
            }
        }
        if let Some([f, u]) = r.hours {
            if f >= u || u > 24 {
                return Err(invalid(
                    format!("{p}.hours"),
                    format!("[{f}, {u}] is not a range of local hours within 0..24"),
                ));
            }
        }
        if let Some(cap) = &r.cap {
            if cap.points <= 0 {
                return Err(invalid(
                    format!("{p}.cap.points"),
                    format!("a cap of {} points caps nothing", cap.points),
                ));
            }
            check_points(&format!("{p}.cap.points"), cap.points, false)?;
        }
    }
    check_days("maturation.days", spec.maturation.days)?;
    match &spec.expiry {
        ExpiryPolicy::Rolling { days } | ExpiryPolicy::Inactivity { days } => {
            check_days("expiry.days", *days)?
        }
        ExpiryPolicy::EndOfPeriod { period, after } => {
            if matches!(period, Period::Day | Period::Week | Period::Life) {
                return Err(invalid(
                    "expiry.end_of_period.period",
                    "must be month, quarter or year",
                ));
            }
            if *after > 100 {
                return Err(invalid("expiry.end_of_period.after", "must be at most 100"));
            }
        }
        ExpiryPolicy::Never => {}
    }
    let b = &spec.bonuses;
    check_points("bonuses.signup", b.signup, true)?;
    check_points("bonuses.birthday", b.birthday, true)?;
    check_points("bonuses.first_purchase", b.first_purchase, true)?;
    if let Some(r) = &b.referral {
        check_points("bonuses.referral.referrer", r.referrer, true)?;
        check_points("bonuses.referral.referee", r.referee, true)?;
        check_money("bonuses.referral.min_spend", r.min_spend, spec)?;
    }
    if let Some(t) = &spec.tiers {
        if t.levels.is_empty() {
            return Err(invalid("tiers.levels", "needs at least one level"));
        }
        if let TierWindow::Rolling { days } = t.window {
            if days == 0 {
                return Err(invalid("tiers.window.rolling.days", "must be at least 1"));
            }
            check_days("tiers.window.rolling.days", days)?;
        }
        if let Some(d) = t.at_risk_days {
            check_days("tiers.at_risk_days", d)?;
        }
        let mut seen = BTreeSet::new();
        for (i, l) in t.levels.iter().enumerate() {
            let p = format!("tiers.levels[{i}]");
            if l.id.trim().is_empty() {
                return Err(invalid(format!("{p}.id"), "must not be empty"));
            }
            if !seen.insert(l.id.as_str()) {
                return Err(invalid(
                    format!("{p}.id"),
                    format!("duplicate tier \"{}\"", l.id),
                ));
            }
            check_percent(&format!("{p}.bonus_percent"), l.bonus_percent)?;
            if i == 0 && !l.threshold.is_zero() {
                return Err(invalid(
                    format!("{p}.threshold"),
                    "the first (lowest) level must have threshold 0",
                ));
            }
            if i > 0 && l.threshold <= t.levels[i - 1].threshold {
                return Err(invalid(
                    format!("{p}.threshold"),
                    format!(
                        "{} is not above the previous level's {}: thresholds must increase",
                        l.threshold,
                        t.levels[i - 1].threshold
                    ),
                ));
            }
        }
    }
    let mut rewards = BTreeSet::new();
    for (i, r) in spec.rewards.iter().enumerate() {
        let p = format!("rewards[{i}]");
        if r.id.trim().is_empty() {
            return Err(invalid(format!("{p}.id"), "must not be empty"));
        }
        if !rewards.insert(r.id.as_str()) {
            return Err(invalid(
                format!("{p}.id"),
                format!("duplicate reward \"{}\"", r.id),
            ));
        }
        check_points(&format!("{p}.cost"), r.cost, false)?;
        if let Some(c) = r.cash {
            check_money(&format!("{p}.cash"), c, spec)?;
        }
        if let Some(t) = &r.min_tier {
            if !level_ids.contains(&t.as_str()) {
                return Err(invalid(
                    format!("{p}.min_tier"),
                    format!("unknown tier \"{t}\""),
                ));
            }
        }
        if let Some(l) = &r.limit {
            if l.count == 0 {
                return Err(invalid(
                    format!("{p}.limit.count"),
                    "a limit of 0 forbids the reward",
                ));
            }
        }
        if let RewardKind::AmountOff { amount } = &r.kind {
            check_money(&format!("{p}.kind.amount_off.amount"), *amount, spec)?;
        }
        if r.hold_minutes == 0 || r.hold_minutes > 60 * 24 * 30 {
            return Err(invalid(format!("{p}.hold_minutes"), "must be 1..=43200"));
        }
    }
    if !spec.rewards.is_empty() && spec.voucher_secret.as_deref().is_none_or(str::is_empty) {
        return Err(invalid(
            "voucher_secret",
            "required when the program has rewards (voucher codes are derived from it)",
        ));
    }
    Ok(())
}

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

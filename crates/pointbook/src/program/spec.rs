//! The program file format as written (TOML or JSON): every section and its defaults.

use crate::calendar::Period;
use crate::money::{self, lenient_decimal, opt_decimal_string};
use chrono::{NaiveDate, Weekday};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

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

pub(crate) fn default_late_tolerance() -> u32 {
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
    /// Points cost (of one item, for a free item); none for a points payment, whose redeem
    /// names the points.
    #[serde(default)]
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

pub(crate) fn default_hold_minutes() -> u32 {
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
    /// A free item; a redeem may ask for several (`quantity`), each costing `cost`.
    FreeItem {
        /// Its SKU.
        sku: String,
    },
    /// Points as payment: the redeem names the points; the discount is `points × rate`, at most
    /// `max_share` of the order.
    PointsPayment {
        /// Money per point, with no more decimals than the currency.
        #[serde(with = "money::decimal_string")]
        rate: Decimal,
        /// Points are spent in multiples of this.
        #[serde(default = "one_point")]
        step: i64,
        /// The largest share of the order's total the points may pay (0 to 1).
        #[serde(default = "whole_share", with = "lenient_decimal")]
        max_share: Decimal,
    },
    /// A percentage off the order, or off its lines of some categories or SKUs.
    PercentOff {
        /// The percentage.
        #[serde(with = "lenient_decimal")]
        percent: Decimal,
        /// The largest discount.
        #[serde(
            default,
            with = "opt_decimal_string",
            skip_serializing_if = "Option::is_none"
        )]
        max_amount: Option<Decimal>,
        /// Lines of these categories are eligible (or of `skus`); none listed: the whole order.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        categories: Vec<String>,
        /// Lines of these SKUs are eligible (or of `categories`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        skus: Vec<String>,
    },
}

fn one_point() -> i64 {
    1
}

fn whole_share() -> Decimal {
    Decimal::ONE
}

impl RewardKind {
    /// Whether the kind's redeem names its points (a points payment) rather than paying a cost.
    pub fn names_points(&self) -> bool {
        matches!(self, RewardKind::PointsPayment { .. })
    }
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

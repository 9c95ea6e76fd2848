//! What an event did: postings, effects, explanation; and the read models (balances,
//! progress).

use crate::ids::{EventId, MemberId};
use crate::instant::Instant;
use crate::money::decimal_string;
use crate::points::Points;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// The result of applying an event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    /// The event's id.
    pub event: EventId,
    /// The event's type (`"purchase"`).
    #[serde(rename = "type")]
    pub kind: Cow<'static, str>,
    /// The event's instant.
    #[serde(with = "crate::instant::rfc3339")]
    pub at: Instant,
    /// True when this is a resend of an event already applied: nothing changed.
    pub duplicate: bool,
    /// Points the event itself credited (+) or debited (−) to its member's available and
    /// pending points, catch-up (maturation, expiry, holds) excluded.
    pub points: i64,
    /// Movements of points between accounts, in order; they add up to zero.
    pub postings: Vec<Posting>,
    /// What the host should act on.
    pub effects: Vec<Effect>,
    /// Why each point of the event was credited or debited; adds up to `points` for earning.
    pub explanation: Vec<ExplanationLine>,
    /// Money a redemption takes off the order, where its reward's kind has one
    /// (docs/semantics.md §13); absent otherwise.
    #[serde(
        default,
        with = "crate::money::opt_decimal_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub discount: Option<Decimal>,
}

/// An account of the ledger. Member accounts carry the member.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Account {
    /// Source of every credit (goes negative).
    Issued,
    /// Points spent on rewards.
    Redeemed,
    /// Points that expired (breakage).
    Expired,
    /// Points of forgotten members.
    Forfeited,
    /// Reversals written off instead of leaving a debt (goes negative).
    Forgiven,
    /// A member's spendable points, net of debt.
    Available(MemberId),
    /// A member's points in the return window.
    Pending(MemberId),
    /// A member's points reserved by holds.
    Held(MemberId),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountRepr {
    account: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    member: Option<MemberId>,
}

/// What an account is written as: borrowed, so writing an outcome allocates nothing per account.
#[derive(Serialize)]
struct AccountOut<'a> {
    account: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    member: Option<&'a MemberId>,
}

impl Serialize for Account {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (account, member) = match self {
            Account::Issued => ("issued", None),
            Account::Redeemed => ("redeemed", None),
            Account::Expired => ("expired", None),
            Account::Forfeited => ("forfeited", None),
            Account::Forgiven => ("forgiven", None),
            Account::Available(m) => ("available", Some(m)),
            Account::Pending(m) => ("pending", Some(m)),
            Account::Held(m) => ("held", Some(m)),
        };
        AccountOut { account, member }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Account {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let r = AccountRepr::deserialize(d)?;
        Ok(match (r.account.as_str(), r.member) {
            ("issued", None) => Account::Issued,
            ("redeemed", None) => Account::Redeemed,
            ("expired", None) => Account::Expired,
            ("forfeited", None) => Account::Forfeited,
            ("forgiven", None) => Account::Forgiven,
            ("available", Some(m)) => Account::Available(m),
            ("pending", Some(m)) => Account::Pending(m),
            ("held", Some(m)) => Account::Held(m),
            (a, _) => return Err(D::Error::custom(format!("bad account {a}"))),
        })
    }
}

/// Why points moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Earned by a purchase.
    Earn,
    /// A bonus (signup, birthday, first purchase, referral).
    Bonus,
    /// Pending points matured.
    Mature,
    /// Points expired.
    Expire,
    /// A refund reversed earned points.
    Reversal,
    /// Points reserved by a hold.
    Hold,
    /// Held points returned (cancel or hold expiry).
    Release,
    /// Points spent on a reward.
    Redeem,
    /// Manual adjustment.
    Adjust,
    /// Transfer between members.
    Transfer,
    /// Points of a forgotten member.
    Forfeit,
    /// A shortfall or debt written off.
    Forgive,
}

impl Reason {
    /// The wire name (`"earn"`), as serde writes it.
    ///
    /// ```
    /// assert_eq!(pointbook::outcome::Reason::Reversal.name(), "reversal");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Reason::Earn => "earn",
            Reason::Bonus => "bonus",
            Reason::Mature => "mature",
            Reason::Expire => "expire",
            Reason::Reversal => "reversal",
            Reason::Hold => "hold",
            Reason::Release => "release",
            Reason::Redeem => "redeem",
            Reason::Adjust => "adjust",
            Reason::Transfer => "transfer",
            Reason::Forfeit => "forfeit",
            Reason::Forgive => "forgive",
        }
    }
}

/// One movement of points from one account to another.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Posting {
    /// When it happened (catch-up movements carry their own instant).
    #[serde(with = "crate::instant::rfc3339")]
    pub at: Instant,
    /// Account debited.
    pub from: Account,
    /// Account credited.
    pub to: Account,
    /// Points moved (positive).
    pub points: Points,
    /// Why.
    pub reason: Reason,
}

/// A bonus kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BonusKind {
    /// At enrollment.
    Signup,
    /// On the birthday.
    Birthday,
    /// With the first purchase.
    FirstPurchase,
    /// To the referrer.
    Referrer,
    /// To the referee.
    Referee,
}

impl BonusKind {
    /// The wire name (`"first_purchase"`), as serde writes it.
    pub fn name(self) -> &'static str {
        match self {
            BonusKind::Signup => "signup",
            BonusKind::Birthday => "birthday",
            BonusKind::FirstPurchase => "first_purchase",
            BonusKind::Referrer => "referrer",
            BonusKind::Referee => "referee",
        }
    }
}

/// What the host should act on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum Effect {
    /// A member's tier changed.
    TierChanged {
        /// Member.
        member: MemberId,
        /// Old tier.
        from: String,
        /// New tier.
        to: String,
        /// When.
        #[serde(with = "crate::instant::rfc3339")]
        at: Instant,
    },
    /// A member would fall at the end of the window.
    TierAtRisk {
        /// Member.
        member: MemberId,
        /// Current tier.
        tier: String,
        /// The tier the member falls to unless the metric grows.
        falls_to: String,
        /// When the window closes.
        #[serde(with = "crate::instant::rfc3339")]
        window_ends: Instant,
        /// When the notice was raised.
        #[serde(with = "crate::instant::rfc3339")]
        at: Instant,
    },
    /// A lot's remaining points expired.
    PointsExpired {
        /// Member.
        member: MemberId,
        /// Points.
        points: Points,
        /// The lot's source event.
        source: EventId,
        /// When.
        #[serde(with = "crate::instant::rfc3339")]
        at: Instant,
    },
    /// A reward was issued.
    RewardIssued {
        /// Member.
        member: MemberId,
        /// Reward id.
        reward: String,
        /// Redemption (redeem event) id.
        redemption: EventId,
        /// Deterministic voucher code.
        code: String,
        /// When.
        #[serde(with = "crate::instant::rfc3339")]
        at: Instant,
    },
    /// Points spent on a redemption were given back (docs/semantics.md §13): by a `reverse`,
    /// or by a refund of the purchase it paid for.
    RewardReversed {
        /// Member.
        member: MemberId,
        /// Reward id.
        reward: String,
        /// Redemption (redeem event) id.
        redemption: EventId,
        /// Points given back.
        points: Points,
        /// Whether nothing of the redemption is left: its voucher is void, and its limit count
        /// and stock are given back.
        whole: bool,
        /// When.
        #[serde(with = "crate::instant::rfc3339")]
        at: Instant,
    },
    /// A bonus was credited.
    BonusAwarded {
        /// Member.
        member: MemberId,
        /// Which bonus.
        bonus: BonusKind,
        /// Points.
        points: Points,
        /// When.
        #[serde(with = "crate::instant::rfc3339")]
        at: Instant,
    },
    /// A hold ran out and its points went back to their lots.
    HoldExpired {
        /// Member.
        member: MemberId,
        /// Redemption id.
        redemption: EventId,
        /// Points returned.
        points: Points,
        /// When.
        #[serde(with = "crate::instant::rfc3339")]
        at: Instant,
    },
    /// A forgotten member's points were forfeited.
    PointsForfeited {
        /// Member.
        member: MemberId,
        /// Points.
        points: Points,
        /// When.
        #[serde(with = "crate::instant::rfc3339")]
        at: Instant,
    },
    /// Points a member could not cover were written off.
    PointsForgiven {
        /// Member.
        member: MemberId,
        /// Points.
        points: Points,
        /// When.
        #[serde(with = "crate::instant::rfc3339")]
        at: Instant,
    },
}

impl Effect {
    /// The wire name of the effect's type (`"TierChanged"`), as serde writes it.
    ///
    /// ```
    /// use pointbook::{Effect, MemberId, Points};
    /// let e = Effect::PointsForgiven {
    ///     member: MemberId::new("m1"),
    ///     points: Points::new(5),
    ///     at: chrono::DateTime::UNIX_EPOCH,
    /// };
    /// assert_eq!((e.kind(), e.member().as_str()), ("PointsForgiven", "m1"));
    /// assert_eq!(e.at(), chrono::DateTime::UNIX_EPOCH);
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Effect::TierChanged { .. } => "TierChanged",
            Effect::TierAtRisk { .. } => "TierAtRisk",
            Effect::PointsExpired { .. } => "PointsExpired",
            Effect::RewardIssued { .. } => "RewardIssued",
            Effect::BonusAwarded { .. } => "BonusAwarded",
            Effect::HoldExpired { .. } => "HoldExpired",
            Effect::PointsForfeited { .. } => "PointsForfeited",
            Effect::PointsForgiven { .. } => "PointsForgiven",
            Effect::RewardReversed { .. } => "RewardReversed",
        }
    }

    /// The member the effect is about.
    pub fn member(&self) -> &MemberId {
        match self {
            Effect::TierChanged { member, .. }
            | Effect::TierAtRisk { member, .. }
            | Effect::PointsExpired { member, .. }
            | Effect::RewardIssued { member, .. }
            | Effect::BonusAwarded { member, .. }
            | Effect::HoldExpired { member, .. }
            | Effect::PointsForfeited { member, .. }
            | Effect::PointsForgiven { member, .. }
            | Effect::RewardReversed { member, .. } => member,
        }
    }

    /// When it happened.
    pub fn at(&self) -> Instant {
        match self {
            Effect::TierChanged { at, .. }
            | Effect::TierAtRisk { at, .. }
            | Effect::PointsExpired { at, .. }
            | Effect::RewardIssued { at, .. }
            | Effect::BonusAwarded { at, .. }
            | Effect::HoldExpired { at, .. }
            | Effect::PointsForfeited { at, .. }
            | Effect::PointsForgiven { at, .. }
            | Effect::RewardReversed { at, .. } => *at,
        }
    }
}

/// One line of an explanation: a contribution with its exact value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplanationLine {
    /// The member concerned.
    pub member: MemberId,
    /// What contributed: `base`, `rule`, `tier`, `rounding`, `bonus`, `reversal`, `redeem`,
    /// `hold`, `release`, `adjust`, `transfer`, `forfeit`, `forgive`, `debt` (one of
    /// [`ExplanationLine::KINDS`], shared text rather than a copy per line).
    pub kind: Cow<'static, str>,
    /// Which one (rule id, tier id, bonus kind, lot source), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Exact points (a decimal string).
    #[serde(with = "decimal_string")]
    pub points: Decimal,
}

impl ExplanationLine {
    /// Every kind of explanation line.
    pub const KINDS: &'static [&'static str] = &[
        "base", "rule", "tier", "rounding", "bonus", "reversal", "redeem", "hold", "release",
        "adjust", "transfer", "forfeit", "forgive", "debt",
    ];
}

/// A member's balance, as in docs/semantics.md §12.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Balance {
    /// Member.
    pub member: MemberId,
    /// Current tier id.
    pub tier: String,
    /// Available lots' remaining points minus debt.
    pub available: i64,
    /// Pending points.
    pub pending: i64,
    /// Held points.
    pub held: i64,
    /// Debt left by reversals.
    pub debt: i64,
    /// Open lots in FIFO order.
    pub lots: Vec<LotView>,
}

/// A lot as shown in a balance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LotView {
    /// Remaining points (not held).
    pub points: i64,
    /// `available` or `pending`.
    pub state: String,
    /// When earned.
    pub earned_at: Instant,
    /// When it expires (`null`: never).
    pub expires_at: Option<Instant>,
    /// Source event.
    pub source: EventId,
}

/// Tier progress: what a receipt prints ("12 points to Gold").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Progress {
    /// Member.
    pub member: MemberId,
    /// Instant of the query.
    #[serde(with = "crate::instant::rfc3339")]
    pub at: Instant,
    /// Current tier.
    pub tier: String,
    /// The metric in the current window (a decimal string).
    #[serde(with = "decimal_string")]
    pub metric: Decimal,
    /// When the current window ends (for rolling windows: the next local midnight).
    #[serde(with = "crate::instant::rfc3339")]
    pub window_ends: Instant,
    /// The next level, if any, and how much metric it still needs.
    pub next: Option<ProgressStep>,
    /// How much metric is still needed in this window to keep the current tier past
    /// `window_ends` (0 when already secured).
    #[serde(with = "decimal_string")]
    pub to_keep: Decimal,
}

/// Distance to a level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressStep {
    /// Level id.
    pub tier: String,
    /// Metric still needed (a decimal string).
    #[serde(with = "decimal_string")]
    pub needed: Decimal,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_name<T: Serialize>(value: &T) -> Option<String> {
        serde_json::to_value(value)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
    }

    /// The names written without serde are serde's, for every variant.
    #[test]
    fn names_are_serdes() {
        use Reason::*;
        for r in [
            Earn, Bonus, Mature, Expire, Reversal, Hold, Release, Redeem, Adjust, Transfer,
            Forfeit, Forgive,
        ] {
            assert_eq!(Some(r.name().to_owned()), serde_name(&r));
        }
        use BonusKind::*;
        for b in [Signup, Birthday, FirstPurchase, Referrer, Referee] {
            assert_eq!(Some(b.name().to_owned()), serde_name(&b));
        }
        let (member, at) = (MemberId::new("m1"), Instant::UNIX_EPOCH);
        let (points, id) = (Points::new(1), EventId::new("e1"));
        let effects = [
            Effect::TierChanged {
                member: member.clone(),
                from: "a".into(),
                to: "b".into(),
                at,
            },
            Effect::TierAtRisk {
                member: member.clone(),
                tier: "b".into(),
                falls_to: "a".into(),
                window_ends: at,
                at,
            },
            Effect::PointsExpired {
                member: member.clone(),
                points,
                source: id.clone(),
                at,
            },
            Effect::RewardIssued {
                member: member.clone(),
                reward: "r".into(),
                redemption: id.clone(),
                code: "c".into(),
                at,
            },
            Effect::BonusAwarded {
                member: member.clone(),
                bonus: Signup,
                points,
                at,
            },
            Effect::HoldExpired {
                member: member.clone(),
                redemption: id,
                points,
                at,
            },
            Effect::PointsForfeited {
                member: member.clone(),
                points,
                at,
            },
            Effect::PointsForgiven {
                member: member.clone(),
                points,
                at,
            },
        ];
        for e in effects {
            let v = serde_json::to_value(&e).unwrap_or_default();
            assert_eq!(v["type"].as_str(), Some(e.kind()));
            assert_eq!(v["member"].as_str(), Some(e.member().as_str()));
            assert_eq!(e.at(), at);
        }
    }
}

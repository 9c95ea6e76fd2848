//! Checking a program at load: ranges, money in the currency, and contradictions, each
//! error naming the path of the offending field.

use super::spec::{ExpiryPolicy, ProgramSpec, RewardKind, TierWindow};
use crate::calendar::Period;
use crate::error::{Error, Result};
use crate::money;
use rust_decimal::Decimal;
use std::collections::BTreeSet;

pub(crate) fn invalid(path: impl Into<String>, message: impl Into<String>) -> Error {
    Error::InvalidProgram {
        path: path.into(),
        message: message.into(),
    }
}

/// Most days any duration in a program may span (100 years).
pub(crate) const MAX_DAYS: u32 = 36_600;

/// Largest points amount a program may name.
pub(crate) const MAX_POINTS: i64 = 1_000_000_000_000;

pub(crate) fn check_days(path: &str, days: u32) -> Result<()> {
    if days > MAX_DAYS {
        return Err(invalid(
            path,
            format!("{days} days is more than {MAX_DAYS}"),
        ));
    }
    Ok(())
}

pub(crate) fn check_points(path: &str, points: i64, allow_zero: bool) -> Result<()> {
    if points < 0 || (!allow_zero && points == 0) || points > MAX_POINTS {
        let range = if allow_zero { "0" } else { "1" };
        return Err(invalid(
            path,
            format!("{points} is outside {range}..={MAX_POINTS} points"),
        ));
    }
    Ok(())
}

pub(crate) fn check_percent(path: &str, p: Decimal) -> Result<()> {
    if p.is_sign_negative() || p > Decimal::from(100_000) {
        return Err(invalid(path, format!("{p} is outside 0..=100000 percent")));
    }
    Ok(())
}

pub(crate) fn check_money(path: &str, d: Decimal, spec: &ProgramSpec) -> Result<()> {
    money::check_amount(d, &spec.currency, money::minor_units(&spec.currency))
        .map_err(|m| invalid(path, m))
}

pub(crate) fn validate(spec: &ProgramSpec) -> Result<()> {
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
        if r.kind.names_points() {
            if r.cost != 0 {
                return Err(invalid(
                    format!("{p}.cost"),
                    "a points payment has no fixed cost: its redeem names the points",
                ));
            }
        } else {
            check_points(&format!("{p}.cost"), r.cost, false)?;
        }
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
        check_reward_kind(&format!("{p}.kind"), &r.kind, spec)?;
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

/// The parameters of a reward's kind.
fn check_reward_kind(p: &str, kind: &RewardKind, spec: &ProgramSpec) -> Result<()> {
    match kind {
        RewardKind::Voucher | RewardKind::FreeItem { .. } => {}
        RewardKind::AmountOff { amount } => {
            check_money(&format!("{p}.amount_off.amount"), *amount, spec)?
        }
        RewardKind::PointsPayment {
            rate,
            step,
            max_share,
        } => {
            let p = format!("{p}.points_payment");
            check_money(&format!("{p}.rate"), *rate, spec)?;
            if rate.is_zero() {
                return Err(invalid(
                    format!("{p}.rate"),
                    "a point must be worth something",
                ));
            }
            check_points(&format!("{p}.step"), *step, false)?;
            if *max_share <= Decimal::ZERO || *max_share > Decimal::ONE {
                return Err(invalid(
                    format!("{p}.max_share"),
                    format!("{max_share} is outside (0, 1]: a share of the order's total"),
                ));
            }
        }
        RewardKind::PercentOff {
            percent,
            max_amount,
            ..
        } => {
            let p = format!("{p}.percent_off");
            if *percent <= Decimal::ZERO || *percent > Decimal::ONE_HUNDRED {
                return Err(invalid(
                    format!("{p}.percent"),
                    format!("{percent} is outside (0, 100] percent"),
                ));
            }
            if let Some(m) = max_amount {
                check_money(&format!("{p}.max_amount"), *m, spec)?;
            }
        }
    }
    Ok(())
}

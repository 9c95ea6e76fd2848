//! Tiers (docs/semantics.md §6): the metric per window, the formula, upgrades at once and
//! re-evaluation at window boundaries, TierAtRisk notices, and progress.

use crate::calendar::{add_days, day_number, same_day_in_year};
use crate::error::Result;
use crate::instant::Instant;
use crate::ledger::Journal;
use crate::member::Member;
use crate::outcome::Effect;
use crate::program::{Downgrade, Program, TierWindow};
use chrono::Datelike;
use rust_decimal::Decimal;

/// The highest level whose threshold `metric` reaches.
pub(crate) fn level_for(p: &Program, metric: Decimal) -> usize {
    p.levels()
        .iter()
        .rposition(|l| l.threshold <= metric)
        .unwrap_or(0)
}

/// The days of a rolling tier window (`None` for calendar and anniversary windows).
pub(crate) fn rolling_days(p: &Program) -> Option<i64> {
    match p.tier_window() {
        TierWindow::Rolling { days } => Some(i64::from(*days)),
        _ => None,
    }
}

/// The id of tier level `i`.
pub(crate) fn level_name(p: &Program, i: usize) -> String {
    p.levels().get(i).map(|l| l.id.clone()).unwrap_or_default()
}

/// 00:00 local `days` after a local date, as an instant (re-exported for progress).
pub(crate) fn day_start_after(p: &Program, d: chrono::NaiveDate, days: u32) -> Instant {
    p.calendar().midnight(add_days(d, days))
}

impl Member {
    /// The metric key of an instant: window index (calendar, anniversary) or day number (rolling).
    pub(crate) fn window_key(&self, p: &Program, t: Instant) -> i64 {
        let cal = p.calendar();
        let d = cal.date(t);
        match p.tier_window() {
            TierWindow::CalendarYear => i64::from(d.year()),
            TierWindow::Anniversary => {
                let e = cal.date(self.enrolled_at);
                let mut k = d.year() - e.year();
                if same_day_in_year(e, e.year() + k) > d {
                    k -= 1;
                }
                i64::from(k)
            }
            TierWindow::Rolling { .. } => day_number(d),
        }
    }

    /// The first instant of calendar or anniversary window `w`.
    pub(crate) fn window_start(&self, p: &Program, w: i64) -> Instant {
        let cal = p.calendar();
        let year = i32::try_from(w).unwrap_or(i32::MAX);
        match p.tier_window() {
            TierWindow::CalendarYear | TierWindow::Rolling { .. } => cal.midnight(
                chrono::NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(chrono::NaiveDate::MAX),
            ),
            TierWindow::Anniversary => {
                let e = cal.date(self.enrolled_at);
                cal.midnight(same_day_in_year(e, e.year().saturating_add(year)))
            }
        }
    }

    /// The metric summed over the rolling window ending on day `day`.
    /// The metric over a rolling window, saturating at the largest decimal: each day's metric is
    /// bounded (`add_metric`) but their sum need not be, and a sum beyond every threshold compares
    /// with the thresholds as the largest decimal does.
    pub(crate) fn rolling_sum(&self, day: i64, days: i64) -> Decimal {
        self.metric
            .range(day - days + 1..=day)
            .fold(Decimal::ZERO, |sum, (_, v)| sum.saturating_add(*v))
    }

    /// What the formula of docs/semantics.md §6 says the tier is at `t`.
    pub(crate) fn tier_formula(&self, p: &Program, t: Instant) -> usize {
        let w = self.window_key(p, t);
        match rolling_days(p) {
            Some(days) => level_for(p, self.rolling_sum(w, days)),
            None => {
                let cur = self.metric.get(&w).copied().unwrap_or_default();
                let prev = self.metric.get(&(w - 1)).copied().unwrap_or_default();
                level_for(p, cur).max(level_for(p, prev))
            }
        }
    }

    /// Adds to the tier metric of the window (or day) of `at`. A metric beyond what a decimal
    /// holds (a spend of 7.9 × 10^28) is an overflow error, as points beyond an `i64` are.
    pub(crate) fn add_metric(
        &mut self,
        p: &Program,
        j: &Journal,
        at: Instant,
        by: Decimal,
    ) -> Result<()> {
        if by.is_zero() {
            return Ok(());
        }
        let key = self.window_key(p, at);
        if let Some(days) = rolling_days(p) {
            if key <= self.tier_window - days {
                return Ok(()); // already outside the window
            }
        }
        self.save_metric(key);
        let v = self.metric.or_insert_with(key, Decimal::default);
        *v = v.checked_add(by).ok_or_else(|| j.overflow())?;
        Ok(())
    }

    pub(crate) fn change_tier(&mut self, p: &Program, j: &mut Journal, to: usize, at: Instant) {
        if to == self.tier {
            return;
        }
        j.effects.push(Effect::TierChanged {
            member: self.id.clone(),
            from: level_name(p, self.tier),
            to: level_name(p, to),
            at,
        });
        self.tier = to;
        self.tier_history.push((at, to));
    }

    /// An upgrade takes effect right after the event that crosses the threshold.
    pub(crate) fn upgrade_tier(&mut self, p: &Program, j: &mut Journal, now: Instant) {
        let f = self.tier_formula(p, now);
        if f > self.tier {
            self.change_tier(p, j, f, now);
        }
    }

    /// The next instant at which the tier must be re-evaluated.
    pub(crate) fn next_tier_check(&self, p: &Program) -> Option<Instant> {
        if p.levels().len() < 2 {
            return None;
        }
        match rolling_days(p) {
            None => Some(self.window_end(p).0),
            Some(days) => {
                let cal = p.calendar();
                let drop = self
                    .metric
                    .iter()
                    .find(|(d, v)| **d + days > self.tier_window && !v.is_zero())
                    .map(|(d, _)| *d + days);
                let fall = (self.tier > 0
                    && self.tier != self.formula_at_day(p, self.tier_window + 1))
                .then_some(self.tier_window + 1);
                let day = match (drop, fall) {
                    (Some(a), Some(b)) => a.min(b),
                    (a, b) => a.or(b)?,
                };
                Some(cal.midnight(crate::calendar::date_of_day(day)))
            }
        }
    }

    pub(crate) fn formula_at_day(&self, p: &Program, day: i64) -> usize {
        rolling_days(p).map_or(self.tier, |days| level_for(p, self.rolling_sum(day, days)))
    }

    /// A window boundary: the tier becomes what the formula says (at most one level down with
    /// `one_down`).
    pub(crate) fn tier_boundary(&mut self, p: &Program, j: &mut Journal, at: Instant) {
        let mut to = match rolling_days(p) {
            None => {
                self.tier_window += 1;
                let w = self.tier_window;
                self.retain_metric(|k| k >= w - 1);
                self.tier_formula(p, at)
            }
            Some(days) => {
                let day = day_number(p.calendar().date(at));
                self.tier_window = day;
                self.retain_metric(|k| k > day - days);
                level_for(p, self.rolling_sum(day, days))
            }
        };
        if p.spec().tiers.as_ref().map(|t| t.downgrade) == Some(Downgrade::OneDown) {
            to = to.max(self.tier.saturating_sub(1));
        }
        self.change_tier(p, j, to, at);
    }

    /// The TierAtRisk notice instant of the current window, if the program asks for one.
    pub(crate) fn at_risk_notice(&self, p: &Program) -> Option<(Instant, Instant)> {
        p.spec().tiers.as_ref()?.at_risk_days?;
        // A window beyond the range of `at_risk_window` (only a crafted snapshot has one) gets
        // no notice: it could not be marked as raised.
        let window = i32::try_from(self.tier_window).ok()?;
        if rolling_days(p).is_some() || self.at_risk_window == Some(window) {
            return None;
        }
        let (end, notice) = self.window_end(p);
        Some((notice?, end))
    }

    /// The end of the member's current calendar or anniversary window, and the instant of its
    /// TierAtRisk notice (`at_risk_days` before, at local midnight) if the program has one:
    /// remembered by [`remember_window_end`], computed otherwise.
    pub(crate) fn window_end(&self, p: &Program) -> (Instant, Option<Instant>) {
        match self.window_end.of(self.tier_window) {
            Some(remembered) => remembered,
            None => self.compute_window_end(p),
        }
    }

    pub(crate) fn compute_window_end(&self, p: &Program) -> (Instant, Option<Instant>) {
        let end = self.window_start(p, self.tier_window + 1);
        let notice = p
            .spec()
            .tiers
            .as_ref()
            .and_then(|t| t.at_risk_days)
            .map(|days| {
                let cal = p.calendar();
                cal.midnight(cal.date(end) - chrono::Days::new(u64::from(days)))
            });
        (end, notice)
    }

    /// Remembers [`window_end`] for the member's current window (calendar and anniversary
    /// windows with more than one level: the only ones that ask for it).
    pub(crate) fn remember_window_end(&mut self, p: &Program) {
        let wanted = p.levels().len() >= 2 && rolling_days(p).is_none();
        if wanted && self.window_end.of(self.tier_window).is_none() {
            let (end, notice) = self.compute_window_end(p);
            self.window_end.remember(self.tier_window, end, notice);
        }
    }

    pub(crate) fn raise_at_risk(
        &mut self,
        p: &Program,
        j: &mut Journal,
        at: Instant,
        end: Instant,
    ) {
        self.at_risk_window = i32::try_from(self.tier_window).ok();
        let cur = self
            .metric
            .get(&self.tier_window)
            .copied()
            .unwrap_or_default();
        let mut falls_to = level_for(p, cur);
        if p.spec().tiers.as_ref().map(|t| t.downgrade) == Some(Downgrade::OneDown) {
            falls_to = falls_to.max(self.tier.saturating_sub(1));
        }
        if falls_to < self.tier {
            j.effects.push(Effect::TierAtRisk {
                member: self.id.clone(),
                tier: level_name(p, self.tier),
                falls_to: level_name(p, falls_to),
                window_ends: end,
                at,
            });
        }
    }

    /// The metric in the current window and the window's end, for progress.
    pub(crate) fn current_metric(&self, p: &Program, t: Instant) -> (Decimal, Instant) {
        let w = self.window_key(p, t);
        match rolling_days(p) {
            Some(days) => (
                self.rolling_sum(w, days),
                day_start_after(p, p.calendar().date(t), 1),
            ),
            None => (
                self.metric.get(&w).copied().unwrap_or_default(),
                self.window_start(p, w + 1),
            ),
        }
    }

    /// The tier in force at `t` (for late events): from the change history.
    pub(crate) fn tier_at(&self, t: Instant) -> usize {
        let mut tier = 0;
        for (at, level) in &self.tier_history {
            if *at <= t {
                tier = *level;
            } else {
                break;
            }
        }
        tier
    }
}

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

mod analyzer;
mod compare;
mod report;
mod rows;

pub use analyzer::Analyzer;
pub use compare::{compare, Affected, Comparison, MetricRow, TierMixRow, TierMove, Unit};
pub use rows::{
    Analysis, Churn, EventCounts, Flows, MemberRow, Outstanding, PeriodRow, Rfm, Summary,
};

use crate::calendar::Period;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::ids::MemberId;
use crate::instant::Instant;
use crate::outcome::Account;
use crate::program::Program;
use rust_decimal::{Decimal, RoundingStrategy};

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
        if let Some(why) = self.as_of.and_then(crate::instant::out_of_range) {
            return bad("as_of", &why);
        }
        Ok(())
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

pub(crate) fn member_of(a: &Account) -> Option<&MemberId> {
    match a {
        Account::Available(m) | Account::Pending(m) | Account::Held(m) => Some(m),
        _ => None,
    }
}

/// `n / d` rounded to [`RATIO_PLACES`], or `None` when `d` is zero.
pub(crate) fn ratio(n: Decimal, d: Decimal) -> Option<Decimal> {
    n.checked_div(d)
        .map(|r| r.round_dp_with_strategy(RATIO_PLACES, RoundingStrategy::MidpointNearestEven))
}

pub(crate) fn count_ratio(n: u64, d: u64) -> Option<Decimal> {
    ratio(Decimal::from(n), Decimal::from(d))
}

pub(crate) fn money_ratio(n: Decimal, d: u64, minor: u32) -> Option<Decimal> {
    n.checked_div(Decimal::from(d))
        .map(|r| r.round_dp_with_strategy(minor, RoundingStrategy::MidpointNearestEven))
}

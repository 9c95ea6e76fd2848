//! Calendar notions in the program's time zone: local dates, midnights, periods, windows.
//!
//! Every "N days after an instant" is 00:00 local time on the local date N days after the
//! instant's local date (docs/semantics.md §2). Where 00:00 does not exist (a daylight-saving gap at
//! midnight), the day starts at the first local instant that exists.

use crate::instant::Instant;
use chrono::{Datelike, Days, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, OnceLock};

/// A calendar period, for caps, limits and end-of-period expiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// A local day.
    Day,
    /// A local ISO week, Monday to Sunday.
    Week,
    /// A local calendar month.
    Month,
    /// A local calendar quarter.
    Quarter,
    /// A local calendar year.
    Year,
    /// The whole life of the rule or reward.
    Life,
}

impl Period {
    /// The name of the period starting at `start`, for tables and charts: `2026-03-14` (day),
    /// `2026-W11` (ISO week), `2026-03`, `2026-Q1`, `2026`; `life` for [`Period::Life`].
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use pointbook::calendar::Period;
    /// let d: NaiveDate = "2026-08-01".parse()?;
    /// assert_eq!(Period::Quarter.label(d), "2026-Q3");
    /// assert_eq!(Period::Month.label(d), "2026-08");
    /// # Ok::<(), chrono::ParseError>(())
    /// ```
    pub fn label(self, start: NaiveDate) -> String {
        match self {
            Period::Day => start.format("%Y-%m-%d").to_string(),
            Period::Week => {
                let week = start.iso_week();
                format!("{}-W{:02}", week.year(), week.week())
            }
            Period::Month => start.format("%Y-%m").to_string(),
            Period::Quarter => format!("{}-Q{}", start.year(), start.month0() / 3 + 1),
            Period::Year => start.year().to_string(),
            Period::Life => "life".to_owned(),
        }
    }
}

/// The program's calendar: its time zone and the arithmetic on it.
///
/// The local midnights of a year are computed once, on first use, for the years of nearly
/// every history (1970 to 2169), and then looked up: from the time zone's rules, a midnight
/// costs a search of its transitions and a walk out of any gap, and every lot's maturity and
/// expiry asks for one. Other years ask the rules each time. Clones share what was computed.
#[derive(Clone)]
pub struct Calendar {
    tz: Tz,
    years: Arc<[OnceLock<YearMidnights>]>,
}

/// The midnights of a year's local dates in seconds since the epoch, once computed
/// ([`Calendar::midnights`]).
type YearMidnights = Option<Box<[i64]>>;

/// The first year whose midnights are kept.
const FIRST_YEAR: i32 = 1970;
/// How many years' midnights are kept, from [`FIRST_YEAR`].
const YEARS: usize = 200;

impl PartialEq for Calendar {
    fn eq(&self, other: &Calendar) -> bool {
        self.tz == other.tz
    }
}

impl Eq for Calendar {}

impl std::fmt::Debug for Calendar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Calendar").field("tz", &self.tz).finish()
    }
}

impl Calendar {
    /// A calendar in a time zone.
    pub fn new(tz: Tz) -> Self {
        Calendar {
            tz,
            years: (0..YEARS).map(|_| OnceLock::new()).collect(),
        }
    }

    /// The time zone.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The local date of an instant.
    pub fn date(&self, t: Instant) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    /// The first instant of a local date (00:00 local, or the end of a gap at midnight).
    pub fn midnight(&self, d: NaiveDate) -> Instant {
        let kept = self
            .midnights(d.year())
            .and_then(|days| days.get(d.ordinal0() as usize))
            .and_then(|&s| Instant::from_timestamp(s, 0));
        kept.unwrap_or_else(|| self.midnight_by_rules(d))
    }

    /// [`Calendar::midnight`] from the time zone's rules.
    fn midnight_by_rules(&self, d: NaiveDate) -> Instant {
        let start = d.and_time(chrono::NaiveTime::MIN);
        for minutes in 0..=(26 * 60) {
            let local = start + chrono::Duration::minutes(minutes);
            if let Some(t) = self.tz.from_local_datetime(&local).earliest() {
                return t.with_timezone(&Utc);
            }
        }
        // Unreachable for real time zones (no gap lasts a day); fall back to UTC midnight.
        Utc.from_utc_datetime(&start)
    }

    /// The midnights (seconds since the epoch) of every local date of `year`, in order, as
    /// [`Calendar::midnight_by_rules`] gives them; `None` for a year not kept (or, were there
    /// one, a year with a midnight between two seconds).
    fn midnights(&self, year: i32) -> Option<&[i64]> {
        let i = usize::try_from(year.checked_sub(FIRST_YEAR)?).ok()?;
        let kept = self.years.get(i)?.get_or_init(|| {
            let mut d = NaiveDate::from_ymd_opt(year, 1, 1)?;
            let mut days = Vec::with_capacity(366);
            while d.year() == year {
                let t = self.midnight_by_rules(d);
                if t.timestamp_subsec_nanos() != 0 {
                    return None;
                }
                days.push(t.timestamp());
                d = d.succ_opt()?;
            }
            Some(days.into_boxed_slice())
        });
        kept.as_deref()
    }

    /// 00:00 local on the local date `days` after `t`'s local date.
    pub fn days_after(&self, t: Instant, days: u32) -> Instant {
        self.midnight(add_days(self.date(t), days))
    }

    /// The first local date of the period containing `d`, or `None` for [`Period::Life`].
    pub fn period_start(&self, period: Period, d: NaiveDate) -> Option<NaiveDate> {
        match period {
            Period::Day => Some(d),
            Period::Week => Some(d - Days::new(u64::from(d.weekday().num_days_from_monday()))),
            Period::Month => d.with_day(1),
            Period::Quarter => NaiveDate::from_ymd_opt(d.year(), (d.month0() / 3) * 3 + 1, 1),
            Period::Year => NaiveDate::from_ymd_opt(d.year(), 1, 1),
            Period::Life => None,
        }
    }

    /// The first local date of the period after the one starting at `start`.
    pub fn next_period_start(&self, period: Period, start: NaiveDate) -> NaiveDate {
        let next = match period {
            Period::Day => start.checked_add_days(Days::new(1)),
            Period::Week => start.checked_add_days(Days::new(7)),
            Period::Month => start.checked_add_months(Months::new(1)),
            Period::Quarter => start.checked_add_months(Months::new(3)),
            Period::Year => start.checked_add_months(Months::new(12)),
            Period::Life => None,
        };
        next.unwrap_or(NaiveDate::MAX)
    }
}

/// `d` plus `days`, saturating at the last representable date.
pub fn add_days(d: NaiveDate, days: u32) -> NaiveDate {
    d.checked_add_days(Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MAX)
}

/// The date `years` after `d` on the same month and day; 29 February becomes 28 February in
/// years without it.
pub fn same_day_in_year(d: NaiveDate, year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, d.month(), d.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, d.month(), 28))
        .unwrap_or(NaiveDate::MAX)
}

/// A day number for keying per-day data (days since the common era).
pub fn day_number(d: NaiveDate) -> i64 {
    i64::from(d.num_days_from_ce())
}

/// The date of a day number.
pub fn date_of_day(n: i64) -> NaiveDate {
    i32::try_from(n)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .unwrap_or(NaiveDate::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{Africa, America, Asia, Australia, Europe, Pacific};

    /// Zones with what makes calendars hard: gaps and repeats at midnight, a day skipped,
    /// offsets of minutes and seconds, daylight saving below standard time, 30-minute shifts.
    const ZONES: [Tz; 14] = [
        Tz::UTC,
        America::New_York,
        America::Santiago,
        America::Sao_Paulo,
        America::Havana,
        Asia::Beirut,
        Asia::Tehran,
        Asia::Kathmandu,
        Australia::Lord_Howe,
        Europe::Dublin,
        Africa::Casablanca,
        Africa::Monrovia,
        Pacific::Apia,
        Pacific::Kiritimati,
    ];

    /// The kept midnights are the rules' midnights, over years of every kind (kept, with a
    /// day skipped, at the edges of the kept ones, and outside them).
    #[test]
    fn kept_midnights_are_the_rules_midnights() {
        for tz in ZONES {
            let cal = Calendar::new(tz);
            for year in [
                1900, 1969, 1970, 1971, 1972, 2011, 2012, 2026, 2038, 2168, 2169, 2170,
            ] {
                let Some(mut d) = NaiveDate::from_ymd_opt(year, 1, 1) else {
                    continue;
                };
                while d.year() == year {
                    let midnight = cal.midnight(d);
                    assert_eq!(midnight, cal.midnight_by_rules(d), "{tz} {d}");
                    // A day skipped whole (Samoa's 2011-12-30) starts when the next one does.
                    assert!(cal.date(midnight) >= d, "{tz} {d}");
                    d = d.succ_opt().unwrap_or(NaiveDate::MAX);
                }
            }
            assert!(cal.midnights(2026).is_some());
            assert!(cal.midnights(FIRST_YEAR - 1).is_none());
            assert!(cal.midnights(FIRST_YEAR + YEARS as i32).is_none());
        }
    }
}

//! Calendar notions in the program's time zone: local dates, midnights, periods, windows.
//!
//! Every "N days after an instant" is 00:00 local time on the local date N days after the
//! instant's local date (SEMANTICS §2). Where 00:00 does not exist (a daylight-saving gap at
//! midnight), the day starts at the first local instant that exists.

use crate::instant::Instant;
use chrono::{Datelike, Days, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

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

/// The program's calendar: its time zone and the arithmetic on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Calendar {
    tz: Tz,
}

impl Calendar {
    /// A calendar in a time zone.
    pub fn new(tz: Tz) -> Self {
        Calendar { tz }
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

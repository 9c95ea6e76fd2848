//! The program's calendar: local dates, midnights across daylight saving, periods.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use pointbook::calendar::{same_day_in_year, Calendar, Period};
use pointbook::Instant;

fn ny() -> Calendar {
    Calendar::new(chrono_tz::America::New_York)
}

fn at(s: &str) -> Instant {
    s.parse().expect("test instant")
}

#[test]
fn days_after_is_local_midnight_across_dst() {
    // docs/semantics.md example A: 365 days after 2026-03-14 09:30 local.
    assert_eq!(
        ny().days_after(at("2026-03-14T13:30:00Z"), 365),
        at("2027-03-14T05:00:00Z")
    );
    assert_eq!(
        ny().days_after(at("2026-03-14T13:30:00Z"), 14),
        at("2026-03-28T04:00:00Z")
    );
    // Zero days: 00:00 of the same local date, already passed.
    assert!(ny().days_after(at("2026-03-14T13:30:00Z"), 0) <= at("2026-03-14T13:30:00Z"));
}

#[test]
fn local_date_not_utc_date() {
    // 02:00 UTC on 1 Jan is still 31 Dec in New York.
    assert_eq!(
        ny().date(at("2027-01-01T02:00:00Z")),
        NaiveDate::from_ymd_opt(2026, 12, 31).expect("date")
    );
}

#[test]
fn midnight_in_a_gap_starts_at_first_existing_instant() {
    // Santiago moved clocks from 00:00 to 01:00 on 2022-09-11.
    let cal = Calendar::new(chrono_tz::America::Santiago);
    let d = NaiveDate::from_ymd_opt(2022, 9, 11).expect("date");
    assert_eq!(cal.midnight(d), at("2022-09-11T04:00:00Z"));
}

#[test]
fn periods() {
    let cal = ny();
    let d = NaiveDate::from_ymd_opt(2026, 8, 13).expect("date");
    assert_eq!(
        cal.period_start(Period::Week, d),
        NaiveDate::from_ymd_opt(2026, 8, 10)
    );
    assert_eq!(
        cal.period_start(Period::Quarter, d),
        NaiveDate::from_ymd_opt(2026, 7, 1)
    );
    assert_eq!(cal.period_start(Period::Life, d), None);
    assert_eq!(
        same_day_in_year(NaiveDate::from_ymd_opt(1992, 2, 29).expect("date"), 2027),
        NaiveDate::from_ymd_opt(2027, 2, 28).expect("date")
    );
}

//! Analytics on histories small enough to check on paper (Bean & Leaf, docs/semantics.md §11).
//! Every expected number is worked out in the comment above it.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::NaiveDate;
use common::{bean_and_leaf, event};
use pointbook::analytics::{analyze, compare, Analysis, Analyzer, Options};
use pointbook::calendar::Period;
use pointbook::{Event, Program};
use rust_decimal::Decimal;

fn events(lines: &[&str]) -> Vec<Event> {
    lines.iter().map(|l| event(l)).collect()
}

fn dec(s: &str) -> Option<Decimal> {
    Some(s.parse().unwrap())
}

fn at(s: &str) -> Option<pointbook::Instant> {
    Some(s.parse().unwrap())
}

fn month(a: &Analysis, y: i32, m: u32) -> &pointbook::analytics::PeriodRow {
    let start = NaiveDate::from_ymd_opt(y, m, 1).unwrap();
    a.periods.iter().find(|p| p.start == start).unwrap()
}

/// Two members over 13 months: signups, a refund, a redemption, two expiries.
const HISTORY: &[&str] = &[
    // 25 signup points each, available at once, expiring a year later.
    r#"{"type":"enroll","id":"e1","member":"m1","at":"2026-01-10T15:00:00Z"}"#,
    r#"{"type":"enroll","id":"e2","member":"m2","at":"2026-01-20T15:00:00Z"}"#,
    // 130 points, pending until 2026-02-15, expiring 2027-02-01.
    r#"{"type":"purchase","id":"p1","member":"m1","at":"2026-02-01T15:00:00Z","lines":[{"sku":"BEANS","category":"coffee","amount":"130.00"}]}"#,
    // 20 points, reversed in full two days later.
    r#"{"type":"purchase","id":"p2","member":"m2","at":"2026-02-10T15:00:00Z","lines":[{"sku":"BEANS","category":"coffee","amount":"20.00"}]}"#,
    r#"{"type":"refund","id":"r2","member":"m2","at":"2026-02-12T15:00:00Z","purchase":"p2","lines":[{"sku":"BEANS"}]}"#,
    // 10.00 of pastry: 10 base + 10 pastry-double = 20, matured by 2026-03-20.
    r#"{"type":"purchase","id":"p3","member":"m1","at":"2026-03-05T15:00:00Z","lines":[{"sku":"CAKE","category":"pastry","amount":"10.00"}]}"#,
    // 150 points FIFO: 25 from the signup lot, 125 from p1 (5 left there), p3's 20 untouched.
    r#"{"type":"redeem","id":"x1","member":"m1","at":"2026-03-20T15:00:00Z","reward":"free-drink"}"#,
];

fn history() -> Analysis {
    let options = Options {
        as_of: at("2027-02-15T12:00:00Z"),
        ..Options::default()
    };
    analyze(bean_and_leaf(), &events(HISTORY), options).unwrap()
}

#[test]
fn flows_land_in_the_period_they_happen() {
    let a = history();
    // January 2026 to February 2027.
    assert_eq!(a.periods.len(), 14);
    assert_eq!(a.events.applied, 7);
    let jan = month(&a, 2026, 1);
    assert_eq!((jan.flows.issued, jan.outstanding.available), (50, 50));
    let feb = month(&a, 2026, 2);
    assert_eq!((feb.flows.issued, feb.flows.reversed), (150, 20));
    // p1 matured on 2026-02-15: 25 + 130 for m1, 25 for m2, nothing pending.
    assert_eq!(
        (feb.outstanding.available, feb.outstanding.pending),
        (180, 0)
    );
    let mar = month(&a, 2026, 3);
    assert_eq!((mar.flows.issued, mar.flows.redeemed), (20, 150));
    assert_eq!(mar.outstanding.total(), 50);
    assert_eq!(mar.liability, Decimal::new(50, 2));
    // m2's signup lot expires 2027-01-20, the 5 left of p1 on 2027-02-01.
    assert_eq!(month(&a, 2027, 1).flows.expired, 25);
    let last = month(&a, 2027, 2);
    assert_eq!(last.flows.expired, 5);
    assert_eq!(last.outstanding.total(), 20);
    // The last period ends at the analysis instant.
    assert_eq!(Some(last.end), at("2027-02-15T12:00:00Z"));
    // Between: nothing moves, the liability carries over.
    assert_eq!(month(&a, 2026, 9).outstanding.total(), 50);
    assert_eq!(month(&a, 2026, 9).flows.issued, 0);
}

#[test]
fn liability_breakage_and_deferred_revenue() {
    let s = history().summary;
    assert_eq!(s.flows.issued, 220);
    assert_eq!(s.net_issued, 200);
    assert_eq!((s.flows.redeemed, s.flows.expired), (150, 30));
    assert_eq!(s.outstanding.total(), 20);
    assert_eq!(s.liability, Decimal::new(20, 2));
    assert_eq!(s.cost, Decimal::new(200, 2));
    // 150 / 200 and 30 / 200.
    assert_eq!(s.redemption_rate, dec("0.75"));
    assert_eq!(s.breakage_rate, dec("0.15"));
    // 30 of the 180 points that ended expired: 0.16666… → 0.1667; 20 × 0.1667 = 3.334 → 3.
    assert_eq!(s.expected_breakage_rate, dec("0.1667"));
    assert_eq!(s.expected_breakage_points, 3);
    assert_eq!(s.expected_breakage_value, Decimal::new(3, 2));
    assert_eq!(s.deferred_revenue, Decimal::new(17, 2));
}

#[test]
fn purchase_metrics() {
    let a = history();
    let feb = month(&a, 2026, 2);
    // Two purchases for 150.00, 20.00 refunded; AOV 75.00; two first-time buyers.
    assert_eq!(
        (feb.purchases, feb.purchasers, feb.returning_purchasers),
        (2, 2, 0)
    );
    assert_eq!(feb.sales, Decimal::new(15000, 2));
    assert_eq!(feb.refunds, Decimal::new(2000, 2));
    assert_eq!(feb.average_order_value, dec("75.00"));
    assert_eq!(feb.repurchase_rate, dec("0"));
    let mar = month(&a, 2026, 3);
    assert_eq!((mar.purchasers, mar.returning_purchasers), (1, 1));
    assert_eq!(mar.repurchase_rate, dec("1"));
    let s = &a.summary;
    // 160.00 over 3 purchases = 53.333… → 53.33; m1 bought twice, m2 once.
    assert_eq!(s.average_order_value, dec("53.33"));
    assert_eq!(s.repurchase_rate, dec("0.5"));
    assert_eq!(s.purchase_frequency, dec("1.5"));
    // Lifetime value: m1 140.00, m2 20.00 − 20.00 = 0 → mean 70.00.
    assert_eq!(s.average_lifetime_value, dec("70.00"));
    let m2 = &a.members[1];
    assert_eq!(m2.lifetime_value, Decimal::ZERO);
    assert_eq!(m2.points_issued, 25);
    let m1 = &a.members[0];
    assert_eq!((m1.points_issued, m1.points_redeemed), (175, 150));
    assert_eq!(m1.outstanding.total(), 20);
}

#[test]
fn retention_counts_members_active_in_the_last_90_days() {
    let a = history();
    // Nobody had bought before February.
    assert_eq!(month(&a, 2026, 2).active_start, 0);
    assert_eq!(month(&a, 2026, 2).retention_rate, None);
    // Both bought in February and are still active on 1 April: (2 − 0) / 2.
    let mar = month(&a, 2026, 3);
    assert_eq!((mar.active_start, mar.active_end), (2, 2));
    assert_eq!(mar.retention_rate, dec("1"));
    // On 1 June m2's last purchase (10 February) is 111 days old; m1's (5 March) 88.
    let may = month(&a, 2026, 5);
    assert_eq!((may.active_start, may.active_end), (2, 1));
    assert_eq!(may.retention_rate, dec("0.5"));
    let jun = month(&a, 2026, 6);
    assert_eq!((jun.active_start, jun.active_end), (1, 0));
    assert_eq!(jun.retention_rate, dec("0"));
}

#[test]
fn rfm_scores_and_segments() {
    let a = history();
    // m1 is better on every axis: of two members the better scores 1 + 5·1/2 = 3, the other 1.
    let m1 = a.members[0].rfm.as_ref().unwrap();
    assert_eq!((m1.r, m1.f, m1.m, m1.segment), (3, 3, 3, "loyal"));
    // 2026-03-05 to 2027-02-15 local.
    assert_eq!(m1.recency_days, 347);
    let m2 = a.members[1].rfm.as_ref().unwrap();
    assert_eq!((m2.r, m2.f, m2.m, m2.segment), (1, 1, 1, "hibernating"));
    assert_eq!(a.summary.segments.get("loyal"), Some(&1));
}

#[test]
fn churn_risk_follows_each_members_own_rhythm() {
    let mut lines =
        vec![r#"{"type":"enroll","id":"e","member":"r","at":"2026-01-01T15:00:00Z"}"#.to_owned()];
    // Purchases on 1, 11, 21 January and 10 February: gaps 10, 10, 20 days.
    for (i, d) in ["01-01", "01-11", "01-21", "02-10"].iter().enumerate() {
        lines.push(format!(
            r#"{{"type":"purchase","id":"p{i}","member":"r","at":"2026-{d}T16:00:00Z","lines":[{{"sku":"A","category":"coffee","amount":"5.00"}}]}}"#
        ));
    }
    let events: Vec<Event> = lines.iter().map(|l| event(l)).collect();
    let run = |as_of: &str| {
        let options = Options {
            as_of: at(as_of),
            ..Options::default()
        };
        analyze(bean_and_leaf(), &events, options).unwrap().members[0]
            .churn
            .clone()
    };
    // The 90th percentile of [10, 10, 20] by nearest rank is the 3rd: 20 days.
    let calm = run("2026-03-02T12:00:00Z");
    assert_eq!(
        (calm.at_risk, calm.days_since_last, calm.threshold_days),
        (false, Some(20), Some(20))
    );
    let quiet = run("2026-03-03T12:00:00Z");
    assert!(quiet.at_risk);
    assert!(
        quiet.reason.contains("no purchase for 21 days"),
        "{}",
        quiet.reason
    );
    // With the 50th percentile the threshold is the 2nd gap: 10 days.
    let options = Options {
        as_of: at("2026-02-21T12:00:00Z"),
        churn_percentile: 50,
        ..Options::default()
    };
    let c = &analyze(bean_and_leaf(), &events, options).unwrap().members[0].churn;
    assert_eq!((c.at_risk, c.threshold_days), (true, Some(10)));
    // Two purchases are not a rhythm.
    let few = analyze(bean_and_leaf(), &events[..3], Options::default()).unwrap();
    assert!(!few.members[0].churn.at_risk);
    assert!(few.members[0].churn.reason.contains("at least 3"));
}

/// A member wins gold in August 2026 and loses it at 2028-01-01 (docs/semantics.md example D).
#[test]
fn tier_mix_and_migrations_over_time() {
    let h = events(&[
        r#"{"type":"enroll","id":"e1","member":"g","at":"2026-08-01T15:00:00Z"}"#,
        r#"{"type":"enroll","id":"e2","member":"s","at":"2026-08-01T16:00:00Z"}"#,
        r#"{"type":"purchase","id":"p1","member":"g","at":"2026-08-10T15:00:00Z","lines":[{"sku":"A","category":"coffee","amount":"320.00"}]}"#,
    ]);
    let options = Options {
        period: Period::Quarter,
        as_of: at("2028-01-15T12:00:00Z"),
        ..Options::default()
    };
    let a = analyze(bean_and_leaf(), &h, options).unwrap();
    assert_eq!(a.tiers, ["green", "gold"]);
    let q = |y: i32, m: u32| {
        a.periods
            .iter()
            .find(|p| p.start == NaiveDate::from_ymd_opt(y, m, 1).unwrap())
            .unwrap()
    };
    assert_eq!(q(2026, 7).tier_mix, [1, 1]);
    assert_eq!((q(2026, 7).tier_ups, q(2026, 7).tier_downs), (1, 0));
    // Each period is named and dated by its local days; the last one ends at as_of's date.
    assert_eq!(q(2026, 7).label, "2026-Q3");
    assert_eq!(
        q(2026, 7).last,
        NaiveDate::from_ymd_opt(2026, 9, 30).unwrap()
    );
    assert_eq!(q(2028, 1).label, "2028-Q1");
    assert_eq!(
        q(2028, 1).last,
        NaiveDate::from_ymd_opt(2028, 1, 15).unwrap()
    );
    assert_eq!(q(2027, 10).tier_mix, [1, 1]);
    assert_eq!(q(2028, 1).tier_mix, [2, 0]);
    assert_eq!((q(2028, 1).tier_ups, q(2028, 1).tier_downs), (0, 1));
    assert_eq!(a.summary.tier_mix, [2, 0]);
    // Every point expired in Q3 2027: 25 + 25 signup, 320 earned.
    assert_eq!(q(2027, 7).flows.expired, 370);
    assert_eq!(a.summary.outstanding.total(), 0);
    assert_eq!(a.summary.expected_breakage_rate, dec("1"));
}

#[test]
fn compare_shows_what_a_richer_program_would_cost() {
    let richer = pointbook::samples::BEAN_AND_LEAF.replace("base_rate = 1 ", "base_rate = 2 ");
    assert_ne!(richer, pointbook::samples::BEAN_AND_LEAF);
    let b = Program::from_toml(&richer).unwrap();
    let options = Options {
        as_of: at("2027-02-15T12:00:00Z"),
        ..Options::default()
    };
    let a = history();
    let b = analyze(b, &events(HISTORY), options).unwrap();
    let c = compare(&a, &b, 10);
    assert!(!c.is_identical());
    let issued = c
        .metrics
        .iter()
        .find(|m| m.metric == "points_issued")
        .unwrap();
    // Purchases earn double: p1 260, p3 (10 base ×2 + pastry-double 20) 40; signups 50.
    assert_eq!(
        (issued.a, issued.b, issued.delta),
        (dec("200"), dec("350"), dec("150"))
    );
    let cost = c.metrics.iter().find(|m| m.metric == "cost").unwrap();
    assert_eq!(cost.delta, dec("1.50"));
    // m1: 175 → 325; m2 unchanged (its purchase was refunded).
    assert_eq!(c.most_affected.len(), 1);
    assert_eq!(c.most_affected[0].member.to_string(), "m1");
    assert_eq!(c.most_affected[0].delta, 150);
    // …and m1's 300 qualifying points win gold under B (held through 2027).
    assert_eq!(c.members_changing_tier, 1);
    assert_eq!(
        (c.tier_moves[0].from.as_str(), c.tier_moves[0].to.as_str()),
        ("green", "gold")
    );
    assert_eq!(c.most_affected[0].tier_b, "gold");
    assert!(compare(&a, &a, 10).is_identical());
}

/// In a what-if, a member who would end in another tier is listed before members whose points
/// differ more but whose tier does not.
#[test]
fn members_changing_tier_come_first_among_the_most_affected() {
    let lower = pointbook::samples::BEAN_AND_LEAF.replace("threshold = 300", "threshold = 250");
    assert_ne!(lower, pointbook::samples::BEAN_AND_LEAF);
    let h = events(&[
        r#"{"type":"enroll","id":"e1","member":"t","at":"2026-03-01T15:00:00Z"}"#,
        r#"{"type":"enroll","id":"e2","member":"r","at":"2026-03-01T15:00:00Z"}"#,
        // t: 260 then 20. A (gold at 300): 280, green. B (gold at 250): gold after 260, so
        // 20 + 25% = 25: 285. With the 25 signup points: 305 and 310, a difference of 5.
        r#"{"type":"purchase","id":"p1","member":"t","at":"2026-03-02T15:00:00Z","lines":[{"sku":"A","category":"coffee","amount":"260.00"}]}"#,
        r#"{"type":"purchase","id":"p2","member":"t","at":"2026-03-03T15:00:00Z","lines":[{"sku":"A","category":"coffee","amount":"20.00"}]}"#,
        // r: 260 then 100. A: 360, gold after the second purchase. B: 260 + 125 = 385, gold.
        // With signup: 385 and 410, a difference of 25, and gold under both.
        r#"{"type":"purchase","id":"p3","member":"r","at":"2026-03-02T15:00:00Z","lines":[{"sku":"A","category":"coffee","amount":"260.00"}]}"#,
        r#"{"type":"purchase","id":"p4","member":"r","at":"2026-03-03T15:00:00Z","lines":[{"sku":"A","category":"coffee","amount":"100.00"}]}"#,
    ]);
    let options = Options {
        as_of: at("2026-12-01T12:00:00Z"),
        ..Options::default()
    };
    let a = analyze(bean_and_leaf(), &h, options).unwrap();
    let b = analyze(Program::from_toml(&lower).unwrap(), &h, options).unwrap();
    let c = compare(&a, &b, 10);
    let rows: Vec<(String, i64, &str, &str)> = c
        .most_affected
        .iter()
        .map(|m| {
            (
                m.member.to_string(),
                m.delta,
                m.tier_a.as_str(),
                m.tier_b.as_str(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("t".to_owned(), 5, "green", "gold"),
            ("r".to_owned(), 25, "gold", "gold"),
        ]
    );
    assert_eq!(c.members_changing_tier, 1);
}

#[test]
fn rejected_events_are_counted_and_change_nothing() {
    let mut lines: Vec<&str> = HISTORY.to_vec();
    // Unknown member, then a resend of p1.
    lines.push(r#"{"type":"purchase","id":"p9","member":"nobody","at":"2026-04-01T15:00:00Z","lines":[{"sku":"A","category":"coffee","amount":"5.00"}]}"#);
    lines.push(HISTORY[2]);
    let options = Options {
        as_of: at("2027-02-15T12:00:00Z"),
        ..Options::default()
    };
    let a = analyze(bean_and_leaf(), &events(&lines), options).unwrap();
    assert_eq!(
        (a.events.applied, a.events.duplicates, a.events.rejected),
        (7, 1, 1)
    );
    assert_eq!(a.summary, history().summary);
    assert_eq!(a.periods, history().periods);
}

#[test]
fn bad_options_are_refused() {
    for options in [
        Options {
            period: Period::Life,
            ..Options::default()
        },
        Options {
            active_days: 0,
            ..Options::default()
        },
        Options {
            churn_percentile: 101,
            ..Options::default()
        },
    ] {
        let err = Analyzer::new(bean_and_leaf(), options).unwrap_err();
        assert_eq!(err.code(), "invalid_options");
    }
}

#[test]
fn an_empty_history_has_no_periods() {
    let a = analyze(bean_and_leaf(), &[], Options::default()).unwrap();
    assert!(a.periods.is_empty());
    assert_eq!(a.summary.liability, Decimal::ZERO);
    assert_eq!(a.summary.redemption_rate, None);
}

/// A late forget (a minute before the member's enrollment, within the late tolerance) closes
/// the account now: it is counted after the enrollment, never in an earlier period.
#[test]
fn a_late_forget_is_counted_when_it_takes_effect() {
    let h = events(&[
        r#"{"type":"enroll","id":"e0","member":"m0","at":"2026-11-01T12:00:00Z"}"#,
        r#"{"type":"enroll","id":"e1","member":"m4","at":"2027-01-01T05:00:00Z"}"#,
        r#"{"type":"forget","id":"f1","member":"m4","at":"2027-01-01T04:59:00Z"}"#,
    ]);
    let a = analyze(bean_and_leaf(), &h, Options::default()).unwrap();
    let dec_ = month(&a, 2026, 12);
    assert_eq!(
        (dec_.members, dec_.forgotten, dec_.tier_mix.clone()),
        (1, 0, vec![1, 0])
    );
    let jan = month(&a, 2027, 1);
    assert_eq!((jan.enrolled, jan.forgotten, jan.members), (1, 1, 1));
    assert_eq!(jan.tier_mix, [1, 0]);
}

/// An analysis as of an instant outside the years 1900 to 9999 is refused with
/// `invalid_options` before any replay: weeks up to year 262142 grew to 10 GB.
#[test]
fn an_analysis_as_of_outside_the_supported_years_is_refused() {
    let far = chrono::NaiveDate::from_ymd_opt(262_142, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc());
    let options = pointbook::analytics::Options {
        as_of: far,
        ..Default::default()
    };
    let e = pointbook::analytics::analyze(bean_and_leaf(), &[], options).unwrap_err();
    assert_eq!(e.code(), "invalid_options");
    assert_eq!(
        e.to_string(),
        "analytics option as_of: instant in year 262142 is outside 1900..=9999"
    );
    let json = r#"{"as_of":"10000-01-01T00:00:00Z"}"#;
    let parsed = pointbook::analytics::Options::from_json(json);
    assert!(parsed.is_err_and(|e| e.code() == "invalid_options"));
}

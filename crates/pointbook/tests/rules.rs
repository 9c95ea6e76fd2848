//! One test per rule of docs/semantics.md that the worked examples do not reach.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use pointbook::{Book, Effect, Error, Event, Points, Program};

fn at(s: &str) -> pointbook::Instant {
    s.parse().unwrap()
}

fn with(replacements: &[(&str, &str)]) -> Book {
    let mut text = pointbook::samples::BEAN_AND_LEAF.to_owned();
    for (from, to) in replacements {
        assert!(text.contains(from), "{from}");
        text = text.replace(from, to);
    }
    Book::new(Program::from_toml(&text).unwrap())
}

fn program_file(name: &str) -> Book {
    let path = format!(
        "{}/../../examples/programs/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    Book::new(Program::parse(&std::fs::read_to_string(path).unwrap()).unwrap())
}

fn has(o: &pointbook::Outcome, f: impl Fn(&Effect) -> bool) -> bool {
    o.effects.iter().any(f)
}

// ---- events: shape and errors -------------------------------------------------------------

#[test]
fn amounts_with_too_many_decimals_name_the_line() {
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    let e = b
        .apply(&event(r#"{"type":"purchase","id":"p1","member":"m1","at":"2026-03-14T13:30:00Z","lines":[{"sku":"A","category":"coffee","amount":"1.00"},{"sku":"B","category":"coffee","amount":"4.755"}]}"#))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "event p1: line 2: amount \"4.755\" has more decimals than USD allows"
    );
    assert_eq!(e.code(), "invalid_event");
}

/// Issue 18, item 1: an amount with more places than a decimal holds (28) is refused, where it
/// was rounded: both of these were credited as 4.75. Zeros past the 28th place change nothing,
/// so an amount written with them is exact and accepted.
#[test]
fn amounts_beyond_28_places_are_refused_not_rounded() {
    let purchase = |id: &str, amount: &str| {
        format!(
            r#"{{"type":"purchase","id":"{id}","member":"m1","at":"2026-03-14T13:30:00Z","lines":[{{"sku":"A","category":"coffee","amount":"{amount}"}}]}}"#
        )
    };
    for amount in [
        "4.750000000000000000000000000001",
        "4.749999999999999999999999999999",
        "79228162514264337593543950336",
    ] {
        let e = Event::from_json(&purchase("p1", amount)).unwrap_err();
        assert_eq!(e.code(), "invalid_event");
        assert!(
            e.to_string()
                .contains(&format!("\"{amount}\" cannot be held exactly")),
            "{e}"
        );
    }
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    let zeros = ok(&mut b, &purchase("p1", "4.750000000000000000000000000000"));
    let plain = ok(&mut b, &purchase("p2", "4.75"));
    assert_eq!(zeros.points, plain.points);
}

#[test]
fn malformed_events_are_typed_errors() {
    let cases = [
        (
            r#"{"type":"purchase","id":"p1","member":"m1","at":"2026-03-14T13:30:00Z","lines":[{"sku":"A","amount":4.75}]}"#,
            "p1",
        ),
        (
            r#"{"type":"purchase","id":"p2","member":"m1","at":"2026-03-14T13:30:00Z","lines":[{"sku":"A","amount":"4.75","colour":"red"}]}"#,
            "p2",
        ),
        (
            r#"{"type":"purchase","id":"p3","member":"m1","at":"yesterday","lines":[]}"#,
            "p3",
        ),
        (r#"{"type":"teleport","id":"p4"}"#, "p4"),
        (
            r#"{"type":"adjust","id":"a1","member":"m1","at":"2026-03-14T13:30:00Z","points":99999999999999999999,"reason":"x"}"#,
            "a1",
        ),
        (r#"not json"#, "?"),
        (r#"{"id":"x"}"#, "x"),
    ];
    for (json, id) in cases {
        match Event::from_json(json) {
            Err(Error::InvalidEvent { event, .. }) => assert_eq!(event, id, "{json}"),
            other => panic!("{json}: {other:?}"),
        }
    }
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    for (json, code) in [
        (
            r#"{"type":"purchase","id":"n1","member":"m1","at":"2026-03-14T13:30:00Z","lines":[{"sku":"A","amount":"-1.00"}]}"#,
            "invalid_event",
        ),
        (
            r#"{"type":"purchase","id":"n2","member":"m1","at":"2026-03-14T13:30:00Z","lines":[]}"#,
            "invalid_event",
        ),
        (
            r#"{"type":"purchase","id":"n3","member":"m1","at":"2026-03-14T13:30:00Z","lines":[{"sku":"A","amount":"1.00","quantity":0}]}"#,
            "invalid_event",
        ),
        (
            r#"{"type":"purchase","id":"n4","member":"m9","at":"2026-03-14T13:30:00Z","lines":[{"sku":"A","amount":"1.00"}]}"#,
            "unknown_member",
        ),
        (
            r#"{"type":"enroll","id":"n5","member":"m1","at":"2026-03-14T13:30:00Z"}"#,
            "member_exists",
        ),
        (
            r#"{"type":"enroll","id":"n6","member":"m2","at":"2026-03-14T13:30:00Z","referred_by":"m2"}"#,
            "invalid_event",
        ),
        (
            r#"{"type":"transfer","id":"n7","member":"m1","to":"m1","at":"2026-03-14T13:30:00Z","points":5}"#,
            "invalid_event",
        ),
        (
            r#"{"type":"redeem","id":"n8","member":"m1","at":"2026-03-14T13:30:00Z","reward":"yacht"}"#,
            "unknown_reward",
        ),
        (
            r#"{"type":"confirm","id":"n9","member":"m1","at":"2026-03-14T13:30:00Z","redemption":"zz"}"#,
            "unknown_redemption",
        ),
        (
            r#"{"type":"refund","id":"n10","member":"m1","at":"2026-03-14T13:30:00Z","purchase":"zz","lines":[{"sku":"A"}]}"#,
            "unknown_purchase",
        ),
        (
            r#"{"type":"adjust","id":"n11","member":"m1","at":"2026-03-14T13:30:00Z","points":-26,"reason":"x"}"#,
            "insufficient_points",
        ),
        (
            r#"{"type":"purchase","id":"n12","member":"m1","at":"2026-03-14T13:30:00Z","lines":[{"sku":"A","category":"coffee","amount":"79228162514264337593543950335"}]}"#,
            "overflow",
        ),
    ] {
        assert_eq!(rejected(&mut b, json), code, "{json}");
    }
}

#[test]
fn overflowing_points_are_an_error_not_a_wrap() {
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    ok(
        &mut b,
        &format!(
            r#"{{"type":"adjust","id":"a1","member":"m1","at":"2026-01-11T15:00:00Z","points":{},"reason":"x"}}"#,
            i64::MAX - 100
        ),
    );
    let code = rejected(
        &mut b,
        r#"{"type":"adjust","id":"a2","member":"m1","at":"2026-01-11T15:00:00Z","points":1000,"reason":"x"}"#,
    );
    assert_eq!(code, "overflow");
    // A huge basket: the decimal earn overflows points.
    let code = rejected(
        &mut b,
        r#"{"type":"purchase","id":"p1","member":"m1","at":"2026-01-12T15:00:00Z","lines":[{"sku":"A","category":"coffee","amount":"99999999999999999999999.00"}]}"#,
    );
    assert_eq!(code, "overflow");
}

/// A spend-based tier metric that a decimal cannot hold: a typed overflow error that changes
/// nothing, not a panic (it was one). Over a rolling window, days that each hold a large
/// spend add up beyond a decimal: the sum saturates, which compares with every threshold as
/// the true sum would (the top tier).
#[test]
fn a_tier_metric_beyond_a_decimal_is_an_error_not_a_panic() {
    let huge = "50000000000000000000000000000"; // 5 × 10^28: two of them pass Decimal::MAX
    let purchase = |id: &str, at: &str| {
        format!(
            r#"{{"type":"purchase","id":"{id}","member":"m1","at":"{at}","lines":[{{"sku":"A","category":"coffee","amount":"{huge}"}}]}}"#
        )
    };
    for window in [
        "window = \"calendar_year\"",
        "window = { rolling = { days = 30 } }",
    ] {
        let mut b = with(&[
            ("base_rate = 1 ", "base_rate = 0 "),
            ("metric = \"points_earned\"", "metric = \"spend\""),
            ("window = \"calendar_year\"", window),
        ]);
        enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
        ok(&mut b, &purchase("p1", "2026-01-11T15:00:00Z"));
        // The same day (the same window either way): beyond a decimal.
        let code = rejected(&mut b, &purchase("p2", "2026-01-11T16:00:00Z"));
        assert_eq!(code, "overflow", "{window}");
        // The next day: a new day of a rolling window (its sum saturates); the same
        // calendar year (an overflow again).
        let next = b.apply(&event(&purchase("p3", "2026-01-12T15:00:00Z")));
        if window.contains("rolling") {
            assert!(next.is_ok(), "{next:?}");
            let top = b.balance(&pointbook::MemberId::new("m1")).unwrap().tier;
            assert_eq!(top, "gold", "{window}");
        } else {
            assert_eq!(next.map_err(|e| e.code()).err(), Some("overflow"));
        }
        assert!(b.verify().is_ok());
    }
}

// ---- time order ---------------------------------------------------------------------------

#[test]
fn late_events_use_their_own_instant_within_tolerance() {
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-11-01T15:00:00Z");
    buy(&mut b, "p2", "m1", "2026-12-08T15:00:00Z", &coffee("1.00"));
    // Sent three days late: the weekend rule of its own instant applies.
    let o = buy(&mut b, "p1", "m1", "2026-12-05T15:00:00Z", &coffee("10.00"));
    assert_eq!(o.points, 20);
    // Eight days late: rejected.
    let code = rejected(
        &mut b,
        r#"{"type":"purchase","id":"p0","member":"m1","at":"2026-11-30T14:59:59Z","lines":[{"sku":"A","category":"coffee","amount":"1.00"}]}"#,
    );
    assert_eq!(code, "late_event");
}

/// An advance moves every member's clock, those with nothing due too (§8), so a member's
/// event from before the advance is late against the advance's instant.
#[test]
fn an_advance_moves_the_clock_of_members_with_nothing_due() {
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    // Nothing of m1's falls due by June (its signup lot expires in 2027, no birthday).
    let o = ok(
        &mut b,
        r#"{"type":"advance","id":"tick","at":"2026-06-01T04:00:00Z"}"#,
    );
    assert!(o.postings.is_empty() && o.effects.is_empty());
    // Eight days before the advance: late for m1, whose clock is now the advance's.
    let code = rejected(
        &mut b,
        r#"{"type":"purchase","id":"p0","member":"m1","at":"2026-05-24T04:00:00Z","lines":[{"sku":"A","category":"coffee","amount":"1.00"}]}"#,
    );
    assert_eq!(code, "late_event");
    // Six days before: within the tolerance.
    let o = buy(&mut b, "p1", "m1", "2026-05-26T04:00:00Z", &coffee("10.00"));
    assert_eq!(o.points, 10);
}

#[test]
fn a_late_purchase_whose_window_has_passed_matures_at_once() {
    let mut b = with(&[("days = 14", "days = 2")]);
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    buy(&mut b, "p2", "m1", "2026-01-20T15:00:00Z", &coffee("1.00"));
    buy(&mut b, "p1", "m1", "2026-01-15T15:00:00Z", &coffee("10.00"));
    let bal = balance(&b, "m1");
    let lot = bal.lots.iter().find(|l| l.source.as_str() == "p1").unwrap();
    assert_eq!(lot.state, "available");
    assert_eq!(bal.pending, 1);
}

// ---- bonuses ------------------------------------------------------------------------------

#[test]
fn birthday_bonus_at_local_midnight_once_a_year_and_29_february() {
    let mut b = book();
    ok(
        &mut b,
        r#"{"type":"enroll","id":"e1","member":"m1","at":"2026-01-10T15:00:00Z","birthday":"1992-02-29"}"#,
    );
    let o = b.advance(at("2026-02-28T04:59:59Z")).unwrap();
    assert!(!has(&o, |e| matches!(e, Effect::BonusAwarded { .. })));
    let o = b.advance(at("2026-02-28T05:00:00Z")).unwrap();
    assert!(has(
        &o,
        |e| matches!(e, Effect::BonusAwarded { points, at: t, .. }
        if *points == Points::new(50) && *t == at("2026-02-28T05:00:00Z"))
    ));
    assert_eq!(balance(&b, "m1").available, 75);
    b.advance(at("2026-12-31T00:00:00Z")).unwrap();
    assert_eq!(balance(&b, "m1").available, 75, "once a year");
    // 2028 is a leap year: 29 February itself.
    let o = b.advance(at("2028-03-01T00:00:00Z")).unwrap();
    let days: Vec<String> = o
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::BonusAwarded { at, .. } => Some(at.to_rfc3339()),
            _ => None,
        })
        .collect();
    assert_eq!(
        days,
        vec!["2027-02-28T05:00:00+00:00", "2028-02-29T05:00:00+00:00"]
    );
}

/// A referrer with nothing due gets its referral bonus after its own catch-up; an advance past
/// the bonus's expiry must still find it (docs/semantics.md §4, §8): its 100 points expire then.
#[test]
fn an_advance_expires_a_referral_bonus_of_an_idle_referrer() {
    let mut b = with(&[
        ("signup = 25", "signup = 0"),
        (
            "birthday = 50",
            "birthday = 50\nreferral = { referrer = 100, referee = 40, min_spend = \"10.00\" }",
        ),
        // One level: no tier boundary is ever due.
        (
            "[[tiers.levels]]\nid = \"gold\"\nthreshold = 300\nbonus_percent = 25\n",
            "",
        ),
        ("min_tier = \"gold\"\n", ""),
    ]);
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    b.apply(&event(r#"{"type":"enroll","id":"e2","member":"m2","at":"2026-01-11T15:00:00Z","referred_by":"m1"}"#))
        .unwrap();
    b.apply(&event(r#"{"type":"purchase","id":"p1","member":"m2","at":"2026-02-01T15:00:00Z","lines":[{"sku":"BEANS","category":"coffee","amount":"20.00"}]}"#))
        .unwrap();
    assert_eq!(b.balance(&"m1".into()).unwrap().available, 100);
    let o = b.advance(at("2027-06-01T04:00:00Z")).unwrap();
    assert!(
        has(
            &o,
            |e| matches!(e, Effect::PointsExpired { member, points, .. }
            if member.as_str() == "m1" && *points == Points::new(100))
        ),
        "{:?}",
        o.effects
    );
    assert_eq!(b.balance(&"m1".into()).unwrap().available, 0);
}

#[test]
fn referral_credits_both_once_when_the_first_purchase_reaches_the_minimum() {
    let mut b = with(&[("birthday = 50", "birthday = 50\nfirst_purchase = 5\nreferral = { referrer = 100, referee = 40, min_spend = \"10.00\" }")]);
    enroll(&mut b, "e0", "m0", "2026-01-01T15:00:00Z");
    ok(
        &mut b,
        r#"{"type":"enroll","id":"e1","member":"m1","at":"2026-01-10T15:00:00Z","referred_by":"m0"}"#,
    );
    let o = buy(&mut b, "p1", "m1", "2026-01-11T15:00:00Z", &coffee("5.00"));
    assert!(has(&o, |e| matches!(
        e,
        Effect::BonusAwarded {
            bonus: pointbook::outcome::BonusKind::FirstPurchase,
            ..
        }
    )));
    assert!(!has(&o, |e| matches!(
        e,
        Effect::BonusAwarded {
            bonus: pointbook::outcome::BonusKind::Referrer,
            ..
        }
    )));
    let o = buy(&mut b, "p2", "m1", "2026-01-12T15:00:00Z", &coffee("10.00"));
    assert!(has(
        &o,
        |e| matches!(e, Effect::BonusAwarded { member, bonus: pointbook::outcome::BonusKind::Referrer, .. } if member.as_str() == "m0")
    ));
    assert_eq!(balance(&b, "m0").available, 125);
    assert_eq!(balance(&b, "m1").available, 25 + 5 + 40);
    let o = buy(&mut b, "p3", "m1", "2026-01-13T15:00:00Z", &coffee("50.00"));
    assert!(o.effects.is_empty(), "once per referee");
    assert_eq!(balance(&b, "m0").available, 125);
}

// ---- expiry -------------------------------------------------------------------------------

#[test]
fn end_of_period_expiry_year_after_one() {
    let mut b = program_file("northwind-retail.toml");
    enroll(&mut b, "e1", "m1", "2026-05-01T10:00:00Z");
    buy(
        &mut b,
        "p1",
        "m1",
        "2026-05-02T10:00:00Z",
        r#"{"sku":"SHIRT","category":"apparel","amount":"40.00"}"#,
    );
    let bal = balance(&b, "m1");
    assert!(
        bal.lots
            .iter()
            .all(|l| l.expires_at == Some(at("2027-12-31T23:00:00Z"))),
        "{bal:?}"
    );
    b.advance(at("2027-12-31T22:59:59Z")).unwrap();
    assert_eq!(b.totals().expired, 0);
    b.advance(at("2027-12-31T23:00:00Z")).unwrap();
    assert_eq!(b.totals().expired, 200 + 300 + 80);
}

#[test]
fn inactivity_expiry_moves_with_each_purchase() {
    let mut b = program_file("corner-cafe-punch-card.toml");
    enroll(&mut b, "e1", "m1", "2026-01-05T10:00:00Z");
    let o = buy(
        &mut b,
        "p1",
        "m1",
        "2026-01-06T10:00:00Z",
        r#"{"sku":"FLAT-WHITE","category":"coffee","amount":"3.40","quantity":2},{"sku":"BUN","category":"bakery","amount":"2.10"}"#,
    );
    assert_eq!(o.points, 2);
    buy(
        &mut b,
        "p2",
        "m1",
        "2026-06-01T10:00:00Z",
        r#"{"sku":"LATTE","category":"coffee","amount":"3.60"}"#,
    );
    let bal = balance(&b, "m1");
    assert_eq!(bal.available, 3);
    // 180 days after 2026-06-01 (BST), local midnight in winter: 2026-11-28T00:00Z.
    assert!(
        bal.lots
            .iter()
            .all(|l| l.expires_at == Some(at("2026-11-28T00:00:00Z"))),
        "{bal:?}"
    );
    let o = b.advance(at("2026-11-28T00:00:00Z")).unwrap();
    assert!(has(&o, |e| matches!(e, Effect::PointsExpired { .. })));
    assert_eq!(b.totals().expired, 3);
}

#[test]
fn transfers_keep_the_original_expiry() {
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    enroll(&mut b, "e2", "m2", "2026-05-10T15:00:00Z");
    ok(
        &mut b,
        r#"{"type":"transfer","id":"t1","member":"m1","to":"m2","at":"2026-07-03T10:00:00Z","points":20}"#,
    );
    let bal = balance(&b, "m2");
    let t = bal.lots.iter().find(|l| l.source.as_str() == "t1").unwrap();
    assert_eq!(t.expires_at, Some(at("2027-01-10T05:00:00Z")));
    assert_eq!(bal.available, 45);
    assert_eq!(balance(&b, "m1").available, 5);
    let t = with(&[("allowed = true", "allowed = false")]);
    let mut t = t;
    enroll(&mut t, "e1", "m1", "2026-01-10T15:00:00Z");
    enroll(&mut t, "e2", "m2", "2026-01-10T15:00:00Z");
    assert_eq!(
        rejected(
            &mut t,
            r#"{"type":"transfer","id":"t1","member":"m1","to":"m2","at":"2026-07-03T10:00:00Z","points":1}"#
        ),
        "transfers_disabled"
    );
}

// ---- tiers --------------------------------------------------------------------------------

#[test]
fn anniversary_windows_follow_the_enrollment_date() {
    let mut b = with(&[("window = \"calendar_year\"", "window = \"anniversary\"")]);
    enroll(&mut b, "e1", "m1", "2026-06-15T15:00:00Z");
    buy(
        &mut b,
        "p1",
        "m1",
        "2026-07-01T15:00:00Z",
        &coffee("300.00"),
    );
    assert_eq!(balance(&b, "m1").tier, "gold");
    // Won in membership year 1 (to 2027-06-15): holds through year 2, falls at 2028-06-15.
    b.advance(at("2028-06-15T03:59:59Z")).unwrap();
    assert_eq!(balance(&b, "m1").tier, "gold");
    let o = b.advance(at("2028-06-15T04:00:00Z")).unwrap();
    assert!(has(
        &o,
        |e| matches!(e, Effect::TierChanged { to, .. } if to == "green")
    ));
}

#[test]
fn rolling_windows_fall_at_the_midnight_the_points_leave() {
    let mut b = with(&[(
        "window = \"calendar_year\"",
        "window = { rolling = { days = 30 } }",
    )]);
    enroll(&mut b, "e1", "m1", "2026-03-01T15:00:00Z");
    buy(
        &mut b,
        "p1",
        "m1",
        "2026-03-02T15:00:00Z",
        &coffee("300.00"),
    );
    assert_eq!(balance(&b, "m1").tier, "gold");
    // Day 2026-03-02 leaves the 30-day window at 00:00 local on 2026-04-01 (EDT).
    b.advance(at("2026-04-01T03:59:59Z")).unwrap();
    assert_eq!(balance(&b, "m1").tier, "gold");
    let o = b.advance(at("2026-04-01T04:00:00Z")).unwrap();
    assert!(has(
        &o,
        |e| matches!(e, Effect::TierChanged { to, .. } if to == "green")
    ));
}

#[test]
fn one_down_limits_a_fall_to_one_level_per_boundary() {
    let mut b = program_file("northwind-retail.toml");
    enroll(&mut b, "e1", "m1", "2026-01-05T10:00:00Z");
    buy(
        &mut b,
        "p1",
        "m1",
        "2026-02-01T10:00:00Z",
        r#"{"sku":"TENT","category":"outdoor","amount":"2500.00"}"#,
    );
    assert_eq!(balance(&b, "m1").tier, "gold");
    b.advance(at("2028-01-01T00:00:00Z")).unwrap();
    assert_eq!(
        balance(&b, "m1").tier,
        "silver",
        "one level at the 2028 boundary"
    );
    b.advance(at("2029-01-01T00:00:00Z")).unwrap();
    assert_eq!(balance(&b, "m1").tier, "bronze");
}

#[test]
fn tier_at_risk_is_raised_before_the_window_closes() {
    let mut b = program_file("northwind-retail.toml");
    enroll(&mut b, "e1", "m1", "2026-01-05T10:00:00Z");
    buy(
        &mut b,
        "p1",
        "m1",
        "2026-02-01T10:00:00Z",
        r#"{"sku":"TENT","category":"outdoor","amount":"600.00"}"#,
    );
    // 2027: nothing bought; 30 days before 2028-01-01 local the member is told.
    let o = b.advance(at("2027-12-02T00:00:00Z")).unwrap();
    assert!(
        has(
            &o,
            |e| matches!(e, Effect::TierAtRisk { tier, falls_to, window_ends, .. }
        if tier == "silver" && falls_to == "bronze" && *window_ends == at("2027-12-31T23:00:00Z"))
        ),
        "{:?}",
        o.effects
    );
}

#[test]
fn progress_says_what_is_needed() {
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    buy(
        &mut b,
        "p1",
        "m1",
        "2026-08-01T15:00:00Z",
        &coffee("288.00"),
    );
    let p = b
        .progress(&"m1".into(), at("2026-08-02T15:00:00Z"))
        .unwrap();
    assert_eq!(p.tier, "green");
    let next = p.next.unwrap();
    assert_eq!(
        (next.tier.as_str(), next.needed.to_string().as_str()),
        ("gold", "12")
    );
    assert_eq!(p.window_ends, at("2027-01-01T05:00:00Z"));
}

// ---- rewards ------------------------------------------------------------------------------

fn rich(b: &mut Book, member: &str, points: i64) {
    enroll(b, &format!("e-{member}"), member, "2026-01-10T15:00:00Z");
    ok(
        b,
        &format!(
            r#"{{"type":"adjust","id":"a-{member}","member":"{member}","at":"2026-01-10T15:00:00Z","points":{points},"reason":"test"}}"#
        ),
    );
}

#[test]
fn reward_rejections_change_nothing() {
    let mut b = book();
    rich(&mut b, "m1", 5000);
    assert_eq!(
        rejected(
            &mut b,
            r#"{"type":"redeem","id":"x1","member":"m1","at":"2026-02-01T15:00:00Z","reward":"mug"}"#
        ),
        "tier_too_low"
    );
    buy(
        &mut b,
        "p1",
        "m1",
        "2026-02-01T15:00:00Z",
        &coffee("300.00"),
    );
    ok(
        &mut b,
        r#"{"type":"redeem","id":"x2","member":"m1","at":"2026-02-02T15:00:00Z","reward":"mug"}"#,
    );
    assert_eq!(
        rejected(
            &mut b,
            r#"{"type":"redeem","id":"x3","member":"m1","at":"2026-02-03T15:00:00Z","reward":"mug"}"#
        ),
        "limit_reached"
    );
    // A new calendar year, a new limit.
    ok(
        &mut b,
        r#"{"type":"redeem","id":"x4","member":"m1","at":"2027-01-03T15:00:00Z","reward":"mug"}"#,
    );
    let mut poor = book();
    enroll(&mut poor, "e1", "m2", "2026-01-10T15:00:00Z");
    assert_eq!(
        rejected(
            &mut poor,
            r#"{"type":"redeem","id":"x5","member":"m2","at":"2026-02-03T15:00:00Z","reward":"free-drink"}"#
        ),
        "insufficient_points"
    );
}

#[test]
fn stock_counts_holds_and_cancel_gives_it_back() {
    let mut b = with(&[(
        "id = \"free-drink\"\ncost = 150",
        "id = \"free-drink\"\ncost = 150\nstock = 1",
    )]);
    rich(&mut b, "m1", 1000);
    rich(&mut b, "m2", 1000);
    ok(
        &mut b,
        r#"{"type":"redeem","id":"x1","member":"m1","at":"2026-02-01T15:00:00Z","reward":"free-drink","hold":true}"#,
    );
    assert_eq!(
        rejected(
            &mut b,
            r#"{"type":"redeem","id":"x2","member":"m2","at":"2026-02-01T15:01:00Z","reward":"free-drink"}"#
        ),
        "out_of_stock"
    );
    let before = balance(&b, "m1");
    let o = ok(
        &mut b,
        r#"{"type":"cancel","id":"c1","member":"m1","at":"2026-02-01T15:02:00Z","redemption":"x1"}"#,
    );
    assert_eq!(o.points, 150);
    assert_eq!(balance(&b, "m1").available, before.available + 150);
    assert_eq!(
        rejected(
            &mut b,
            r#"{"type":"confirm","id":"c2","member":"m1","at":"2026-02-01T15:03:00Z","redemption":"x1"}"#
        ),
        "hold_not_active"
    );
    let o = ok(
        &mut b,
        r#"{"type":"redeem","id":"x2","member":"m2","at":"2026-02-01T15:04:00Z","reward":"free-drink","hold":true}"#,
    );
    assert!(o.effects.is_empty(), "a hold issues nothing yet");
    let o = ok(
        &mut b,
        r#"{"type":"confirm","id":"c3","member":"m2","at":"2026-02-01T15:05:00Z","redemption":"x2"}"#,
    );
    assert!(has(
        &o,
        |e| matches!(e, Effect::RewardIssued { code, .. } if code.len() == 19)
    ));
    assert_eq!(b.totals().redeemed, 150);
}

#[test]
fn voucher_codes_are_the_same_on_replay_and_differ_per_redemption() {
    let run = || {
        let mut b = book();
        rich(&mut b, "m1", 1000);
        let codes: Vec<String> = ["x1", "x2"]
            .iter()
            .flat_map(|id| {
                let o = ok(&mut b, &format!(r#"{{"type":"redeem","id":"{id}","member":"m1","at":"2026-02-01T15:00:00Z","reward":"free-drink"}}"#));
                o.effects.into_iter().filter_map(|e| match e {
                    Effect::RewardIssued { code, .. } => Some(code),
                    _ => None,
                })
            })
            .collect();
        codes
    };
    let a = run();
    assert_eq!(a, run());
    assert_eq!(a.len(), 2);
    assert_ne!(a[0], a[1]);
}

#[test]
fn a_hold_returned_after_its_lot_expired_expires_at_once() {
    let mut b = with(&[
        ("rolling = { days = 365 }", "rolling = { days = 1 }"),
        (
            "id = \"free-drink\"\ncost = 150",
            "id = \"free-drink\"\ncost = 150\nhold_minutes = 600",
        ),
    ]);
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    ok(
        &mut b,
        r#"{"type":"adjust","id":"a1","member":"m1","at":"2026-01-10T20:00:00Z","points":200,"reason":"test"}"#,
    );
    ok(
        &mut b,
        r#"{"type":"redeem","id":"x1","member":"m1","at":"2026-01-10T22:00:00Z","reward":"free-drink","hold":true}"#,
    );
    // The lot expires at 2026-01-11T05:00Z while held; the hold lapses at 08:00Z.
    let o = b.advance(at("2026-01-11T09:00:00Z")).unwrap();
    assert!(has(&o, |e| matches!(e, Effect::HoldExpired { .. })));
    assert_eq!(b.totals().expired, 25 + 200);
    assert_eq!(balance(&b, "m1").available, 0);
}

// ---- forget, snapshots --------------------------------------------------------------------

#[test]
fn forget_forfeits_points_and_erases_personal_data() {
    let mut b = book();
    ok(
        &mut b,
        r#"{"type":"enroll","id":"e1","member":"m1","at":"2026-01-10T15:00:00Z","birthday":"1990-05-01","attributes":{"email":"a@b.c"}}"#,
    );
    buy(&mut b, "p1", "m1", "2026-02-01T15:00:00Z", &coffee("40.00"));
    enroll(&mut b, "e2", "m2", "2026-02-01T15:30:00Z");
    buy(&mut b, "p2", "m2", "2026-02-01T16:00:00Z", &coffee("10.00"));
    let o = ok(
        &mut b,
        r#"{"type":"forget","id":"f1","member":"m1","at":"2026-02-02T15:00:00Z"}"#,
    );
    assert_eq!(o.points, -65);
    assert_eq!(b.totals().forfeited, 65);
    let snapshot = String::from_utf8(b.snapshot().unwrap()).unwrap();
    assert!(
        !snapshot.contains("a@b.c") && !snapshot.contains("1990-05-01"),
        "personal data left"
    );
    // m1's purchase record (its lines) went; m2's stays, and its refund still works.
    let state: serde_json::Value = serde_json::from_str(&snapshot).unwrap();
    assert_eq!(
        state["state"]["purchases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| pair[0].clone())
            .collect::<Vec<_>>(),
        vec![serde_json::json!(["m2", "p2"])]
    );
    ok(
        &mut b,
        r#"{"type":"refund","id":"r2","member":"m2","at":"2026-02-03T15:00:00Z","purchase":"p2","lines":[{"sku":"COFFEE"}]}"#,
    );
    assert_eq!(
        rejected(
            &mut b,
            r#"{"type":"refund","id":"r1","member":"m1","at":"2026-02-03T15:00:00Z","purchase":"p1","lines":[{"sku":"COFFEE"}]}"#
        ),
        "member_closed"
    );
    assert_eq!(
        rejected(
            &mut b,
            r#"{"type":"enroll","id":"e3","member":"m1","at":"2026-02-03T15:00:00Z"}"#
        ),
        "member_exists"
    );
}

#[test]
fn a_snapshot_in_parts_is_the_snapshot() {
    let mut b = book();
    for i in 0..200 {
        enroll(
            &mut b,
            &format!("e{i}"),
            &format!("m{i}"),
            "2026-01-10T15:00:00Z",
        );
    }
    for i in 0..200 {
        let (id, member) = (format!("p{i}"), format!("m{i}"));
        buy(
            &mut b,
            &id,
            &member,
            "2026-02-10T15:00:00Z",
            &coffee("12.40"),
        );
    }
    let whole = b.snapshot().unwrap();
    assert!(whole.len() > 20 * 4096);
    // Sizes below the floor of 4 KiB, odd ones, one that ends the state on a part's edge, and
    // one larger than the snapshot.
    for size in [
        1,
        4096,
        5000,
        65_537,
        whole.len() - 1,
        whole.len(),
        10 * whole.len(),
    ] {
        let mut parts: Vec<(usize, Vec<u8>)> = Vec::new();
        let length = b
            .snapshot_parts(size, |i, part| {
                parts.push((i, part.to_vec()));
                Ok::<(), ()>(())
            })
            .unwrap()
            .unwrap();
        assert_eq!(length, whole.len() as u64, "size {size}");
        // Parts 1, 2, ... as they are written, then part 0 with the checksum.
        let order: Vec<usize> = parts.iter().map(|(i, _)| *i).collect();
        let n = parts.len();
        let expected: Vec<usize> = (1..n).chain([0]).collect();
        assert_eq!(order, expected, "size {size}");
        assert!(parts.iter().all(|(_, p)| p.len() <= size.max(4096)));
        parts.sort_by_key(|(i, _)| *i);
        let joined: Vec<u8> = parts.into_iter().flat_map(|(_, p)| p).collect();
        assert!(
            joined == whole,
            "size {size}: the parts differ from the snapshot"
        );
    }
    // A reader that stops gets its error back, and nothing after it.
    let mut given = 0;
    let stopped = b.snapshot_parts(4096, |i, _| {
        given += 1;
        if i == 3 {
            Err("disk full")
        } else {
            Ok(())
        }
    });
    assert_eq!(stopped.unwrap(), Err("disk full"));
    assert_eq!(given, 3);
    assert_eq!(
        Book::restore(&bean_and_leaf(), &whole)
            .unwrap()
            .digest()
            .unwrap(),
        b.digest().unwrap()
    );
}

#[test]
fn snapshots_refuse_other_programs_versions_and_tampering() {
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    let snap = b.snapshot().unwrap();
    let other = Program::parse(
        &std::fs::read_to_string(format!(
            "{}/../../examples/programs/corner-cafe-punch-card.toml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        Book::restore(&other, &snap).unwrap_err().code(),
        "program_mismatch"
    );
    assert_eq!(
        Book::restore(&bean_and_leaf(), b"garbage")
            .unwrap_err()
            .code(),
        "invalid_snapshot"
    );
    let text = String::from_utf8(snap.clone()).unwrap();
    let v5 = text.replacen("\"version\":4", "\"version\":5", 1);
    assert_ne!(v5, text);
    let e = Book::restore(&bean_and_leaf(), v5.as_bytes()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid snapshot: version 5 is not supported (this build reads 1 to 4)"
    );
    // A changed state no longer matches its checksum.
    let tampered = text.replacen("\"available\":25", "\"available\":2500", 1);
    assert_ne!(tampered, text);
    let e = Book::restore(&bean_and_leaf(), tampered.as_bytes()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid snapshot: the state does not match its checksum"
    );
    // The same kind of change in a version 1 snapshot (no checksum) is caught by the
    // invariants.
    let v1 = without_checksum(VERSION_2).replacen("\"available\":50", "\"available\":5000", 1);
    let e = Book::restore(&bean_and_leaf(), v1.as_bytes()).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("invalid snapshot: inconsistent state"),
        "{e}"
    );
    let restored = Book::restore(&bean_and_leaf(), &snap).unwrap();
    assert_eq!(restored.digest().unwrap(), b.digest().unwrap());
}

/// A snapshot of the bundled history, as the last build writing version 2 wrote it.
const VERSION_2: &str = include_str!("fixtures/bean-and-leaf-v2.snapshot");

/// A version 2 snapshot as a version 1 snapshot of the same book was written: no checksum.
fn without_checksum(v2: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(v2).unwrap();
    let state = &v2[v2.find(",\"state\":").unwrap() + 9..v2.len()];
    format!(
        "{{\"format\":\"pointbook-snapshot\",\"version\":1,\"program\":{},\"state\":{state}",
        value["program"]
    )
}

/// Snapshots of versions 1 and 2, as earlier builds wrote them, still restore to the book
/// this build makes of the same history, and it goes on alike: a resend, a new purchase.
/// (Their digests differ from this build's: they keep the fingerprints of events as written,
/// this build of events by value.)
#[test]
fn version_1_and_2_snapshots_still_restore() {
    let mut b = book();
    let history = include_str!("../../../examples/events/bean-and-leaf.jsonl");
    for line in history.lines() {
        let _ = b.apply(&event(line));
    }
    let v1 = without_checksum(VERSION_2);
    assert!(v1.starts_with("{\"format\":\"pointbook-snapshot\",\"version\":1,\"program\":\""));
    let resend = event(history.lines().last().unwrap());
    let next = event(
        r#"{"type":"purchase","id":"later","member":"m1","at":"2027-07-02T10:00:00Z","lines":[{"sku":"LATTE","category":"coffee","amount":"4.75"}]}"#,
    );
    let same = |x: &Book, y: &Book| {
        assert_eq!(x.balances(), y.balances());
        assert_eq!(x.totals(), y.totals());
    };
    for old in [VERSION_2.to_owned(), v1.clone()] {
        let mut restored = Book::restore(&bean_and_leaf(), old.as_bytes()).unwrap();
        same(&restored, &b);
        let mut straight = b.clone();
        assert_eq!(restored.apply(&resend), straight.apply(&resend));
        assert_eq!(restored.apply(&next), straight.apply(&next));
        same(&restored, &straight);
        let again = Book::restore(&bean_and_leaf(), &restored.snapshot().unwrap()).unwrap();
        assert_eq!(again.digest(), restored.digest());
    }
    let with_checksum = v1.replacen(",\"state\":", ",\"checksum\":\"00\",\"state\":", 1);
    assert_eq!(
        Book::restore(&bean_and_leaf(), with_checksum.as_bytes())
            .unwrap_err()
            .to_string(),
        "invalid snapshot: a version 1 snapshot has no checksum"
    );
    // Each version holds its own form of the applied events.
    let v4 = String::from_utf8(b.snapshot().unwrap()).unwrap();
    let relabelled = [
        without_checksum(&v4),
        v1.replacen("\"version\":1", "\"version\":3", 1),
        v1.replacen("\"version\":1", "\"version\":4", 1),
    ];
    for text in relabelled {
        let e = Book::restore(&bean_and_leaf(), text.as_bytes()).unwrap_err();
        assert!(
            e.to_string().contains("corrupt state: the state holds no")
                || e.to_string().contains("checksum"),
            "{e}"
        );
    }
}

/// Issue 18, item 8: an event is identified by its values, so an amount written with more
/// zeros (`"4.750"`, `"4.7500"`) is a resend of `"4.75"`, where it was an `IdConflict`; a
/// different amount under the id still is one.
#[test]
fn an_amount_written_with_more_zeros_is_the_same_event() {
    let purchase = |amount: &str| {
        event(&format!(
            r#"{{"type":"purchase","id":"p1","member":"m1","at":"2026-03-14T13:30:00Z","lines":[{{"sku":"LATTE","category":"coffee","amount":"{amount}"}}]}}"#
        ))
    };
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    let first = b.apply(&purchase("4.75")).unwrap();
    for same in ["4.750", "4.7500", "4.750000000000000000000000000000"] {
        let again = b.apply(&purchase(same)).unwrap();
        assert!(again.duplicate, "{same}");
        assert_eq!(again.points, first.points);
    }
    let e = b.apply(&purchase("4.76")).unwrap_err();
    assert_eq!(e.code(), "id_conflict");
}

/// A snapshot of the bundled history, as the last build writing version 3 wrote it.
const VERSION_3: &str = include_str!("fixtures/bean-and-leaf-v3.snapshot");

/// A version 3 book kept the fingerprints of its events' canonical JSON: restored, every event
/// of its history sent again is a duplicate with its first outcome's points (not
/// `IdConflict`), another event under one of its ids is still `IdConflict`, and the book goes
/// on as the same history replayed now does.
#[test]
fn a_version_3_book_knows_every_resend() {
    let history = include_str!("../../../examples/events/bean-and-leaf.jsonl");
    let mut straight = book();
    let mut firsts = Vec::new();
    for line in history.lines() {
        firsts.push(straight.apply(&event(line)));
    }
    let mut restored = Book::restore(&bean_and_leaf(), VERSION_3.as_bytes()).unwrap();
    assert_eq!(restored.balances(), straight.balances());
    let mut resent = 0;
    for (line, first) in history.lines().zip(firsts) {
        let Ok(first) = first else { continue };
        let again = restored.apply(&event(line)).unwrap();
        assert!(again.duplicate, "{line}");
        assert_eq!(again.points, first.points, "{line}");
        resent += 1;
    }
    assert!(resent > 10, "{resent} events resent");
    let line = history
        .lines()
        .find(|l| l.contains("\"amount\":\"100.00\""))
        .unwrap();
    let e = restored
        .apply(&event(&line.replace("\"100.00\"", "\"100.01\"")))
        .unwrap_err();
    assert_eq!(e.code(), "id_conflict");
    let next = event(
        r#"{"type":"purchase","id":"later","member":"m1","at":"2027-07-02T10:00:00Z","lines":[{"sku":"LATTE","category":"coffee","amount":"4.75"}]}"#,
    );
    assert_eq!(restored.apply(&next), straight.apply(&next));
    assert_eq!(restored.balances(), straight.balances());
}

/// Books written before events were identified by value kept the fingerprint of the event as
/// written: restored, they still know a resend written the same way (here `"100.00"`).
#[test]
fn a_book_from_before_decimals_by_value_still_knows_its_resends() {
    let history = include_str!("../../../examples/events/bean-and-leaf.jsonl");
    let line = history
        .lines()
        .find(|l| l.contains("\"amount\":\"100.00\""))
        .unwrap();
    let mut restored = Book::restore(&bean_and_leaf(), VERSION_2.as_bytes()).unwrap();
    let again = restored.apply(&event(line)).unwrap();
    assert!(again.duplicate);
    // Such a book kept the fingerprint of the text as written, not of the values: the same
    // event written another way is, to it, another event under the id.
    let by_value = line.replace("\"100.00\"", "\"100\"");
    let e = restored.apply(&event(&by_value)).unwrap_err();
    assert_eq!(e.code(), "id_conflict");
}

/// A snapshot whose state is changed by `edit` and sealed again with a matching checksum: what
/// someone who knows the format can write.
fn resealed(snapshot: &[u8], edit: impl Fn(&str) -> String) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let text = std::str::from_utf8(snapshot).unwrap();
    let at = text.find(",\"state\":").unwrap();
    let state = edit(&text[at + 9..text.len() - 1]);
    assert_ne!(
        state,
        text[at + 9..text.len() - 1],
        "the edit changed nothing"
    );
    let sum: String = Sha256::digest(state.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let head = &text[..at];
    let c = head.find("\"checksum\":\"").unwrap() + 12;
    format!("{}{sum}{},\"state\":{state}}}", &head[..c], &head[c + 64..]).into_bytes()
}

/// Issue 18, item 3: a snapshot sealed with a valid checksum but holding values the engine
/// could never have written is refused, naming what is wrong, where it was accepted and then
/// panicked (a member clock before 1900), hung (a book clock far in the future), or broke
/// the invariants at the next `cancel` (a hold naming a lot that does not exist).
#[test]
fn a_snapshot_with_impossible_values_is_refused() {
    let mut b = book();
    rich(&mut b, "m1", 1000);
    ok(
        &mut b,
        r#"{"type":"redeem","id":"h1","member":"m1","at":"2026-02-01T15:00:00Z","reward":"free-drink","hold":true}"#,
    );
    let snap = b.snapshot().unwrap();
    let restore = |edit: &dyn Fn(&str) -> String| {
        Book::restore(&bean_and_leaf(), &resealed(&snap, edit)).map(|_| ())
    };
    let clock = "\"clock\":\"2026-02-01T15:00:00Z\",\"closed\"";
    type Edit<'a> = &'a dyn Fn(&str) -> String;
    let cases: [(Edit, &str); 5] = [
        (
            &|s| s.replacen(clock, "\"clock\":\"1899-12-31T00:00:00Z\",\"closed\"", 1),
            "member m1: clock: instant in year 1899 is outside 1900..=9999",
        ),
        (
            &|s| {
                s.replacen(
                    "{\"clock\":\"2026-02-01T15:00:00Z\"",
                    "{\"clock\":\"1800-01-01T00:00:00Z\"",
                    1,
                )
            },
            "the book's clock: instant in year 1800 is outside 1900..=9999",
        ),
        (
            &|s| s.replacen("\"tier\":0,", "\"tier\":7,", 1),
            "member m1: tier beyond the program's 2 levels",
        ),
        (
            &|s| {
                s.replacen("\"parts\":[[", "\"parts\":[[99", 1)
                    .replacen("[[990,", "[[99,", 1)
            },
            "member m1: hold h1 names no lot 99",
        ),
        (
            &|s| {
                s.replacen(
                    "\"points\":25,\"remaining\":0",
                    "\"points\":20,\"remaining\":0",
                    1,
                )
            },
            "member m1: lot 0 is not one it could hold",
        ),
    ];
    for (edit, message) in cases {
        let e = restore(edit).unwrap_err();
        assert_eq!(e.code(), "invalid_snapshot");
        assert!(e.to_string().contains(message), "{e}");
    }
    // Sealed again with a value the engine could have written, it restores: the refusals
    // above are the values'.
    let possible =
        |s: &str| s.replacen("\"attributes\":{}", "\"attributes\":{\"city\":\"Oslo\"}", 1);
    assert_eq!(restore(&possible).map_err(|e| e.to_string()), Ok(()));
}

/// A book whose last events are in 9999 holds lots that expire in 10000: it saves and
/// restores (the years checked on restore are those of events and clocks, not of what they
/// make due later).
#[test]
fn a_book_at_the_end_of_the_years_saves_and_restores() {
    let mut b = book();
    enroll(&mut b, "e1", "m1", "9999-06-01T10:00:00Z");
    buy(&mut b, "p1", "m1", "9999-12-30T10:00:00Z", BASKET_A);
    let expiry = |b: &Book| balance(b, "m1").lots[1].expires_at;
    assert_eq!(
        expiry(&b).map(|t| t.to_rfc3339()),
        // 365 days later: 10000 is a leap year.
        Some("+10000-12-29T05:00:00+00:00".to_owned())
    );
    let restored = Book::restore(&bean_and_leaf(), &b.snapshot().unwrap()).unwrap();
    assert_eq!(restored.digest().unwrap(), b.digest().unwrap());
    assert_eq!(expiry(&restored), expiry(&b));
}

/// Every single-bit flip of a snapshot is refused: none restores as a different book.
#[test]
fn every_single_bit_flip_of_a_snapshot_is_refused() {
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    buy(&mut b, "p1", "m1", "2026-03-14T13:30:00Z", BASKET_A);
    let snap = b.snapshot().unwrap();
    let mut accepted = Vec::new();
    for byte in 0..snap.len() {
        for bit in 0..8 {
            let mut flipped = snap.clone();
            flipped[byte] ^= 1 << bit;
            if Book::restore(&bean_and_leaf(), &flipped).is_ok() {
                accepted.push((byte, bit));
            }
        }
    }
    assert!(accepted.is_empty(), "accepted flips: {accepted:?}");
}

#[test]
fn outcomes_round_trip_through_json() {
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    let o = buy(&mut b, "p1", "m1", "2026-03-14T13:30:00Z", BASKET_A);
    let json = serde_json::to_string(&o).unwrap();
    let back: pointbook::Outcome = serde_json::from_str(&json).unwrap();
    assert_eq!(back, o);
    assert!(json.contains(r#""from":{"account":"issued"},"to":{"account":"pending","member":"m1"},"points":11,"reason":"earn""#), "{json}");
}

// ---- rule conditions, rounding, other metrics ---------------------------------------------

fn nw_buy(b: &mut Book, id: &str, at: &str, channel: &str, lines: &str) -> pointbook::Outcome {
    ok(
        b,
        &format!(
            r#"{{"type":"purchase","id":"{id}","member":"m1","at":"{at}","channel":"{channel}","lines":[{lines}]}}"#
        ),
    )
}

#[test]
fn rule_conditions_channels_weekdays_min_basket_caps_skus_and_dates() {
    let mut b = program_file("northwind-retail.toml");
    enroll(&mut b, "e1", "m1", "2026-05-01T10:00:00Z");
    let shirt = r#"{"sku":"SHIRT","category":"apparel","amount":"20.25"}"#;
    // Wednesday in the app: base 2 x 20.25 = 40.5, half_up -> 41 (+300 first purchase bonus).
    assert_eq!(
        nw_buy(&mut b, "p1", "2026-05-06T10:00:00Z", "app", shirt).points,
        41
    );
    // Saturday in the app: +50% -> 60.75 -> 61. Saturday in the store: no bonus.
    assert_eq!(
        nw_buy(&mut b, "p2", "2026-05-09T10:00:00Z", "app", shirt).points,
        61
    );
    assert_eq!(
        nw_buy(&mut b, "p3", "2026-05-09T11:00:00Z", "store", shirt).points,
        41
    );
    // Saturday 23:30 in Berlin is Saturday; 22:30 UTC on Sunday is already Monday there.
    assert_eq!(
        nw_buy(&mut b, "p4", "2026-05-10T22:30:00Z", "app", shirt).points,
        41
    );
    // Baskets of 150 EUR or more: +100, at most 300 per month; excluded lines do not count.
    let big = r#"{"sku":"TENT","category":"outdoor","amount":"150.00"}"#;
    let not_big = r#"{"sku":"TENT","category":"outdoor","amount":"149.99"},{"sku":"GIFT","category":"gift_card","amount":"50.00"}"#;
    assert_eq!(
        nw_buy(&mut b, "p5", "2026-05-12T10:00:00Z", "store", not_big).points,
        300
    );
    // Spend so far 230.99; big1 crosses silver (500.00) and earns at bronze; then +10% of base.
    for (i, (day, points)) in [("13", 400), ("14", 400), ("15", 430)].iter().enumerate() {
        let o = nw_buy(
            &mut b,
            &format!("big{i}"),
            &format!("2026-05-{day}T10:00:00Z"),
            "store",
            big,
        );
        assert_eq!(
            o.points, *points,
            "300 base + 100 basket bonus (+30 silver)"
        );
    }
    let o = nw_buy(&mut b, "big3", "2026-05-16T10:00:00Z", "store", big);
    assert_eq!(o.points, 330, "the monthly cap of 300 is used up");
    assert!(explanation(&o).contains(&("rule".into(), Some("big-basket".into()), "0".into())));
    let o = nw_buy(&mut b, "big4", "2026-06-01T10:00:00Z", "store", big);
    assert_eq!(o.points, 430, "a new month, a new cap");
    // Points per unit of one SKU, from 2027-01-01 (local) on; silver's 10% applies by then.
    let jacket = r#"{"sku":"NW-JACKET-2027","category":"apparel","amount":"10.00","quantity":2}"#;
    assert_eq!(
        nw_buy(&mut b, "j1", "2026-12-31T22:59:59Z", "store", jacket).points,
        22
    );
    assert_eq!(
        nw_buy(&mut b, "j2", "2026-12-31T23:00:00Z", "store", jacket).points,
        1022
    );
}

#[test]
fn visits_metric_counts_purchases_with_eligible_spend_net_of_refunds() {
    let mut b = with(&[
        ("metric = \"points_earned\"", "metric = \"visits\""),
        ("threshold = 300", "threshold = 3"),
    ]);
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    buy(&mut b, "v1", "m1", "2026-02-01T15:00:00Z", &coffee("1.00"));
    buy(
        &mut b,
        "g1",
        "m1",
        "2026-02-02T15:00:00Z",
        r#"{"sku":"G","category":"gift_card","amount":"25.00"}"#,
    );
    buy(&mut b, "v2", "m1", "2026-02-03T15:00:00Z", &coffee("1.00"));
    assert_eq!(
        balance(&b, "m1").tier,
        "green",
        "a gift-card-only purchase is no visit"
    );
    ok(
        &mut b,
        r#"{"type":"refund","id":"r1","member":"m1","at":"2026-02-04T15:00:00Z","purchase":"v2","lines":[{"sku":"COFFEE"}]}"#,
    );
    buy(&mut b, "v3", "m1", "2026-02-05T15:00:00Z", &coffee("1.00"));
    assert_eq!(
        balance(&b, "m1").tier,
        "green",
        "the refunded visit no longer counts"
    );
    let o = buy(&mut b, "v4", "m1", "2026-02-06T15:00:00Z", &coffee("1.00"));
    assert!(has(
        &o,
        |e| matches!(e, Effect::TierChanged { to, .. } if to == "gold")
    ));
}

#[test]
fn a_refund_below_a_threshold_loses_the_bonus_and_gives_the_cap_back() {
    let mut b = program_file("northwind-retail.toml");
    enroll(&mut b, "e1", "m1", "2026-05-01T10:00:00Z");
    let basket = r#"{"sku":"TENT","category":"outdoor","amount":"150.00"},{"sku":"SHIRT","category":"apparel","amount":"20.00"}"#;
    // Base 2 x 170 = 340, big-basket +100 (min 150.00): 440.
    assert_eq!(
        nw_buy(&mut b, "p1", "2026-05-04T10:00:00Z", "store", basket).points,
        440
    );
    // 30.00 of the tent back: 140.00 left, under the threshold: 280, so 160 are reversed.
    let o = ok(
        &mut b,
        r#"{"type":"refund","id":"r1","member":"m1","at":"2026-05-05T10:00:00Z","purchase":"p1","lines":[{"sku":"TENT","amount":"30.00"}]}"#,
    );
    assert_eq!(o.points, -160);
    // The bonus no longer counts toward May's cap: three more big baskets all get it.
    let big = r#"{"sku":"TENT","category":"outdoor","amount":"150.00"}"#;
    for (i, day) in ["06", "07", "08"].iter().enumerate() {
        let o = nw_buy(
            &mut b,
            &format!("b{i}"),
            &format!("2026-05-{day}T10:00:00Z"),
            "store",
            big,
        );
        assert!(
            explanation(&o).contains(&("rule".into(), Some("big-basket".into()), "100".into())),
            "{day}"
        );
    }
}

/// An event's type may come anywhere in the object; without one, or with an unknown one, or
/// with a field twice, the event is rejected with the field named.
#[test]
fn event_type_anywhere_and_bad_types_named() {
    let first = Event::from_json(
        r#"{"type":"adjust","id":"a1","member":"m1","at":"2026-03-01T15:00:00Z","points":5,"reason":"goodwill"}"#,
    )
    .unwrap();
    let last = Event::from_json(
        r#"{"id":"a1","member":"m1","at":"2026-03-01T15:00:00Z","points":5,"reason":"goodwill","type":"adjust"}"#,
    )
    .unwrap();
    assert_eq!(first, last);
    for (json, needle) in [
        (
            r#"{"id":"a1","at":"2026-03-01T15:00:00Z"}"#,
            "missing field `type`",
        ),
        (r#"{}"#, "missing field `type`"),
        (r#"{"type":"bonus","id":"a1"}"#, "unknown variant `bonus`"),
        (r#"{"id":"a1","type":"bonus"}"#, "unknown variant `bonus`"),
        (
            r#"{"id":"a1","type":"advance","type":"advance","at":"2026-03-01T15:00:00Z"}"#,
            "duplicate field `type`",
        ),
        (
            r#"{"id":"a1","id":"a2","type":"advance","at":"2026-03-01T15:00:00Z"}"#,
            "duplicate field `id`",
        ),
        (
            r#"{"type":"advance","id":"a1","at":"2026-03-01T15:00:00Z","type":"advance"}"#,
            "unknown field `type`",
        ),
        (
            r#"{"type":"advance","id":"a1","at":"2026-03-01T15:00:00Z","extra":1}"#,
            "unknown field `extra`",
        ),
        (
            r#"{"at":"2026-03-01T15:00:00Z","type":"advance","id":"a1","extra":1}"#,
            "unknown field `extra`",
        ),
        (r#"["advance"]"#, "an event"),
    ] {
        let err = Event::from_json(json).unwrap_err().to_string();
        assert!(err.contains(needle), "{json}: {err}");
    }
}

/// docs/semantics.md §9: a resend gets the full original outcome while the original is within the
/// late tolerance of its member's clock (7 days in Bean & Leaf, boundary included), and its id
/// and points after that; either way it changes nothing, a snapshot answers alike, and another
/// event under the id is still refused.
#[test]
fn a_resend_gets_the_full_outcome_within_the_late_tolerance_then_its_points() {
    let purchase = |id: &str, at: &str, amount: &str| {
        format!(
            r#"{{"type":"purchase","id":"{id}","member":"m1","at":"{at}","lines":[{{"sku":"BEANS","category":"coffee","amount":"{amount}"}}]}}"#
        )
    };
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    enroll(&mut b, "e2", "m2", "2026-01-10T15:00:00Z");
    let p1 = purchase("p1", "2026-03-14T13:30:00Z", "11.00");
    let original = ok(&mut b, &p1);
    assert_eq!(original.points, 11);
    let full = pointbook::Outcome {
        duplicate: true,
        ..original.clone()
    };
    // Another member's events move the book's clock, not m1's: still in full.
    ok(
        &mut b,
        r#"{"type":"purchase","id":"q1","member":"m2","at":"2026-05-01T10:00:00Z","lines":[{"sku":"BEANS","category":"coffee","amount":"3.00"}]}"#,
    );
    assert_eq!(b.apply(&event(&p1)).unwrap(), full);
    // m1's clock 7 days on, to the second: an event at p1's instant would still be accepted.
    ok(&mut b, &purchase("p2", "2026-03-21T13:30:00Z", "1.00"));
    assert_eq!(b.apply(&event(&p1)).unwrap(), full);
    // One second more: the id and the points.
    ok(&mut b, &purchase("p3", "2026-03-21T13:30:01Z", "1.00"));
    let before = b.digest();
    let compact = pointbook::Outcome {
        postings: Vec::new(),
        effects: Vec::new(),
        explanation: Vec::new(),
        ..full.clone()
    };
    assert_eq!(b.apply(&event(&p1)).unwrap(), compact);
    assert_eq!(b.digest(), before, "a resend changes nothing");
    let mut restored = Book::restore(&bean_and_leaf(), &b.snapshot().unwrap()).unwrap();
    assert_eq!(restored.apply(&event(&p1)).unwrap(), compact);
    assert_eq!(
        rejected(&mut b, &purchase("p1", "2026-03-14T13:30:00Z", "12.00")),
        "id_conflict"
    );
}

/// The outcomes past keeping are dropped from memory as a book goes (a hundred days of daily
/// purchases, then a year), and what the book writes does not depend on when: after every
/// event, the book restored from its snapshot has its digest, and answers resends alike.
#[test]
fn dropping_old_outcomes_changes_nothing_a_snapshot_shows() {
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    let start = chrono::DateTime::parse_from_rfc3339("2026-01-11T12:00:00Z").unwrap();
    let mut sent = Vec::new();
    for day in 0..100 {
        let at = (start + chrono::Duration::days(day))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let json = format!(
            r#"{{"type":"purchase","id":"d{day}","member":"m1","at":"{at}","lines":[{{"sku":"BEANS","category":"coffee","amount":"2.00"}}]}}"#
        );
        ok(&mut b, &json);
        sent.push(json);
        // Six days back still in full, eight days back its points only.
        let back = |days: usize| sent.len().checked_sub(days + 1).and_then(|i| sent.get(i));
        if let Some(six) = back(6) {
            assert!(
                !b.apply(&event(six)).unwrap().explanation.is_empty(),
                "day {day}"
            );
        }
        if let Some(eight) = back(8) {
            assert!(
                b.apply(&event(eight)).unwrap().explanation.is_empty(),
                "day {day}"
            );
        }
        let restored = Book::restore(&bean_and_leaf(), &b.snapshot().unwrap()).unwrap();
        assert_eq!(restored.digest(), b.digest(), "after day {day}");
    }
    let mut restored = Book::restore(&bean_and_leaf(), &b.snapshot().unwrap()).unwrap();
    for json in &sent {
        let (a, r) = (
            b.apply(&event(json)).unwrap(),
            restored.apply(&event(json)).unwrap(),
        );
        assert_eq!(a, r);
        assert_eq!(a.points, 2);
    }
    let full = sent
        .iter()
        .filter(|j| !b.apply(&event(j)).unwrap().explanation.is_empty());
    assert_eq!(full.count(), 8, "days 92 to 99: within 7 days of day 99");
}

/// An instant in a year `y`, at midnight UTC.
fn new_year(y: i32) -> pointbook::Instant {
    chrono::NaiveDate::from_ymd_opt(y, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
}

/// Query instants outside the years 1900 to 9999 are refused at once with `invalid_options`,
/// as event instants are refused: progress in year 262142 ran for minutes catching a member
/// up through its months. The last instant of 9999 is still answered.
#[test]
fn progress_outside_the_supported_years_is_refused() {
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    let m1 = "m1".into();
    for year in [262_142, 10_000, 1_899, -262_143] {
        let e = b.progress(&m1, new_year(year)).unwrap_err();
        assert_eq!(e.code(), "invalid_options", "{year}");
        assert!(
            e.to_string()
                .contains(&format!("year {year} is outside 1900..=9999")),
            "{e}"
        );
    }
    let last = new_year(10_000) - chrono::Duration::seconds(1);
    assert_eq!(b.progress(&m1, last).unwrap().at, last);
    assert!(b.progress(&m1, new_year(1_900)).is_ok());
}

/// docs/semantics.md §9 for an event of no member: a resent advance gets its full outcome while it is
/// within the late tolerance of the book's clock (boundary included), whichever member moves
/// that clock, and its id and points after that.
#[test]
fn a_resent_advance_is_kept_against_the_books_clock() {
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    buy(&mut b, "p1", "m1", "2026-01-11T15:00:00Z", BASKET_A);
    let advance = r#"{"type":"advance","id":"t1","at":"2026-03-01T00:00:00Z"}"#;
    let original = ok(&mut b, advance);
    assert!(
        !original.postings.is_empty(),
        "p1's lot matures: {original:?}"
    );
    let full = pointbook::Outcome {
        duplicate: true,
        ..original.clone()
    };
    enroll(&mut b, "e2", "m2", "2026-03-08T00:00:00Z");
    assert_eq!(b.apply(&event(advance)).unwrap(), full);
    enroll(&mut b, "e3", "m3", "2026-03-08T00:00:01Z");
    let compact = pointbook::Outcome {
        postings: Vec::new(),
        effects: Vec::new(),
        explanation: Vec::new(),
        ..full
    };
    assert_eq!(b.apply(&event(advance)).unwrap(), compact);
}

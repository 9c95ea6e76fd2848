//! docs/semantics.md §11, number for number.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use pointbook::{Effect, Points};

fn s(x: &str) -> String {
    x.to_owned()
}

#[test]
fn example_a_earning_rounds_once_per_purchase() {
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    let o = buy(&mut b, "p1", "m1", "2026-03-14T13:30:00Z", BASKET_A);
    assert_eq!(o.points, 11);
    assert_eq!(
        explanation(&o),
        vec![
            (s("base"), None, s("8.25")),
            (s("rule"), Some(s("pastry-double")), s("3.50")),
            (s("rounding"), None, s("-0.75")),
        ]
    );
    let bal = balance(&b, "m1");
    let lot = bal.lots.iter().find(|l| l.source.as_str() == "p1").unwrap();
    assert_eq!(lot.points, 11);
    assert_eq!(lot.state, "pending");
    assert_eq!(
        lot.expires_at.unwrap().to_rfc3339(),
        "2027-03-14T05:00:00+00:00"
    );
    // Pending until 2026-03-28T04:00:00Z, inclusive boundary.
    let mut b2 = b.clone();
    b2.advance("2026-03-28T03:59:59Z".parse().unwrap()).unwrap();
    assert_eq!(balance(&b2, "m1").pending, 11);
    b2.advance("2026-03-28T04:00:00Z".parse().unwrap()).unwrap();
    assert_eq!(balance(&b2, "m1").pending, 0);
    assert_eq!(balance(&b2, "m1").available, 36);
}

#[test]
fn example_a_gold_member_earns_the_tier_bonus() {
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    ok(
        &mut b,
        r#"{"type":"adjust","id":"x","member":"m1","at":"2026-01-11T15:00:00Z","points":1,"reason":"t"}"#,
    );
    buy(
        &mut b,
        "big",
        "m1",
        "2026-02-01T15:00:00Z",
        &coffee("300.00"),
    );
    assert_eq!(balance(&b, "m1").tier, "gold");
    let o = buy(&mut b, "p1", "m1", "2026-03-14T13:30:00Z", BASKET_A);
    assert_eq!(o.points, 13);
    assert_eq!(
        explanation(&o),
        vec![
            (s("base"), None, s("8.25")),
            (s("rule"), Some(s("pastry-double")), s("3.50")),
            (s("tier"), Some(s("gold")), s("2.0625")),
            (s("rounding"), None, s("-0.8125")),
        ]
    );
}

#[test]
fn example_a_double_weekend_for_a_green_member() {
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    let o = buy(&mut b, "p1", "m1", "2026-12-05T15:00:00Z", BASKET_A);
    assert_eq!(o.points, 20);
}

#[test]
fn double_weekend_is_capped_at_200_over_its_life() {
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    let o = buy(
        &mut b,
        "p1",
        "m1",
        "2026-12-05T15:00:00Z",
        &coffee("150.00"),
    );
    assert_eq!(o.points, 300);
    let o = buy(
        &mut b,
        "p2",
        "m1",
        "2026-12-06T15:00:00Z",
        &coffee("100.00"),
    );
    // 100 base + 50 left of the cap; gold now (450 points in 2026): +25.
    assert_eq!(o.points, 175);
}

#[test]
fn example_b_fifo_and_expiry() {
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    buy(
        &mut b,
        "p2",
        "m1",
        "2026-02-01T15:00:00Z",
        &coffee("100.00"),
    );
    buy(&mut b, "p3", "m1", "2026-06-01T15:00:00Z", &coffee("80.00"));
    b.advance("2026-07-01T00:00:00Z".parse().unwrap()).unwrap();
    assert_eq!(balance(&b, "m1").available, 205);
    let o = ok(
        &mut b,
        r#"{"type":"redeem","id":"x1","member":"m1","at":"2026-07-01T15:00:00Z","reward":"free-drink"}"#,
    );
    assert_eq!(o.points, -150);
    let bal = balance(&b, "m1");
    assert_eq!(bal.available, 55);
    assert_eq!(bal.lots.len(), 1);
    assert_eq!(bal.lots[0].source.as_str(), "p3");
    assert_eq!(bal.lots[0].points, 55);
    assert!(o
        .effects
        .iter()
        .any(|e| matches!(e, Effect::RewardIssued { reward, .. } if reward == "free-drink")));
    let o = b.advance("2027-06-01T04:00:00Z".parse().unwrap()).unwrap();
    assert!(o.effects.iter().any(|e| matches!(e,
        Effect::PointsExpired { points, source, .. } if *points == Points::new(55) && source.as_str() == "p3")));
    assert_eq!(b.totals().expired, 55);
    assert_eq!(balance(&b, "m1").available, 0);
}

#[test]
fn example_b_json_balance_shape() {
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    buy(
        &mut b,
        "p2",
        "m1",
        "2026-02-01T15:00:00Z",
        &coffee("100.00"),
    );
    buy(&mut b, "p3", "m1", "2026-06-01T15:00:00Z", &coffee("80.00"));
    ok(
        &mut b,
        r#"{"type":"redeem","id":"x1","member":"m1","at":"2026-07-01T15:00:00Z","reward":"free-drink"}"#,
    );
    let json = serde_json::to_string(&balance(&b, "m1")).unwrap();
    assert_eq!(
        json,
        r#"{"member":"m1","tier":"green","available":55,"pending":0,"held":0,"debt":0,"lots":[{"points":55,"state":"available","earned_at":"2026-06-01T15:00:00Z","expires_at":"2027-06-01T04:00:00Z","source":"p3"}]}"#
    );
}

#[test]
fn example_c_refund_recomputes_the_remaining_basket() {
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    buy(&mut b, "p1", "m1", "2026-03-14T13:30:00Z", BASKET_A);
    let o = ok(
        &mut b,
        r#"{"type":"refund","id":"r1","member":"m1","at":"2026-03-16T14:00:00Z","purchase":"p1","lines":[{"sku":"CROISSANT","amount":"3.50"}]}"#,
    );
    assert_eq!(o.points, -7);
    let bal = balance(&b, "m1");
    assert_eq!(bal.pending, 4);
    assert_eq!(bal.available, 25);
    let o = ok(
        &mut b,
        r#"{"type":"refund","id":"r2","member":"m1","at":"2026-03-16T14:05:00Z","purchase":"p1","lines":[{"sku":"LATTE"}]}"#,
    );
    assert_eq!(o.points, -4);
    assert_eq!(balance(&b, "m1").pending, 0);
    // Nothing is left to refund.
    assert_eq!(
        rejected(
            &mut b,
            r#"{"type":"refund","id":"r3","member":"m1","at":"2026-03-16T14:06:00Z","purchase":"p1","lines":[{"sku":"LATTE","amount":"0.01"}]}"#
        ),
        "refund_exceeds_purchase"
    );
}

#[test]
fn example_c_refund_of_spent_points_takes_other_lots_then_leaves_a_debt() {
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    buy(
        &mut b,
        "p1",
        "m1",
        "2026-01-11T15:00:00Z",
        &coffee("200.00"),
    );
    b.advance("2026-02-01T00:00:00Z".parse().unwrap()).unwrap();
    ok(
        &mut b,
        r#"{"type":"redeem","id":"x1","member":"m1","at":"2026-02-02T15:00:00Z","reward":"free-drink"}"#,
    );
    assert_eq!(balance(&b, "m1").available, 75);
    let o = ok(
        &mut b,
        r#"{"type":"refund","id":"r1","member":"m1","at":"2026-02-03T15:00:00Z","purchase":"p1","lines":[{"sku":"COFFEE"}]}"#,
    );
    assert_eq!(o.points, -200);
    let bal = balance(&b, "m1");
    assert_eq!((bal.available, bal.debt), (-125, 125));
    // Points pay the debt first as they become available.
    buy(
        &mut b,
        "p2",
        "m1",
        "2026-02-04T15:00:00Z",
        &coffee("100.00"),
    );
    b.advance("2026-02-19T00:00:00Z".parse().unwrap()).unwrap();
    let bal = balance(&b, "m1");
    assert_eq!((bal.available, bal.debt, bal.pending), (-25, 25, 0));
    assert!(bal.lots.is_empty());
}

#[test]
fn refund_shortfall_can_be_forgiven() {
    let text = pointbook::samples::BEAN_AND_LEAF
        .replace("shortfall = \"allow_negative\"", "shortfall = \"forgive\"");
    let mut b = pointbook::Book::new(pointbook::Program::from_toml(&text).unwrap());
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    buy(
        &mut b,
        "p1",
        "m1",
        "2026-01-11T15:00:00Z",
        &coffee("200.00"),
    );
    b.advance("2026-02-01T00:00:00Z".parse().unwrap()).unwrap();
    ok(
        &mut b,
        r#"{"type":"redeem","id":"x1","member":"m1","at":"2026-02-02T15:00:00Z","reward":"free-drink"}"#,
    );
    ok(
        &mut b,
        r#"{"type":"refund","id":"r1","member":"m1","at":"2026-02-03T15:00:00Z","purchase":"p1","lines":[{"sku":"COFFEE"}]}"#,
    );
    let bal = balance(&b, "m1");
    assert_eq!((bal.available, bal.debt), (0, 0));
    assert_eq!(b.totals().forgiven, -125);
}

#[test]
fn example_d_tiers_by_calendar_year() {
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    buy(
        &mut b,
        "p1",
        "m1",
        "2026-08-01T15:00:00Z",
        &coffee("290.00"),
    );
    let o = buy(&mut b, "p2", "m1", "2026-08-10T15:00:00Z", &coffee("20.00"));
    assert_eq!(o.points, 20, "the crossing purchase earns at green");
    assert!(o.effects.iter().any(|e| matches!(e,
        Effect::TierChanged { from, to, .. } if from == "green" && to == "gold")));
    let o = buy(&mut b, "p3", "m1", "2026-08-11T15:00:00Z", &coffee("20.00"));
    assert_eq!(o.points, 25, "the next purchase earns the 25% bonus");
    // 2027: only 120 qualifying points; gold holds through 2027.
    buy(&mut b, "p4", "m1", "2027-03-01T15:00:00Z", &coffee("96.00"));
    b.advance("2027-12-31T23:00:00Z".parse().unwrap()).unwrap();
    assert_eq!(balance(&b, "m1").tier, "gold");
    let o = b.advance("2028-01-01T05:00:00Z".parse().unwrap()).unwrap();
    assert!(o.effects.iter().any(|e| matches!(e,
        Effect::TierChanged { to, at, .. } if to == "green" && at.to_rfc3339() == "2028-01-01T05:00:00+00:00")));
    assert_eq!(balance(&b, "m1").tier, "green");
}

#[test]
fn example_e_hold_expires_before_the_next_purchase_earns() {
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    buy(
        &mut b,
        "p1",
        "m1",
        "2026-02-01T15:00:00Z",
        &coffee("300.00"),
    );
    buy(
        &mut b,
        "p2",
        "m1",
        "2026-02-02T15:00:00Z",
        &coffee("300.00"),
    );
    b.advance("2026-09-01T00:00:00Z".parse().unwrap()).unwrap();
    let before = balance(&b, "m1");
    assert_eq!(before.tier, "gold");
    ok(
        &mut b,
        r#"{"type":"redeem","id":"h1","member":"m1","at":"2026-09-01T16:00:00Z","reward":"mug","hold":true}"#,
    );
    let bal = balance(&b, "m1");
    assert_eq!(bal.held, 600);
    assert_eq!(bal.available, before.available - 600);
    let o = buy(&mut b, "p3", "m1", "2026-09-01T16:20:00Z", &coffee("10.00"));
    assert!(o.effects.iter().any(|e| matches!(e,
        Effect::HoldExpired { points, .. } if *points == Points::new(600))));
    let bal = balance(&b, "m1");
    assert_eq!(bal.held, 0);
    assert_eq!(bal.available, before.available);
    // The points went back to the lots they came from, with their original expiry.
    assert_eq!(
        serde_json::to_value(&bal.lots[..before.lots.len()]).unwrap(),
        serde_json::to_value(&before.lots).unwrap()
    );
    // The expired hold can no longer be confirmed.
    assert_eq!(
        rejected(
            &mut b,
            r#"{"type":"confirm","id":"c1","member":"m1","at":"2026-09-01T16:21:00Z","redemption":"h1"}"#
        ),
        "hold_not_active"
    );
}

#[test]
fn example_f_idempotency_and_id_conflict() {
    let mut b = book();
    enroll(&mut b, "e1", "m1", "2026-01-10T15:00:00Z");
    let first = buy(&mut b, "p1", "m1", "2026-03-14T13:30:00Z", BASKET_A);
    let digest = b.digest().unwrap();
    let again = buy(&mut b, "p1", "m1", "2026-03-14T13:30:00Z", BASKET_A);
    assert!(again.duplicate);
    assert_eq!(again.points, first.points);
    assert_eq!(again.postings, first.postings);
    assert_eq!(b.digest().unwrap(), digest);
    let code = rejected(
        &mut b,
        r#"{"type":"purchase","id":"p1","member":"m1","at":"2026-03-14T13:30:00Z","lines":[{"sku":"LATTE","category":"coffee","amount":"5.75"}]}"#,
    );
    assert_eq!(code, "id_conflict");
}

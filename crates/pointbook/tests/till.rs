//! docs/semantics.md §13 at the till, number for number: points as payment, percent off, free
//! items by quantity, and giving spent points back (reversals, refunds of purchases paid with
//! points). The numbers are worked on paper in the comments.
#![allow(clippy::unwrap_used)]

mod common;
use common::{balance, event, ok, rejected};
use pointbook::{Book, Effect, Program};

/// The till program (UTC, so instants read as local times): 1 point per dollar, points
/// available at once and expiring 30 days after they were earned. Shared with the C and
/// Python tests.
const TILL: &str = include_str!("fixtures/till.toml");

fn till() -> Book {
    let mut b = Book::new(Program::from_toml(TILL).unwrap());
    ok(
        &mut b,
        r#"{"type":"enroll","id":"e1","member":"m1","at":"2026-01-01T10:00:00Z"}"#,
    );
    b
}

/// Credits `points` to m1 as a lot of its own (source `id`), at `at`.
fn credit(b: &mut Book, id: &str, at: &str, points: i64) {
    ok(
        b,
        &format!(
            r#"{{"type":"adjust","id":"{id}","member":"m1","at":"{at}","points":{points},"reason":"test"}}"#
        ),
    );
}

/// m1's lots as (source, points, expiry).
fn lots(b: &Book) -> Vec<(String, i64, String)> {
    balance(b, "m1")
        .lots
        .iter()
        .map(|l| {
            let expiry = l.expires_at.map(|e| e.to_rfc3339()).unwrap_or_default();
            (l.source.to_string(), l.points, expiry)
        })
        .collect()
}

fn discount(o: &pointbook::Outcome) -> Option<String> {
    o.discount.map(|d| d.to_string())
}

fn reversed(o: &pointbook::Outcome) -> Vec<(String, i64, bool)> {
    o.effects
        .iter()
        .filter_map(|e| match e {
            Effect::RewardReversed {
                redemption,
                points,
                whole,
                ..
            } => Some((redemption.to_string(), points.get(), *whole)),
            _ => None,
        })
        .collect()
}

/// An order of 12.40 with `max_share` 0.5: the points may pay 6.20 at most. 620 points × 0.01
/// = 6.20 is exactly the boundary and passes; 630 pay 6.30 and are refused; 625 is not a
/// multiple of the step of 10.
#[test]
fn points_payment_at_the_max_share_boundary() {
    let mut b = till();
    credit(&mut b, "a1", "2026-01-02T10:00:00Z", 1000);
    let pay = |id: &str, points: i64| {
        format!(
            r#"{{"type":"redeem","id":"{id}","member":"m1","at":"2026-01-03T10:00:00Z","reward":"pay","points":{points},"order_total":"12.40"}}"#
        )
    };
    assert_eq!(rejected(&mut b, &pay("x0", 630)), "exceeds_order");
    assert_eq!(rejected(&mut b, &pay("x0", 625)), "invalid_event");
    let o = ok(&mut b, &pay("x1", 620));
    assert_eq!(o.points, -620);
    assert_eq!(discount(&o).as_deref(), Some("6.20"));
    assert!(
        serde_json::to_string(&o)
            .unwrap()
            .contains(r#""discount":"6.20""#),
        "{}",
        serde_json::to_string(&o).unwrap()
    );
    assert_eq!(balance(&b, "m1").available, 380);
    // Without `points` or `order_total` a points payment means nothing.
    let bare = r#"{"type":"redeem","id":"x2","member":"m1","at":"2026-01-03T10:00:00Z","reward":"pay","points":10}"#;
    assert_eq!(rejected(&mut b, bare), "invalid_event");
    // More points than the member has.
    assert_eq!(rejected(&mut b, &pay("x3", 390)), "insufficient_points");
}

/// 10% off coffee lines, at most 3.00: coffee 25.00 (+ pastry 10.00, not eligible) → 2.50;
/// coffee 45.55 → 4.555, floored to 4.55, capped at 3.00; coffee 4.75 → 0.475, floored to
/// 0.47. 15% of an order of 19.99 → 2.9985 → 2.99.
#[test]
fn percent_off_rounds_down_and_stops_at_max_amount() {
    let mut b = till();
    credit(&mut b, "a1", "2026-01-02T10:00:00Z", 1000);
    let coffee = |id: &str, lines: &str| {
        format!(
            r#"{{"type":"redeem","id":"{id}","member":"m1","at":"2026-01-03T10:00:00Z","reward":"coffee-10","lines":[{lines}]}}"#
        )
    };
    let o = ok(
        &mut b,
        &coffee(
            "x1",
            r#"{"sku":"LATTE","category":"coffee","amount":"25.00"},{"sku":"CAKE","category":"pastry","amount":"10.00"}"#,
        ),
    );
    assert_eq!((o.points, discount(&o).as_deref()), (-100, Some("2.50")));
    let o = ok(
        &mut b,
        &coffee(
            "x2",
            r#"{"sku":"BEANS","category":"coffee","amount":"45.55"}"#,
        ),
    );
    assert_eq!(discount(&o).as_deref(), Some("3.00"));
    let o = ok(
        &mut b,
        &coffee(
            "x3",
            r#"{"sku":"LATTE","category":"coffee","amount":"4.75"}"#,
        ),
    );
    assert_eq!(discount(&o).as_deref(), Some("0.47"));
    // A filtered reward needs the lines: a total alone cannot say what is coffee.
    let total = r#"{"type":"redeem","id":"x4","member":"m1","at":"2026-01-03T10:00:00Z","reward":"coffee-10","order_total":"20.00"}"#;
    assert_eq!(rejected(&mut b, total), "invalid_event");
    let o = ok(
        &mut b,
        r#"{"type":"redeem","id":"x5","member":"m1","at":"2026-01-03T10:00:00Z","reward":"pct-15","order_total":"19.99"}"#,
    );
    assert_eq!((o.points, discount(&o).as_deref()), (-50, Some("2.99")));
    // An amount off carries its amount, and no more than the order when the order is named.
    let o = ok(
        &mut b,
        r#"{"type":"redeem","id":"x6","member":"m1","at":"2026-01-03T10:00:00Z","reward":"five-off"}"#,
    );
    assert_eq!(discount(&o).as_deref(), Some("5.00"));
    let o = ok(
        &mut b,
        r#"{"type":"redeem","id":"x7","member":"m1","at":"2026-01-03T10:00:00Z","reward":"five-off","order_total":"3.20"}"#,
    );
    assert_eq!(discount(&o).as_deref(), Some("3.20"));
    // A voucher has no discount, and a field that means nothing for its kind is refused.
    let o = ok(
        &mut b,
        r#"{"type":"redeem","id":"x8","member":"m1","at":"2026-01-03T10:00:00Z","reward":"voucher"}"#,
    );
    assert_eq!(o.discount, None);
    assert!(!serde_json::to_string(&o).unwrap().contains("discount"));
    let odd = r#"{"type":"redeem","id":"x9","member":"m1","at":"2026-01-03T10:00:00Z","reward":"voucher","points":10}"#;
    assert_eq!(rejected(&mut b, odd), "invalid_event");
}

/// Free cookies cost 40 each: 3 cost 120. The limit (3 a month) and the stock (5) count
/// cookies, not redemptions: a fourth in January is refused, two more in February pass, and
/// then the stock is out. A whole reversal of those two gives them back to the limit and the
/// stock: two more pass.
#[test]
fn free_items_by_quantity_count_toward_limit_and_stock() {
    let mut b = till();
    credit(&mut b, "a1", "2026-01-20T10:00:00Z", 1000);
    let cookies = |id: &str, at: &str, n: u32| {
        format!(
            r#"{{"type":"redeem","id":"{id}","member":"m1","at":"{at}","reward":"cookie","quantity":{n}}}"#
        )
    };
    let o = ok(&mut b, &cookies("x1", "2026-01-21T10:00:00Z", 3));
    assert_eq!(o.points, -120);
    assert_eq!(
        rejected(&mut b, &cookies("x2", "2026-01-22T10:00:00Z", 1)),
        "limit_reached"
    );
    ok(&mut b, &cookies("x3", "2026-02-01T10:00:00Z", 2));
    assert_eq!(
        rejected(&mut b, &cookies("x4", "2026-02-01T11:00:00Z", 1)),
        "out_of_stock"
    );
    ok(
        &mut b,
        r#"{"type":"reverse","id":"v1","member":"m1","at":"2026-02-01T12:00:00Z","redemption":"x3"}"#,
    );
    ok(&mut b, &cookies("x5", "2026-02-01T13:00:00Z", 2));
    assert_eq!(
        rejected(&mut b, &cookies("x6", "2026-02-01T14:00:00Z", 0)),
        "invalid_event"
    );
}

/// Lot a1 (100, earned Jan 1, expires Jan 31) and a2 (100, earned Jan 10, expires Feb 9). A
/// payment of 150 points takes a1's 100 (soonest expiry first) and 50 of a2; a1 is emptied and
/// goes. A reversal of 30 gives back the last taken first: a2 holds 80. The rest (120) gives 20
/// more to a2 (100) and puts a1 back with its 100 and its own expiry. Nothing is left.
#[test]
fn a_reversal_returns_points_to_their_own_lots() {
    let mut b = till();
    credit(&mut b, "a1", "2026-01-01T12:00:00Z", 100);
    credit(&mut b, "a2", "2026-01-10T12:00:00Z", 100);
    ok(
        &mut b,
        r#"{"type":"redeem","id":"x1","member":"m1","at":"2026-01-12T10:00:00Z","reward":"pay","points":150,"order_total":"10.00"}"#,
    );
    assert_eq!(
        lots(&b),
        vec![("a2".into(), 50, "2026-02-09T00:00:00+00:00".into())]
    );
    let o = ok(
        &mut b,
        r#"{"type":"reverse","id":"v1","member":"m1","at":"2026-01-15T10:00:00Z","redemption":"x1","points":30}"#,
    );
    assert_eq!(o.points, 30);
    assert_eq!(reversed(&o), vec![("x1".into(), 30, false)]);
    assert_eq!(
        lots(&b),
        vec![("a2".into(), 80, "2026-02-09T00:00:00+00:00".into())]
    );
    let o = ok(
        &mut b,
        r#"{"type":"reverse","id":"v2","member":"m1","at":"2026-01-20T10:00:00Z","redemption":"x1"}"#,
    );
    assert_eq!(o.points, 120);
    assert_eq!(reversed(&o), vec![("x1".into(), 120, true)]);
    assert_eq!(
        lots(&b),
        vec![
            ("a1".into(), 100, "2026-01-31T00:00:00+00:00".into()),
            ("a2".into(), 100, "2026-02-09T00:00:00+00:00".into()),
        ]
    );
    assert_eq!(balance(&b, "m1").available, 200);
    let again = r#"{"type":"reverse","id":"v3","member":"m1","at":"2026-01-20T11:00:00Z","redemption":"x1","points":10}"#;
    assert_eq!(rejected(&mut b, again), "reversal_exceeds");
}

/// More than is left, a held redemption, an unknown one: each refused, nothing changed.
#[test]
fn what_cannot_be_reversed() {
    let mut b = till();
    credit(&mut b, "a1", "2026-01-01T12:00:00Z", 100);
    ok(
        &mut b,
        r#"{"type":"redeem","id":"x1","member":"m1","at":"2026-01-02T10:00:00Z","reward":"voucher"}"#,
    );
    ok(
        &mut b,
        r#"{"type":"redeem","id":"x2","member":"m1","at":"2026-01-02T10:00:00Z","reward":"voucher","hold":true}"#,
    );
    let reverse = |id: &str, rid: &str, points: &str| {
        format!(
            r#"{{"type":"reverse","id":"{id}","member":"m1","at":"2026-01-02T10:01:00Z","redemption":"{rid}"{points}}}"#
        )
    };
    assert_eq!(
        rejected(&mut b, &reverse("v1", "x1", r#","points":11"#)),
        "reversal_exceeds"
    );
    assert_eq!(
        rejected(&mut b, &reverse("v1", "x2", "")),
        "reversal_exceeds"
    );
    assert_eq!(
        rejected(&mut b, &reverse("v1", "nope", "")),
        "unknown_redemption"
    );
    assert_eq!(
        rejected(&mut b, &reverse("v1", "x1", r#","points":0"#)),
        "invalid_event"
    );
    // A whole reversal of the voucher voids it.
    let o = ok(&mut b, &reverse("v1", "x1", ""));
    assert_eq!(reversed(&o), vec![("x1".into(), 10, true)]);
}

/// Lot a1 (100, expires Jan 31) pays 100 points on Jan 5. Reversed on Feb 5, the points go
/// back to a1, which is past its expiry: they expire at once, in the same event.
#[test]
fn a_reversal_into_an_expired_lot_expires_at_once() {
    let mut b = till();
    credit(&mut b, "a1", "2026-01-01T12:00:00Z", 100);
    ok(
        &mut b,
        r#"{"type":"redeem","id":"x1","member":"m1","at":"2026-01-05T10:00:00Z","reward":"pay","points":100,"order_total":"10.00"}"#,
    );
    let o = ok(
        &mut b,
        r#"{"type":"reverse","id":"v1","member":"m1","at":"2026-02-05T10:00:00Z","redemption":"x1"}"#,
    );
    let moves: Vec<(String, i64)> = o
        .postings
        .iter()
        .map(|p| (p.reason.name().to_owned(), p.points.get()))
        .collect();
    assert_eq!(
        moves,
        vec![("reversal".into(), 100), ("expire".into(), 100)]
    );
    assert!(o.effects.iter().any(|e| matches!(
        e,
        Effect::PointsExpired { source, points, .. } if source.as_str() == "a1" && points.get() == 100
    )));
    assert_eq!(balance(&b, "m1").available, 0);
}

/// A payment of 500 points names purchase p9 (12.40 of beans), which arrives a minute later
/// and earns 12 points. A refund of 5.00 of it gives back floor(500 × 5.00 / 12.40) =
/// floor(201.6) = 201 points, and takes back the earn of the refunded part (12 − 7 = 5):
/// the event's points are +201 − 5 = +196. A refund of the 7.40 left gives back all that is
/// left of the payment (299).
#[test]
fn a_refund_gives_back_the_refunded_share_of_a_points_payment() {
    let mut b = till();
    credit(&mut b, "a1", "2026-01-01T12:00:00Z", 1000);
    ok(
        &mut b,
        r#"{"type":"redeem","id":"x1","member":"m1","at":"2026-01-04T12:00:00Z","reward":"pay","points":500,"order_total":"12.40","purchase":"p9"}"#,
    );
    let o = ok(
        &mut b,
        r#"{"type":"purchase","id":"p9","member":"m1","at":"2026-01-04T12:01:00Z","lines":[{"sku":"BEANS","category":"coffee","amount":"12.40"}]}"#,
    );
    assert_eq!(o.points, 12);
    assert_eq!(balance(&b, "m1").available, 512);
    let o = ok(
        &mut b,
        r#"{"type":"refund","id":"r1","member":"m1","at":"2026-01-05T12:00:00Z","purchase":"p9","lines":[{"sku":"BEANS","amount":"5.00"}]}"#,
    );
    assert_eq!(o.points, 196);
    assert_eq!(reversed(&o), vec![("x1".into(), 201, false)]);
    // Both movements, the points given back first.
    use pointbook::{Account, MemberId};
    let moves: Vec<(Account, Account, i64)> = o
        .postings
        .iter()
        .map(|p| (p.from.clone(), p.to.clone(), p.points.get()))
        .collect();
    let m1 = || Account::Available(MemberId::new("m1"));
    assert_eq!(
        moves,
        vec![(Account::Redeemed, m1(), 201), (m1(), Account::Issued, 5)]
    );
    assert_eq!(balance(&b, "m1").available, 708);
    let o = ok(
        &mut b,
        r#"{"type":"refund","id":"r2","member":"m1","at":"2026-01-06T12:00:00Z","purchase":"p9","lines":[{"sku":"BEANS"}]}"#,
    );
    assert_eq!(reversed(&o), vec![("x1".into(), 299, true)]);
    assert_eq!(o.points, 299 - 7);
    assert_eq!(balance(&b, "m1").available, 1000);
}

/// A hold of a points payment keeps its discount: the confirm's outcome carries it too.
#[test]
fn a_held_payment_carries_its_discount_to_the_confirm() {
    let mut b = till();
    credit(&mut b, "a1", "2026-01-01T12:00:00Z", 1000);
    let o = ok(
        &mut b,
        r#"{"type":"redeem","id":"x1","member":"m1","at":"2026-01-04T12:00:00Z","reward":"pay","points":300,"order_total":"20.00","hold":true}"#,
    );
    assert_eq!(discount(&o).as_deref(), Some("3.00"));
    let o = ok(
        &mut b,
        r#"{"type":"confirm","id":"c1","member":"m1","at":"2026-01-04T12:01:00Z","redemption":"x1"}"#,
    );
    assert_eq!(discount(&o).as_deref(), Some("3.00"));
}

/// A redeem sent again with the same fields is a duplicate; with another `points`, another
/// event (an id conflict).
#[test]
fn the_new_fields_are_part_of_a_redeem_identity() {
    let mut b = till();
    credit(&mut b, "a1", "2026-01-01T12:00:00Z", 1000);
    let pay = |points: i64| {
        format!(
            r#"{{"type":"redeem","id":"x1","member":"m1","at":"2026-01-04T12:00:00Z","reward":"pay","points":{points},"order_total":"20.00"}}"#
        )
    };
    ok(&mut b, &pay(300));
    assert!(b.apply(&event(&pay(300))).unwrap().duplicate);
    assert_eq!(rejected(&mut b, &pay(310)), "id_conflict");
}

/// A snapshot keeps what a reversal needs: restored, the book gives back the same.
#[test]
fn a_restored_book_still_reverses() {
    let mut b = till();
    credit(&mut b, "a1", "2026-01-01T12:00:00Z", 100);
    credit(&mut b, "a2", "2026-01-10T12:00:00Z", 100);
    ok(
        &mut b,
        r#"{"type":"redeem","id":"x1","member":"m1","at":"2026-01-12T10:00:00Z","reward":"pay","points":150,"order_total":"10.00"}"#,
    );
    let mut restored = Book::restore(b.program(), &b.snapshot().unwrap()).unwrap();
    let reverse = r#"{"type":"reverse","id":"v1","member":"m1","at":"2026-01-15T10:00:00Z","redemption":"x1"}"#;
    assert_eq!(ok(&mut restored, reverse), ok(&mut b, reverse));
    assert_eq!(restored.digest().unwrap(), b.digest().unwrap());
}

/// A till asks before the customer pays: "use 500 points on 12.40 of beans". The points pay
/// 5.00; the 7.40 left earns 7 points: the quote's points are 7 − 500 = −493, its discount
/// 5.00, and the book is unchanged.
#[test]
fn a_quote_paid_with_points_shows_the_discount_and_the_earn() {
    let mut b = till();
    credit(&mut b, "a1", "2026-01-01T12:00:00Z", 1000);
    let digest = b.digest().unwrap();
    let quote = |pay: &str| {
        pointbook::event::Quote::from_json(&format!(
            r#"{{"id":"q1","member":"m1","at":"2026-01-04T12:00:00Z","lines":[{{"sku":"BEANS","category":"coffee","amount":"12.40"}}],"pay":{pay}}}"#
        ))
        .unwrap()
    };
    let o = b
        .quote_order(&quote(r#"{"reward":"pay","points":500}"#))
        .unwrap();
    assert_eq!((o.points, discount(&o).as_deref()), (-493, Some("5.00")));
    let earned: Vec<(String, rust_decimal::Decimal)> = o
        .explanation
        .iter()
        .map(|l| (l.kind.to_string(), l.points))
        .collect();
    let d = |n: i64, scale: u32| rust_decimal::Decimal::new(n, scale);
    assert_eq!(
        earned,
        vec![
            ("redeem".into(), d(-500, 0)),
            ("base".into(), d(740, 2)),
            ("rounding".into(), d(-40, 2))
        ]
    );
    assert_eq!(b.digest().unwrap(), digest);
    // Too many points for half the order: the quote says so, as the redeem would.
    let e = b
        .quote_order(&quote(r#"{"reward":"pay","points":700}"#))
        .unwrap_err();
    assert_eq!(e.code(), "exceeds_order");
    // A voucher takes no money off: nothing to quote it with.
    let e = b
        .quote_order(&quote(r#"{"reward":"voucher"}"#))
        .unwrap_err();
    assert_eq!(e.code(), "invalid_event");
    // Without `pay`, the plain quote.
    let plain = pointbook::event::Quote::from_json(
        r#"{"id":"q1","member":"m1","at":"2026-01-04T12:00:00Z","lines":[{"sku":"BEANS","category":"coffee","amount":"12.40"}]}"#,
    )
    .unwrap();
    assert_eq!(b.quote_order(&plain).unwrap().points, 12);
}

/// 10% off coffee on a latte of 4.75 and a cake of 10.00: 0.47 off, all of it from the latte
/// (4.28 left), so the basket earns on 14.28: 14 points, less the reward's 100.
#[test]
fn a_quote_takes_a_percent_off_from_the_lines_it_applies_to() {
    let mut b = till();
    credit(&mut b, "a1", "2026-01-01T12:00:00Z", 1000);
    let q = pointbook::event::Quote::from_json(
        r#"{"id":"q1","member":"m1","at":"2026-01-04T12:00:00Z","lines":[{"sku":"LATTE","category":"coffee","amount":"4.75"},{"sku":"CAKE","category":"pastry","amount":"10.00"}],"pay":{"reward":"coffee-10"}}"#,
    )
    .unwrap();
    let o = b.quote_order(&q).unwrap();
    assert_eq!(
        (o.points, discount(&o).as_deref()),
        (14 - 100, Some("0.47"))
    );
    let base = o.explanation.iter().find(|l| l.kind == "base").unwrap();
    assert_eq!(base.points.to_string(), "14.28");
}

/// Analytics count the money rewards took off orders when the reward is issued: 5.00 paid
/// with points at once, 3.00 held and confirmed, 2.00 held and cancelled (not given).
#[test]
fn analytics_count_the_discounts_given() {
    let program = Program::from_toml(TILL).unwrap();
    let events: Vec<pointbook::Event> = [
        r#"{"type":"enroll","id":"e1","member":"m1","at":"2026-01-01T10:00:00Z"}"#,
        r#"{"type":"adjust","id":"a1","member":"m1","at":"2026-01-01T12:00:00Z","points":1000,"reason":"t"}"#,
        r#"{"type":"redeem","id":"x1","member":"m1","at":"2026-01-02T12:00:00Z","reward":"pay","points":500,"order_total":"12.40"}"#,
        r#"{"type":"redeem","id":"x2","member":"m1","at":"2026-01-03T12:00:00Z","reward":"pay","points":300,"order_total":"20.00","hold":true}"#,
        r#"{"type":"confirm","id":"c2","member":"m1","at":"2026-01-03T12:01:00Z","redemption":"x2"}"#,
        r#"{"type":"redeem","id":"x3","member":"m1","at":"2026-01-04T12:00:00Z","reward":"pay","points":200,"order_total":"20.00","hold":true}"#,
        r#"{"type":"cancel","id":"c3","member":"m1","at":"2026-01-04T12:01:00Z","redemption":"x3"}"#,
    ]
    .iter()
    .map(|j| event(j))
    .collect();
    let a = pointbook::analytics::analyze(program, &events, Default::default()).unwrap();
    assert_eq!(a.summary.discounts, rust_decimal::Decimal::new(800, 2));
    let by_period: rust_decimal::Decimal = a.periods.iter().map(|p| p.discounts).sum();
    assert_eq!(by_period, a.summary.discounts);
}

/// A redemption restored from a snapshot written before reversals existed kept no record of
/// the lots its points came from: reversing it is refused, saying why, and changes nothing.
#[test]
fn a_redemption_from_before_reversals_cannot_be_reversed() {
    let program = common::bean_and_leaf();
    let snapshot = include_str!("fixtures/bean-and-leaf-v3.snapshot");
    let mut b = Book::restore(&program, snapshot.as_bytes()).unwrap();
    let json = r#"{"type":"reverse","id":"v1","member":"m1","at":"2027-07-02T10:00:00Z","redemption":"x1"}"#;
    let before = b.digest().unwrap();
    let e = b.apply(&event(json)).unwrap_err();
    assert_eq!(e.code(), "reversal_exceeds");
    assert!(e.to_string().contains("before reversals existed"), "{e}");
    assert_eq!(b.digest().unwrap(), before);
}

/// `step` defaults to 1 and `max_share` to the whole order: 7 points at 0.01 pay 0.07, more than
/// an order of 0.05; 5 points pay it all.
#[test]
fn a_points_payment_defaults_to_any_points_and_the_whole_order() {
    let text = TILL.replace(
        r#"kind = { points_payment = { rate = "0.01", step = 10, max_share = "0.5" } }"#,
        r#"kind = { points_payment = { rate = "0.01" } }"#,
    );
    assert_ne!(text, TILL);
    let mut b = Book::new(Program::from_toml(&text).unwrap());
    ok(
        &mut b,
        r#"{"type":"enroll","id":"e1","member":"m1","at":"2026-01-01T10:00:00Z"}"#,
    );
    credit(&mut b, "a1", "2026-01-01T12:00:00Z", 100);
    let pay = |id: &str, points: i64| {
        format!(
            r#"{{"type":"redeem","id":"{id}","member":"m1","at":"2026-01-02T10:00:00Z","reward":"pay","points":{points},"order_total":"0.05"}}"#
        )
    };
    assert_eq!(rejected(&mut b, &pay("x1", 7)), "exceeds_order");
    let o = ok(&mut b, &pay("x1", 5));
    assert_eq!((o.points, discount(&o).as_deref()), (-5, Some("0.05")));
}

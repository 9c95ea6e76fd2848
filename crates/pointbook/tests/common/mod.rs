//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use pointbook::{Balance, Book, Event, Outcome, Program};

pub fn bean_and_leaf() -> Program {
    Program::from_toml(pointbook::samples::BEAN_AND_LEAF).unwrap()
}

pub fn book() -> Book {
    Book::new(bean_and_leaf())
}

pub fn event(json: &str) -> Event {
    Event::from_json(json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

/// Applies an event that must be accepted, and checks the invariants after it.
pub fn ok(book: &mut Book, json: &str) -> Outcome {
    let o = book
        .apply(&event(json))
        .unwrap_or_else(|e| panic!("rejected: {e}: {json}"));
    book.verify()
        .unwrap_or_else(|e| panic!("invariant broken after {json}: {e}"));
    let sum: i64 = o.postings.iter().map(|p| p.points.get()).sum();
    assert!(sum >= 0);
    o
}

/// Applies an event that must be rejected, checks nothing changed, returns the error code.
pub fn rejected(book: &mut Book, json: &str) -> &'static str {
    let before = book.digest();
    let err = book.apply(&event(json)).expect_err(json);
    assert_eq!(
        book.digest(),
        before,
        "rejected event changed the book: {json}"
    );
    err.code()
}

pub fn balance(book: &Book, member: &str) -> Balance {
    book.balance(&member.into()).unwrap()
}

pub fn enroll(book: &mut Book, id: &str, member: &str, at: &str) -> Outcome {
    ok(
        book,
        &format!(r#"{{"type":"enroll","id":"{id}","member":"{member}","at":"{at}"}}"#),
    )
}

pub fn buy(book: &mut Book, id: &str, member: &str, at: &str, lines: &str) -> Outcome {
    ok(
        book,
        &format!(
            r#"{{"type":"purchase","id":"{id}","member":"{member}","at":"{at}","lines":[{lines}]}}"#
        ),
    )
}

pub fn coffee(amount: &str) -> String {
    format!(r#"{{"sku":"COFFEE","category":"coffee","amount":"{amount}"}}"#)
}

pub const BASKET_A: &str = r#"{"sku":"LATTE","category":"coffee","amount":"4.75","quantity":1},{"sku":"CROISSANT","category":"pastry","amount":"3.50"},{"sku":"GIFTCARD","category":"gift_card","amount":"25.00"}"#;

pub fn explanation(o: &Outcome) -> Vec<(String, Option<String>, String)> {
    o.explanation
        .iter()
        .map(|l| (l.kind.to_string(), l.name.clone(), l.points.to_string()))
        .collect()
}

//! One event's JSON, any bytes: parsed, and if it parses, applied to a book that has members;
//! never a panic, and the book keeps every invariant whether the event is applied or rejected.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pointbook::{Book, Event, Program};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(event) = Event::from_json(text) else {
        return;
    };
    let Ok(program) = Program::from_toml(pointbook::samples::BEAN_AND_LEAF) else {
        return;
    };
    let mut book = Book::new(program);
    for line in [
        r#"{"type":"enroll","id":"e1","member":"m1","at":"2026-01-10T15:00:00Z"}"#,
        r#"{"type":"purchase","id":"p1","member":"m1","at":"2026-02-01T15:00:00Z","lines":[{"sku":"BEANS","category":"coffee","amount":"300.00"}]}"#,
        r#"{"type":"enroll","id":"e2","member":"m2","at":"2026-01-11T15:00:00Z"}"#,
    ] {
        let _ = book.apply_json(line);
    }
    let before = book.digest().ok();
    if book.apply(&event).is_err() {
        assert_eq!(
            book.digest().ok(),
            before,
            "a rejected event changed the book"
        );
    }
    assert_eq!(book.verify(), Ok(()));
    let _ = book.balances();
});

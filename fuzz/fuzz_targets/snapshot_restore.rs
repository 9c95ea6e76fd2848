//! A snapshot, any bytes: restored or refused with a typed error, never a panic or a hang; a
//! book it gives keeps every invariant, takes an event, and saves and restores again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pointbook::{Book, Program};

fuzz_target!(|data: &[u8]| {
    let Ok(program) = Program::from_toml(pointbook::samples::BEAN_AND_LEAF) else {
        return;
    };
    let Ok(mut book) = Book::restore(&program, data) else {
        return;
    };
    assert_eq!(book.verify(), Ok(()));
    let _ = book.balances();
    let _ = book.apply_json(
        r#"{"type":"purchase","id":"fz","member":"m1","at":"2027-07-02T10:00:00Z","lines":[{"sku":"LATTE","category":"coffee","amount":"4.75"}]}"#,
    );
    assert_eq!(book.verify(), Ok(()));
    let saved = book.snapshot().expect("a restored book saves");
    assert!(
        Book::restore(&program, &saved).is_ok(),
        "a saved book restores"
    );
});

//! A stream of events, one JSON per line, any bytes: each applied or rejected in turn, and the
//! book keeps every invariant of docs/semantics.md §10 after every step.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pointbook::{Book, Program};

fuzz_target!(|data: &[u8]| {
    let Ok(program) = Program::from_toml(pointbook::samples::BEAN_AND_LEAF) else {
        return;
    };
    let mut book = Book::new(program);
    for line in data.split(|b| *b == b'\n').take(64) {
        let Ok(text) = std::str::from_utf8(line) else {
            continue;
        };
        let _ = book.apply_json(text);
        assert_eq!(book.verify(), Ok(()));
    }
    let _ = book.balances();
});

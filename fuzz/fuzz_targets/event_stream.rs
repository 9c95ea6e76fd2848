//! A stream of events, one JSON per line, any bytes: each applied or rejected in turn, and the
//! book keeps every invariant of docs/semantics.md §10 after every step. The program is Bean &
//! Leaf with the rewards of §13 beside its own: a points payment, a percent off coffee and free
//! cookies by quantity.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pointbook::{Book, Program};

fuzz_target!(|data: &[u8]| {
    let text = format!("{}{TILL_REWARDS}", pointbook::samples::BEAN_AND_LEAF);
    let Ok(program) = Program::from_toml(&text) else {
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

const TILL_REWARDS: &str = include_str!("../../crates/pointbook/tests/fixtures/till-rewards.toml");

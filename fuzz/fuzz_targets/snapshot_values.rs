//! A real snapshot with its values changed, sealed again with a matching checksum, so the
//! envelope lets it through and restore's own checks are what stand: any bytes choose up to
//! eight edits of the state (a leaf set to a number, text, another leaf's value, null or a
//! flag; a key or an item removed; an item doubled). Restored or refused with a typed error,
//! never a panic or a hang; a book it gives keeps every invariant, takes events, and saves and
//! restores again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pointbook::{Book, Program};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// The example history, with a held redemption and a pending purchase left open at its end,
/// so lots, holds, redemptions, purchase records and tiers are all in the state.
const HISTORY: &str = include_str!("../../examples/events/bean-and-leaf.jsonl");
const OPEN: &[&str] = &[
    r#"{"type":"purchase","id":"q1","member":"m1","at":"2027-07-02T09:00:00Z","lines":[{"sku":"BEANS","category":"coffee","amount":"40.00"}]}"#,
    r#"{"type":"redeem","id":"q2","member":"m1","at":"2027-07-02T09:30:00Z","reward":"free-drink","hold":true}"#,
];
/// What the restored book is asked to do next: each kind of event that reads the state.
const NEXT: &[&str] = &[
    r#"{"type":"confirm","id":"n1","member":"m1","at":"2027-07-02T10:00:00Z","redemption":"q2"}"#,
    r#"{"type":"refund","id":"n2","member":"m1","at":"2027-07-02T11:00:00Z","purchase":"q1","lines":[{"sku":"BEANS","amount":"40.00"}]}"#,
    r#"{"type":"purchase","id":"n3","member":"m1","at":"2027-07-03T10:00:00Z","lines":[{"sku":"LATTE","category":"coffee","amount":"4.75"}]}"#,
    r#"{"type":"redeem","id":"n4","member":"m1","at":"2027-07-03T11:00:00Z","reward":"free-drink"}"#,
    r#"{"type":"purchase","id":"p3","member":"m1","at":"2026-06-01T15:00:00Z","lines":[{"sku":"BEANS","category":"coffee","amount":"80.00"}]}"#,
    r#"{"type":"advance","id":"n5","at":"2029-01-01T00:00:00Z"}"#,
];

struct Base {
    program: Program,
    outer: Value,
}

fn base() -> &'static Option<Base> {
    static BASE: OnceLock<Option<Base>> = OnceLock::new();
    BASE.get_or_init(|| {
        let program = Program::from_toml(pointbook::samples::BEAN_AND_LEAF).ok()?;
        let mut book = Book::new(program.clone());
        for line in HISTORY.lines().chain(OPEN.iter().copied()) {
            let _ = book.apply_json(line);
        }
        let outer = serde_json::from_slice(&book.snapshot().ok()?).ok()?;
        Some(Base { program, outer })
    })
}

/// Every path to a value in `v` (containers included, so whole entries can go).
fn paths(v: &Value, at: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    out.push(at.clone());
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                at.push(Value::from(k.as_str()));
                paths(x, at, out);
                at.pop();
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                at.push(Value::from(i));
                paths(x, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn at_mut<'a>(v: &'a mut Value, path: &[Value]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, step| match step {
        Value::String(k) => v.get_mut(k.as_str()),
        Value::Number(i) => v.get_mut(usize::try_from(i.as_u64()?).ok()?),
        _ => None,
    })
}

/// One edit at `path`: `op` says which, `arg` and `text` give the new value.
fn edit(state: &mut Value, path: &[Value], op: u8, arg: u8, text: &str, other: &Value) {
    let Some((last, parent_path)) = path.split_last() else {
        return;
    };
    match op % 8 {
        // Remove the entry, or double it where it is an array's item.
        0 | 1 => {
            let Some(parent) = at_mut(state, parent_path) else {
                return;
            };
            match (parent, last) {
                (Value::Object(map), Value::String(k)) => {
                    map.remove(k);
                }
                (Value::Array(items), Value::Number(i)) => {
                    let i = i.as_u64().and_then(|i| usize::try_from(i).ok());
                    if let Some(i) = i.filter(|i| *i < items.len()) {
                        if op % 8 == 0 {
                            items.remove(i);
                        } else {
                            items.insert(i, items[i].clone());
                        }
                    }
                }
                _ => {}
            }
        }
        op => {
            let Some(value) = at_mut(state, path) else {
                return;
            };
            *value = match op {
                2 => {
                    let x = value.as_i64().unwrap_or(0);
                    let d = i64::from(arg as i8);
                    Value::from(match arg % 4 {
                        0 => x.wrapping_add(d),
                        1 => x.wrapping_mul(d),
                        2 => [i64::MAX, i64::MIN, -1, 0, 1 << 53][usize::from(arg / 4 % 5)],
                        _ => d,
                    })
                }
                3 => Value::from(text),
                4 => match value.as_str() {
                    // An instant moved to another year, the rest kept.
                    Some(t) if t.len() > 4 && t.is_char_boundary(4) => {
                        let year = [1899, 1900, 1901, 1970, 9998, 9999, 10000, 262142]
                            [usize::from(arg % 8)];
                        Value::from(format!("{year:04}{}", &t[4..]))
                    }
                    _ => Value::from(format!("{text}{}", value)),
                },
                5 => other.clone(),
                6 => Value::Null,
                _ => Value::from(arg % 2 == 0),
            };
        }
    }
}

/// The snapshot with `state` in it, sealed with the checksum of its text.
fn sealed(outer: &Value, state: &Value) -> Vec<u8> {
    let text = state.to_string();
    let sum: String = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{{\"format\":{},\"version\":{},\"program\":{},\"checksum\":\"{sum}\",\"state\":{text}}}",
        outer["format"], outer["version"], outer["program"]
    )
    .into_bytes()
}

fuzz_target!(|data: &[u8]| {
    let Some(base) = base() else {
        panic!("the base snapshot is built");
    };
    let mut state = base.outer["state"].clone();
    // Four bytes an edit (a path chosen by two, an operation, an argument); the rest is text.
    let n = usize::from(data.first().copied().unwrap_or(0) % 8) + 1;
    let (edits, text) = data
        .get(1..)
        .unwrap_or(&[])
        .split_at((n * 4).min(data.len().saturating_sub(1)));
    let text = String::from_utf8_lossy(text);
    for e in edits.chunks_exact(4) {
        let mut all = Vec::new();
        paths(&state, &mut Vec::new(), &mut all);
        let path = all[usize::from(u16::from_le_bytes([e[0], e[1]])) % all.len()].clone();
        let other_path = &all[usize::from(e[3]) * 7 % all.len()];
        let other = at_mut(&mut state, other_path)
            .cloned()
            .unwrap_or(Value::Null);
        edit(&mut state, &path, e[2], e[3], &text, &other);
    }
    let Ok(mut book) = Book::restore(&base.program, &sealed(&base.outer, &state)) else {
        return;
    };
    assert_eq!(book.verify(), Ok(()));
    for line in NEXT {
        let _ = book.apply_json(line);
        assert_eq!(book.verify(), Ok(()), "after {line}");
        let _ = book.balances();
    }
    let saved = book.snapshot().expect("a restored book saves");
    assert!(
        Book::restore(&base.program, &saved).is_ok(),
        "a saved book restores"
    );
});

//! Golden files: what the engine answers for a generated history of every example program,
//! byte for byte. They hold behaviour still while the core's insides change: every outcome
//! (duplicates, conflicts and rejections included), quotes and progress, balances, totals,
//! the digest, the snapshot and the analytics JSON.
//!
//! A change that means to move these bytes regenerates them once, in a commit of its own that
//! says which bytes changed and why:
//!
//! ```sh
//! POINTBOOK_BLESS=1 cargo test -p pointbook-synth --test golden
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pointbook::analytics::{self, Options};
use pointbook::calendar::Period;
use pointbook::event::Purchase;
use pointbook::{Book, Event, Program};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const PROGRAMS: [&str; 4] = [
    "bean-and-leaf",
    "bean-and-leaf-gold-250",
    "northwind-retail",
    "corner-cafe-punch-card",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn program(name: &str) -> Program {
    let path = root().join(format!("examples/programs/{name}.toml"));
    Program::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The generated history, with resends woven in: every 37th event is sent again a few
/// events later (a duplicate), every 53rd is sent again changed (an id conflict); every 41st
/// purchase comes again under a new id 2 or 30 days late (accepted, or rejected as late), and
/// every 59th with an amount finer than the currency (rejected).
fn history(program: &Program) -> Vec<Event> {
    let config = pointbook_synth::Config {
        members: 150,
        events: 3_000,
        seed: 11,
        ..Default::default()
    };
    let events = pointbook_synth::generate(program, &config);
    let mut out = Vec::with_capacity(events.len() + events.len() / 20);
    for (i, e) in events.iter().enumerate() {
        out.push(e.clone());
        if i % 37 == 36 {
            out.push(events[i - 3].clone());
        }
        if i % 53 == 52 {
            if let Event::Purchase(p) = &events[i - 5] {
                let mut changed = p.clone();
                changed.lines.truncate(1);
                changed.lines[0].amount += rust_decimal::Decimal::ONE;
                out.push(Event::Purchase(changed));
            }
        }
        if let Event::Purchase(p) = e {
            if i % 41 == 40 {
                let mut late = p.clone();
                late.id = pointbook::EventId::new(format!("{}-late", p.id));
                late.at -= chrono::Duration::days(if i % 2 == 0 { 2 } else { 30 });
                out.push(Event::Purchase(late));
            }
            if i % 59 == 58 {
                let mut bad = p.clone();
                bad.id = pointbook::EventId::new(format!("{}-bad", p.id));
                bad.lines[0].amount = rust_decimal::Decimal::new(4755, 3);
                out.push(Event::Purchase(bad));
            }
        }
    }
    out
}

fn result_line<T: serde::Serialize>(r: &pointbook::Result<T>) -> String {
    match r {
        Ok(x) => serde_json::to_string(x).unwrap(),
        Err(e) => {
            serde_json::json!({"error": {"code": e.code(), "message": e.to_string()}}).to_string()
        }
    }
}

/// Everything the golden files hold for one program, as (file name, contents).
fn answers(name: &str) -> Vec<(String, String)> {
    let program = program(name);
    let events = history(&program);
    let mut book = Book::new(program.clone());
    let mut outcomes = String::new();
    let half = events.len() / 2;
    for (i, e) in events.iter().enumerate() {
        if i == half {
            // A book restored from its snapshot goes on exactly as the original would.
            let restored = Book::restore(&program, &book.snapshot().unwrap()).unwrap();
            assert_eq!(restored.digest().unwrap(), book.digest().unwrap());
            book = restored;
        }
        writeln!(outcomes, "{}", result_line(&book.apply(e))).unwrap();
    }
    book.verify().unwrap();
    let clock = book.clock().unwrap();
    let members: Vec<_> = book.member_ids().into_iter().take(25).cloned().collect();
    let mut reads = String::new();
    for (i, m) in members.iter().enumerate() {
        writeln!(reads, "{}", result_line(&book.balance(m))).unwrap();
        writeln!(reads, "{}", result_line(&book.progress(m, clock))).unwrap();
        let quote = Purchase::from_json(&format!(
            r#"{{"id":"golden-q{i}","member":"{m}","at":"{}","lines":[
                {{"sku":"LATTE","category":"coffee","amount":"4.75"}},
                {{"sku":"CROISSANT","category":"pastry","amount":"3.50","quantity":2}}]}}"#,
            clock.to_rfc3339()
        ))
        .unwrap();
        writeln!(reads, "{}", result_line(&book.quote(&quote))).unwrap();
    }
    let snapshot = book.snapshot().unwrap();
    let state = format!(
        "digest {}\nsnapshot sha256 {}\nsnapshot bytes {}\ntotals {}\nmembers {}\n",
        book.digest().unwrap(),
        hex(&Sha256::digest(&snapshot)),
        snapshot.len(),
        serde_json::to_string(&book.totals()).unwrap(),
        book.member_count(),
    );
    let mut balances = String::new();
    for b in book.balances() {
        writeln!(balances, "{}", serde_json::to_string(&b).unwrap()).unwrap();
    }
    let mut out = vec![
        ("outcomes.jsonl".to_owned(), outcomes),
        ("reads.jsonl".to_owned(), reads),
        ("state.txt".to_owned(), state),
        ("balances.jsonl".to_owned(), balances),
    ];
    for period in [Period::Month, Period::Quarter] {
        let options = Options {
            period,
            ..Default::default()
        };
        let analysis = analytics::analyze(program.clone(), &events, options).unwrap();
        let file = format!("analysis-{}.json", period_name(period));
        out.push((
            file,
            serde_json::to_string_pretty(&analysis).unwrap() + "\n",
        ));
    }
    out
}

fn period_name(p: Period) -> &'static str {
    match p {
        Period::Quarter => "quarter",
        _ => "month",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The first line where two texts differ, for a readable failure.
fn first_difference(want: &str, got: &str) -> String {
    for (n, (w, g)) in want.lines().zip(got.lines()).enumerate() {
        if w != g {
            return format!("line {}:\n  want {w}\n  got  {g}", n + 1);
        }
    }
    format!(
        "one is a prefix of the other ({} vs {} lines)",
        want.lines().count(),
        got.lines().count()
    )
}

fn check(name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    let bless = std::env::var_os("POINTBOOK_BLESS").is_some();
    let mut wrong = Vec::new();
    for (file, got) in answers(name) {
        let path = dir.join(&file);
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (POINTBOOK_BLESS=1 writes it)", path.display()));
        if want != got {
            wrong.push(format!("{name}/{file}: {}", first_difference(&want, &got)));
        }
    }
    assert!(
        wrong.is_empty(),
        "golden files differ:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn golden_bean_and_leaf() {
    check(PROGRAMS[0]);
}

#[test]
fn golden_bean_and_leaf_gold_250() {
    check(PROGRAMS[1]);
}

#[test]
fn golden_northwind_retail() {
    check(PROGRAMS[2]);
}

#[test]
fn golden_corner_cafe_punch_card() {
    check(PROGRAMS[3]);
}

//! The limit of a JSON Lines replay, to time `pointbook balances` against: read the file,
//! parse each line with serde_json into borrowed fields, and fold purchase amounts per member.
//! Nothing a loyalty engine does (no idempotency, lots, tiers or undo), so the ratio of the
//! CLI's time to this one's is the price of the engine.
//!
//! ```sh
//! cargo build --release -p pointbook-benches --example limit_jsonl
//! target/release/examples/limit_jsonl EVENTS.jsonl
//! ```

use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    amount: &'a str,
}

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    #[serde(borrow)]
    member: Option<&'a str>,
    #[serde(borrow, default)]
    lines: Vec<Line<'a>>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: limit_jsonl EVENTS.jsonl")?;
    let reader = BufReader::with_capacity(1 << 20, std::fs::File::open(&path)?);
    let mut spend: HashMap<String, Decimal> = HashMap::new();
    let mut events = 0u64;
    for line in reader.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        events += 1;
        let Ok(e) = serde_json::from_str::<Event>(&line) else {
            continue;
        };
        if let ("purchase", Some(member)) = (e.kind, e.member) {
            let total: Decimal = e
                .lines
                .iter()
                .filter_map(|l| l.amount.parse::<Decimal>().ok())
                .sum();
            match spend.get_mut(member) {
                Some(s) => *s += total,
                None => {
                    spend.insert(member.to_owned(), total);
                }
            }
        }
    }
    let total: Decimal = spend.values().sum();
    println!("{events} events, {} members, spend {total}", spend.len());
    Ok(())
}

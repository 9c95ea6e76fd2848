//! Workloads shared by the benchmarks: a synthetic history split into enrollments and
//! purchases, and the limit fold that no real engine can beat.

use pointbook::event::Purchase;
use pointbook::{Event, Program};
use rust_decimal::Decimal;
use std::collections::HashMap;

/// A size from the environment variable `name`, or `default` when unset or not a number.
pub fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A history for the benchmarks.
pub struct Workload {
    /// The program (Bean & Leaf).
    pub program: Program,
    /// Enrollments, applied before timing purchases.
    pub enrollments: Vec<Event>,
    /// Purchases only, in time order.
    pub purchases: Vec<Event>,
    /// The whole history as JSON Lines (enrollments, purchases, refunds, redemptions, ...).
    pub jsonl: String,
    /// Events in `jsonl`.
    pub events: usize,
}

/// Builds a workload of about `events` events over `members` members.
pub fn workload(members: usize, events: usize, seed: u64) -> Workload {
    let program = Program::from_toml(pointbook::samples::BEAN_AND_LEAF).unwrap_or_else(|e| {
        panic!("the bundled program loads: {e}");
    });
    let config = pointbook_synth::Config {
        members,
        events,
        seed,
        ..Default::default()
    };
    let history = pointbook_synth::generate(&program, &config);
    let jsonl = pointbook_synth::to_jsonl(&history);
    let n = history.len();
    let (enrollments, rest): (Vec<Event>, Vec<Event>) = history
        .into_iter()
        .partition(|e| matches!(e, Event::Enroll(_)));
    let purchases = rest
        .into_iter()
        .filter(|e| matches!(e, Event::Purchase(_)))
        .collect();
    Workload {
        program,
        enrollments,
        purchases,
        jsonl,
        events: n,
    }
}

/// The limit: a hash map of member to points, `+= floor(amount)` per line. No rules, tiers,
/// lots, time, idempotency or explanation: the ceiling of any engine on this machine.
pub fn limit_fold(purchases: &[Event]) -> HashMap<&str, i64> {
    let mut points: HashMap<&str, i64> = HashMap::new();
    for e in purchases {
        if let Event::Purchase(Purchase { member, lines, .. }) = e {
            let total: i64 = lines
                .iter()
                .map(|l| {
                    let floor = l.amount.floor();
                    i64::try_from(floor.mantissa() / 10i128.pow(floor.scale())).unwrap_or(0)
                })
                .sum();
            *points.entry(member.as_str()).or_default() += total;
        }
    }
    points
}

/// Sums a Decimal column, to keep the optimiser from removing work.
pub fn checksum(points: &HashMap<&str, i64>) -> i64 {
    points.values().sum::<i64>() + Decimal::ZERO.mantissa() as i64
}

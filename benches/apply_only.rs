//! `cargo bench -p pointbook-benches --bench apply_only`: only the core-apply workload of the
//! throughput bench (typed purchases through `Book::apply` on an enrolled book), for profilers
//! and instruction counts, which the noisy host does not disturb as it does wall time:
//!
//! ```text
//! PB_APPLY_ROUNDS=0 perf stat -e instructions:u target/release/deps/apply_only-* --bench
//! PB_APPLY_ROUNDS=3 perf stat -e instructions:u target/release/deps/apply_only-* --bench
//! ```
//!
//! The difference of the two counts, divided by rounds × purchases, is instructions per
//! purchase applied. Sizes: `PB_BENCH_MEMBERS` (default 20000), `PB_BENCH_EVENTS` (200000).
//! It uses the system allocator, so that counts stay comparable across this file's history.

use pointbook::Book;
use pointbook_benches::{env, workload};
use std::hint::black_box;

fn main() {
    let w = workload(
        env("PB_BENCH_MEMBERS", 20_000),
        env("PB_BENCH_EVENTS", 200_000),
        7,
    );
    let mut enrolled = Book::new(w.program.clone());
    for e in &w.enrollments {
        let _ = enrolled.apply(e);
    }
    let rounds = env("PB_APPLY_ROUNDS", 3);
    let started = std::time::Instant::now();
    for _ in 0..rounds {
        let mut book = enrolled.clone();
        for e in &w.purchases {
            let _ = black_box(book.apply(e));
        }
        black_box(book.member_count());
    }
    let n = rounds * w.purchases.len();
    println!(
        "{} purchases applied in {:.2?} ({:.0}/s)",
        n,
        started.elapsed(),
        n as f64 / started.elapsed().as_secs_f64().max(1e-9)
    );
}

//! `cargo bench -p pointbook-benches --bench store_latency`: what durability costs a till per
//! sale. A store (`pointbook-store`) holding a replayed history takes purchases one at a time,
//! each applied and committed alone, at `synchronous = FULL` and at `NORMAL`; the limit is the
//! same purchases applied to the same book in memory, in the same run. Prints p50 and p99.
//! Sizes: `PB_BENCH_MEMBERS` (default 2000), `PB_BENCH_EVENTS` (40000), `PB_STORE_SALES`
//! (2000 timed sales).

use pointbook::Event;
use pointbook_benches::{env, workload};
use pointbook_store::{Durability, Options, Store};
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// A store at `path` holding the enrollments and the purchases before `split`.
fn prepared(
    path: &std::path::Path,
    w: &pointbook_benches::Workload,
    split: usize,
    durability: Durability,
) -> Store {
    for suffix in ["", "-wal", "-shm", "-writer"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let options = Options {
        durability,
        ..Options::default()
    };
    let mut store = Store::open(path, w.program.clone(), options)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let before: Vec<Event> = w
        .enrollments
        .iter()
        .chain(&w.purchases[..split])
        .cloned()
        .collect();
    for chunk in before.chunks(1000) {
        store
            .apply_batch(chunk)
            .unwrap_or_else(|e| panic!("prepare: {e}"));
    }
    store
}

fn main() {
    let w = workload(
        env("PB_BENCH_MEMBERS", 2_000),
        env("PB_BENCH_EVENTS", 40_000),
        7,
    );
    let sales = env("PB_STORE_SALES", 2_000).min(w.purchases.len() / 2);
    let split = w.purchases.len() - sales;
    let path = std::env::temp_dir().join(format!(
        "pointbook-latency-{}.pointbook",
        std::process::id()
    ));
    println!(
        "workload: {} members, {} purchases in the store, {sales} timed sales",
        w.enrollments.len(),
        split
    );
    println!();
    println!("| one sale (apply, and commit alone) | p50 | p99 | p50 / memory |");
    println!("|---|---:|---:|---:|");
    let mut memory_p50 = None;
    for (name, durability) in [
        ("in memory (`Book::apply`, the limit)", None),
        (
            "store, `synchronous = FULL` (default)",
            Some(Durability::Full),
        ),
        ("store, `synchronous = NORMAL`", Some(Durability::Normal)),
    ] {
        let mut store = prepared(&path, &w, split, durability.unwrap_or_default());
        let mut book = store.book().clone();
        let mut times = Vec::with_capacity(sales);
        for e in &w.purchases[split..] {
            let started = Instant::now();
            let ok = match durability {
                None => book.apply(e).is_ok(),
                Some(_) => store.apply(e).is_ok(),
            };
            times.push(started.elapsed());
            std::hint::black_box(ok);
        }
        times.sort();
        let (p50, p99) = (percentile(&times, 0.5), percentile(&times, 0.99));
        let base = *memory_p50.get_or_insert(p50);
        println!(
            "| {name} | {:.1} µs | {:.1} µs | {:.0}× |",
            micros(p50),
            micros(p99),
            p50.as_secs_f64() / base.as_secs_f64().max(1e-12)
        );
    }
    for suffix in ["", "-wal", "-shm", "-writer"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

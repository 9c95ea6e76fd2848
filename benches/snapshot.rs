//! `cargo bench -p pointbook-benches --bench snapshot`: what a snapshot of a replayed book
//! costs, in its parts: the state written as JSON and hashed (`Book::digest`), the whole
//! snapshot (`Book::snapshot`: the same plus its envelope), reading it back (`Book::restore`)
//! and a store's checkpoint of it (written to SQLite, `synchronous = FULL`). Prints the best of
//! three of each and the snapshot's size.
//! Sizes: `PB_BENCH_MEMBERS` (default 100000), `PB_BENCH_EVENTS` (1000000).

use pointbook::{Book, Event};
use pointbook_benches::{env, workload};
use pointbook_store::{Options, Store};
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn best<T>(rounds: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut fastest = Duration::MAX;
    let mut last = None;
    for _ in 0..rounds {
        let t = Instant::now();
        let r = f();
        fastest = fastest.min(t.elapsed());
        last = Some(r);
    }
    match last {
        Some(r) => (fastest, r),
        None => panic!("at least one round"),
    }
}

fn main() {
    let members = env("PB_BENCH_MEMBERS", 100_000);
    let events = env("PB_BENCH_EVENTS", 1_000_000);
    eprintln!("generating {events} events for {members} members...");
    let w = workload(members, events, 7);
    let mut book = Book::new(w.program.clone());
    for line in w.jsonl.lines() {
        if let Ok(e) = Event::from_json(line) {
            let _ = book.apply(&e);
        }
    }
    println!("book: {} members, {} events", book.member_count(), w.events);
    let (digest, _) = best(3, || {
        book.digest().unwrap_or_else(|e| panic!("digest: {e}"))
    });
    let (snapshot, bytes) = best(3, || {
        book.snapshot().unwrap_or_else(|e| panic!("snapshot: {e}"))
    });
    let (restore, _) = best(3, || {
        Book::restore(&w.program, &bytes).unwrap_or_else(|e| panic!("restore: {e}"))
    });
    let dir = std::env::temp_dir().join(format!("pb-bench-snapshot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let path = dir.join("bench.pointbook");
    let options = Options {
        snapshot_every: 0,
        ..Options::default()
    };
    let mut store = Store::open(&path, w.program.clone(), options)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let all: Vec<Event> = w
        .jsonl
        .lines()
        .filter_map(|l| Event::from_json(l).ok())
        .collect();
    for chunk in all.chunks(10_000) {
        store
            .apply_batch(chunk)
            .unwrap_or_else(|e| panic!("ingest: {e}"));
    }
    // One checkpoint: a second would find the newest snapshot already covers the journal.
    let t = Instant::now();
    store
        .checkpoint()
        .unwrap_or_else(|e| panic!("checkpoint: {e}"));
    let checkpoint = t.elapsed();
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    let mib = bytes.len() as f64 / (1 << 20) as f64;
    println!("snapshot: {mib:.0} MiB");
    for (what, d) in [
        ("digest (state as JSON, SHA-256)", digest),
        ("snapshot (Book::snapshot)", snapshot),
        ("restore (Book::restore)", restore),
        ("store checkpoint (snapshot + SQLite, one)", checkpoint),
    ] {
        println!("{what:<44} {:>8.2} s", d.as_secs_f64());
    }
}

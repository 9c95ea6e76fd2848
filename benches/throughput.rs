//! `cargo bench -p pointbook-benches` — every workload measured in the same run, each reported
//! as events per second and as a ratio to the limit fold of that run.
//!
//! Sizes: `PB_BENCH_MEMBERS` (default 100000) and `PB_BENCH_EVENTS` (default 1000000).
//! Allocator: mimalloc, as the `pointbook` CLI and the Python module use;
//! `--features system-alloc` measures with the system allocator (as the C library uses).
// The counting allocator below is the only unsafe code: it forwards to the real allocator.
#![allow(unsafe_code)]

use pointbook::event::Purchase;
use pointbook::{Book, Event};
use pointbook_benches::{checksum, env, limit_fold, workload};
use std::alloc::{GlobalAlloc, Layout};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The system allocator, counting live heap bytes: a book's memory is the growth of the count
/// while it is built (peak RSS also holds the workload and the other books of the run).
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { ALLOC.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { ALLOC.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { ALLOC.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The allocator underneath the count: mimalloc, as the CLI and the Python module use, or the
/// system's with `--features system-alloc`.
#[cfg(not(feature = "system-alloc"))]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;
#[cfg(feature = "system-alloc")]
static ALLOC: std::alloc::System = std::alloc::System;

/// Best of `runs` timings of `f`.
fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// Peak resident set size of this process (Linux: VmHWM), in bytes; 0 where unknown.
fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-12)
}

/// Replays JSON Lines one event at a time into a new book: its member count.
fn replay_lines(program: &pointbook::Program, jsonl: &str) -> usize {
    let mut book = Book::new(program.clone());
    for line in jsonl.lines() {
        let _ = book.apply_json(line);
    }
    book.member_count()
}

fn main() {
    let members = env("PB_BENCH_MEMBERS", 100_000);
    let events = env("PB_BENCH_EVENTS", 1_000_000);
    eprintln!("generating {events} events for {members} members...");
    let w = workload(members, events, 7);
    let n = w.purchases.len();
    println!(
        "workload: {} members, {} events ({} purchases)",
        members, w.events, n
    );

    let limit = best(5, || checksum(&limit_fold(&w.purchases)));
    let limit_rate = rate(n, limit);

    let mut enrolled = Book::new(w.program.clone());
    for e in &w.enrollments {
        let _ = enrolled.apply(e);
    }
    let core = best(2, || {
        let mut book = enrolled.clone();
        for e in &w.purchases {
            let _ = book.apply(e);
        }
        book.member_count()
    });
    let core_rate = rate(n, core);

    let replay = best(2, || replay_lines(&w.program, &w.jsonl));
    let replay_rate = rate(w.events, replay);

    // The same JSON Lines on every core: parse in parallel, replay by member groups.
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let par = best(2, || {
        let parsed = pointbook::feed::events(w.jsonl.as_bytes(), threads);
        let events: Vec<Event> = parsed.into_iter().filter_map(|(_, e)| e.ok()).collect();
        pointbook::parallel::replay(&w.program, &events, threads)
            .book
            .member_count()
    });
    let par_rate = rate(w.events, par);

    // Quote latency: a basket for members of a book that has replayed the whole history.
    let before = LIVE.load(Ordering::Relaxed);
    let mut full = Book::new(w.program.clone());
    for line in w.jsonl.lines() {
        let _ = full.apply_json(line);
    }
    let book_bytes = LIVE.load(Ordering::Relaxed).saturating_sub(before);
    let open_lots: usize = full.balances().iter().map(|b| b.lots.len()).sum();
    let quotes: Vec<Purchase> = w
        .purchases
        .iter()
        .rev()
        .take(20_000)
        .filter_map(|e| match e {
            Event::Purchase(p) => Some(Purchase {
                at: full.clock().unwrap_or(p.at),
                ..p.clone()
            }),
            _ => None,
        })
        .collect();
    let mut samples: Vec<Duration> = quotes
        .iter()
        .map(|q| {
            let t = Instant::now();
            let _ = black_box(full.quote(q));
            t.elapsed()
        })
        .collect();
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p) as usize];

    println!();
    println!("| benchmark | events/s | ratio to limit |");
    println!("|---|---:|---:|");
    println!(
        "| limit fold (hash map += floor(amount)) | {:.0} | 1.00 |",
        limit_rate
    );
    println!(
        "| core apply, typed purchases, full program | {:.0} | {:.1}x slower |",
        core_rate,
        limit_rate / core_rate
    );
    println!(
        "| replay from JSON Lines (parse + apply, all event types) | {:.0} | {:.1}x slower |",
        replay_rate,
        limit_rate / replay_rate
    );
    println!(
        "| replay from JSON Lines on {threads} threads (parallel parse + member groups) | {:.0} | {:.1}x slower |",
        par_rate,
        limit_rate / par_rate
    );
    let rss = peak_rss_bytes();
    println!();
    println!(
        "peak RSS {:.0} MiB for a book of {} members and {} events (idempotency store included): {:.0} bytes per member",
        rss as f64 / (1 << 20) as f64,
        members,
        w.events,
        rss as f64 / members.max(1) as f64
    );
    println!(
        "book heap after the replay: {:.0} MiB = {:.0} bytes per member, {:.0} bytes per event \
         applied ({} open lots)",
        book_bytes as f64 / (1 << 20) as f64,
        book_bytes as f64 / members.max(1) as f64,
        book_bytes as f64 / w.events.max(1) as f64,
        open_lots
    );
    println!();
    println!(
        "| quote latency (Rust, {} baskets) | p50 | p99 |",
        samples.len()
    );
    println!("|---|---:|---:|");
    println!(
        "| Book::quote | {:.1} µs | {:.1} µs |",
        pct(0.50).as_secs_f64() * 1e6,
        pct(0.99).as_secs_f64() * 1e6
    );

    // One busy member (a corporate card, a family account): a history of the same size, all
    // its own. Its events must not cost more as its history grows (issue 18: within 2x of the
    // events/s of the many-member replay above, measured in this run).
    drop(full);
    eprintln!("generating {events} events for one member...");
    let busy = workload(1, events, 7);
    let busy_time = best(1, || replay_lines(&busy.program, &busy.jsonl));
    let busy_rate = rate(busy.events, busy_time);
    println!();
    println!("| busy member | events/s | ratio to the {members}-member replay |");
    println!("|---|---:|---:|");
    println!(
        "| replay from JSON Lines, 1 member, {} events | {:.0} | {:.2}x its events/s |",
        busy.events,
        busy_rate,
        busy_rate / replay_rate
    );
}

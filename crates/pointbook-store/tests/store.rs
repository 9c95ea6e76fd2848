//! The store's faults, in one process: what a restart, a second writer, a full disk, a damaged
//! snapshot, a foreign file and random crash points do. (`kill -9` of a real process is in the
//! CLI's tests, `crates/pointbook-cli/tests/store_kill.rs`.)

use pointbook::{Book, Event, Program};
use pointbook_store::{read, Options, Store, StoreError};
use pointbook_synth::{generate, Config};
use std::path::{Path, PathBuf};

fn program() -> Program {
    match Program::from_toml(pointbook::samples::BEAN_AND_LEAF) {
        Ok(p) => p,
        Err(e) => panic!("the sample program reads: {e}"),
    }
}

fn history(members: usize, events: usize, seed: u64) -> Vec<Event> {
    let config = Config {
        members,
        events,
        seed,
        ..Config::default()
    };
    generate(&program(), &config)
}

fn digest(book: &Book) -> String {
    book.digest().unwrap_or_else(|e| panic!("digest: {e}"))
}

/// The book a straight in-memory replay builds.
fn in_memory(events: &[Event]) -> Book {
    let mut book = Book::new(program());
    for e in events {
        let _ = book.apply(e);
    }
    book
}

fn open(path: &Path, options: Options) -> Store {
    Store::open(path, program(), options).unwrap_or_else(|e| panic!("open: {e}"))
}

fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("book.pointbook");
    (dir, path)
}

/// Snapshots every 300 events, each written in parts of 4 KiB.
fn small_snapshots() -> Options {
    Options {
        snapshot_every: 300,
        snapshot_part: 4096,
        ..Options::default()
    }
}

#[test]
fn a_reopened_store_is_the_book_it_journalled_and_knows_every_resend() {
    let events = history(50, 2_000, 3);
    let (_dir, path) = temp();
    for chunk in events.chunks(250) {
        let mut store = open(&path, small_snapshots());
        store
            .apply_batch(chunk)
            .unwrap_or_else(|e| panic!("apply: {e}"));
    }
    let mut store = open(&path, small_snapshots());
    assert!(store.recovery().snapshot_seq > 0, "a snapshot was used");
    assert_eq!(digest(store.book()), digest(&in_memory(&events)));
    let seq = store.journal_seq();
    let again = store
        .apply_batch(&events)
        .unwrap_or_else(|e| panic!("resend: {e}"));
    assert!(again
        .iter()
        .all(|r| r.as_ref().map_or(true, |o| o.duplicate)));
    assert_eq!(store.journal_seq(), seq, "a resend journals nothing");
    let (book, _) = read(&path).unwrap_or_else(|e| panic!("read: {e}"));
    assert_eq!(digest(&book), digest(&in_memory(&events)));
}

#[test]
fn rejected_events_and_unreadable_lines_are_kept_for_the_operator_once() {
    let (_dir, path) = temp();
    let mut store = open(&path, Options::default());
    let lines = [
        r#"{"type":"enroll","id":"e1","member":"m1","at":"2026-03-01T10:00:00Z"}"#,
        r#"{"type":"purchase","id":"p1","member":"ghost","at":"2026-03-01T11:00:00Z","lines":[{"sku":"A","category":"coffee","amount":"4.50"}]}"#,
        "{not json",
    ];
    for _ in 0..2 {
        let results = store
            .apply_lines(&lines)
            .unwrap_or_else(|e| panic!("apply: {e}"));
        let codes: Vec<&str> = results
            .iter()
            .map(|r| r.as_ref().map_or_else(|e| e.code(), |_| "ok"))
            .collect();
        assert_eq!(codes, ["ok", "unknown_member", "invalid_event"]);
    }
    drop(store);
    let conn = rusqlite_count(&path);
    assert_eq!(conn, (1, 2), "one journal entry, two rejections kept once");
}

/// (journal entries, rejected rows), read with a plain SQLite connection.
fn rusqlite_count(path: &Path) -> (i64, i64) {
    let conn = rusqlite::Connection::open(path).unwrap_or_else(|e| panic!("sqlite: {e}"));
    let count = |table: &str| -> i64 {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("count: {e}"))
    };
    (count("journal"), count("rejected"))
}

#[test]
fn a_second_writer_is_refused_at_once_and_may_wait_for_the_first() {
    let (_dir, path) = temp();
    let first = open(&path, Options::default());
    match Store::open(&path, program(), Options::default()) {
        Err(StoreError::Locked { .. }) => {}
        other => panic!("expected locked, got {:?}", other.err()),
    }
    // A reader is never refused.
    assert!(read(&path).is_ok());
    let holder = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(200));
        drop(first);
    });
    let waiting = Options {
        wait: std::time::Duration::from_secs(10),
        ..Options::default()
    };
    assert!(Store::open(&path, program(), waiting).is_ok());
    assert!(holder.join().is_ok());
}

#[test]
fn another_program_a_foreign_file_and_a_missing_one_are_typed_errors() {
    let (dir, path) = temp();
    drop(open(&path, Options::default()));
    let other = Program::from_toml(include_str!(
        "../../../examples/programs/northwind-retail.toml"
    ))
    .unwrap_or_else(|e| panic!("northwind: {e}"));
    assert!(matches!(
        Store::open(&path, other, Options::default()),
        Err(StoreError::ProgramMismatch { .. })
    ));
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "these are not the droids".repeat(200))
        .unwrap_or_else(|e| panic!("write: {e}"));
    for result in [
        Store::open(&text, program(), Options::default()).err(),
        read(&text).err(),
    ] {
        assert!(
            matches!(result, Some(StoreError::NotAStore { .. })),
            "{result:?}"
        );
    }
    let foreign = dir.path().join("foreign.db");
    {
        let conn = rusqlite::Connection::open(&foreign).unwrap_or_else(|e| panic!("{e}"));
        conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap_or_else(|e| panic!("{e}"));
    }
    assert!(matches!(
        Store::open(&foreign, program(), Options::default()),
        Err(StoreError::NotAStore { .. })
    ));
    assert!(matches!(
        read(dir.path().join("missing.pointbook")),
        Err(StoreError::NotAStore { .. })
    ));
}

#[test]
fn a_full_disk_changes_nothing_and_the_store_works_again_with_room() {
    let events = history(100, 3_000, 5);
    let (_dir, path) = temp();
    let mut store = open(
        &path,
        Options {
            max_pages: Some(40),
            snapshot_every: 0,
            ..Options::default()
        },
    );
    let mut applied = 0;
    let mut full = None;
    for chunk in events.chunks(100) {
        match store.apply_batch(chunk) {
            Ok(_) => applied += chunk.len(),
            Err(e) => {
                full = Some(e);
                break;
            }
        }
    }
    assert!(matches!(full, Some(StoreError::Full { .. })), "{full:?}");
    assert_eq!(
        digest(store.book()),
        digest(&in_memory(&events[..applied])),
        "the failed batch left no trace in the book"
    );
    store
        .set_max_pages(None)
        .unwrap_or_else(|e| panic!("room: {e}"));
    for chunk in events[applied..].chunks(100) {
        store
            .apply_batch(chunk)
            .unwrap_or_else(|e| panic!("apply with room: {e}"));
    }
    drop(store);
    let store = open(&path, Options::default());
    assert_eq!(digest(store.book()), digest(&in_memory(&events)));
}

#[test]
fn a_damaged_newest_snapshot_is_passed_over_for_an_older_one_and_said() {
    let events = history(50, 2_000, 7);
    let (_dir, path) = temp();
    {
        let mut store = open(&path, small_snapshots());
        for chunk in events.chunks(100) {
            store.apply_batch(chunk).unwrap_or_else(|e| panic!("{e}"));
        }
        store.checkpoint().unwrap_or_else(|e| panic!("{e}"));
    }
    let newest = {
        let conn = rusqlite::Connection::open(&path).unwrap_or_else(|e| panic!("{e}"));
        let newest: i64 = conn
            .query_row("SELECT max(seq) FROM snapshots", [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{e}"));
        // One byte changed in the middle of the snapshot's second part.
        conn.execute(
            "UPDATE snapshot_parts SET bytes = \
             CAST(substr(bytes, 1, 100) || x'21' || substr(bytes, 102) AS BLOB) \
             WHERE seq = ?1 AND part = 1",
            [newest],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        newest
    };
    let store = open(&path, small_snapshots());
    let recovery = store.recovery();
    assert_eq!(recovery.damaged.first().map(|d| d.0), Some(newest));
    assert!(recovery.snapshot_seq < newest && recovery.snapshot_seq > 0);
    assert_eq!(digest(store.book()), digest(&in_memory(&events)));
    drop(store);

    // With the journal pruned up to the older snapshot and that one damaged too, the store
    // cannot be rebuilt: a typed error, never a wrong book.
    {
        let mut store = open(&path, small_snapshots());
        assert!(store.prune().unwrap_or_else(|e| panic!("{e}")) > 0);
    }
    let conn = rusqlite::Connection::open(&path).unwrap_or_else(|e| panic!("{e}"));
    conn.execute("UPDATE snapshots SET length = length + 1", [])
        .unwrap_or_else(|e| panic!("{e}"));
    drop(conn);
    assert!(matches!(
        Store::open(&path, program(), small_snapshots()),
        Err(StoreError::Damaged { .. })
    ));
}

#[test]
fn random_crash_points_give_the_in_memory_book() {
    // A crash is the store dropped between two batches with no close of its own (it has
    // none): whatever was acknowledged is there, nothing twice. Seeds and crash points vary.
    for seed in 1..=12u64 {
        let events = history(30, 1_200, seed);
        let (_dir, path) = temp();
        let mut rng = pointbook_synth::Rng::new(seed);
        let mut at = 0;
        while at < events.len() {
            let options = Options {
                snapshot_every: 1 + rng.below(400),
                keep_snapshots: 1 + rng.below(3) as u32,
                ..Options::default()
            };
            let mut store = open(&path, options);
            assert_eq!(
                digest(store.book()),
                digest(&in_memory(&events[..at])),
                "seed {seed}: after a crash at event {at}"
            );
            for _ in 0..=rng.below(5) {
                let n = (1 + rng.below(200) as usize).min(events.len() - at);
                store
                    .apply_batch(&events[at..at + n])
                    .unwrap_or_else(|e| panic!("apply: {e}"));
                at += n;
                if rng.chance(0.1) {
                    store.prune().unwrap_or_else(|e| panic!("prune: {e}"));
                }
                if at == events.len() {
                    break;
                }
            }
        }
        let store = open(&path, Options::default());
        assert_eq!(
            digest(store.book()),
            digest(&in_memory(&events)),
            "seed {seed}"
        );
    }
}

#[test]
fn a_journal_the_program_does_not_accept_is_damage_never_a_wrong_book() {
    // A journal written under another program (or edited by hand): its entries must be
    // accepted again on open, or the store refuses to stand in for the history.
    let (_dir, path) = temp();
    {
        let mut store = open(&path, Options::default());
        store
            .apply_lines(&[
                r#"{"type":"enroll","id":"e1","member":"m1","at":"2026-03-01T10:00:00Z"}"#,
            ])
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let conn = rusqlite::Connection::open(&path).unwrap_or_else(|e| panic!("{e}"));
    conn.execute(
        "INSERT INTO journal (seq, id, event) VALUES (2, 'p1', ?1)",
        [r#"{"type":"purchase","id":"p1","member":"ghost","at":"2026-03-01T11:00:00Z","lines":[{"sku":"A","category":"coffee","amount":"4.50"}]}"#],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    drop(conn);
    for result in [
        Store::open(&path, program(), Options::default()).err(),
        read(&path).err(),
    ] {
        match result {
            Some(StoreError::Damaged { message }) => {
                assert!(message.contains("journal entry 2"), "{message}")
            }
            other => panic!("expected damage, got {other:?}"),
        }
    }
    let mut history = 0;
    assert!(pointbook_store::read_history(&path, &mut |_| history += 1).is_ok());
    assert_eq!(
        history, 2,
        "the history reads as written; the book refuses it"
    );
}

#[test]
fn the_history_of_a_store_is_its_journal_whole_or_refused() {
    let events = history(40, 1_500, 13);
    let (_dir, path) = temp();
    let mut store = open(&path, small_snapshots());
    store.apply_batch(&events).unwrap_or_else(|e| panic!("{e}"));
    let mut replayed = Book::new(program());
    let read = pointbook_store::read_history(&path, &mut |e| {
        let _ = replayed.apply(&e);
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read as i64, store.journal_seq());
    assert_eq!(digest(&replayed), digest(store.book()));
    store.checkpoint().unwrap_or_else(|e| panic!("{e}"));
    store.checkpoint().unwrap_or_else(|e| panic!("{e}"));
    assert!(store.prune().unwrap_or_else(|e| panic!("{e}")) > 0);
    assert!(matches!(
        pointbook_store::read_history(&path, &mut |_| {}),
        Err(StoreError::Damaged { .. })
    ));
}

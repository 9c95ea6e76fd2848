//! `pointbook ingest` killed with SIGKILL at 120 random moments, its WAL now and then torn at
//! a random offset, then resumed to the end: the store's book is the in-memory replay's, no
//! acknowledged event is lost (unless its WAL was torn away), none is journalled twice.
#![allow(clippy::unwrap_used)]

use pointbook::{Book, Event, Program};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const PROGRAM: &str = "examples/programs/bean-and-leaf.toml";

fn root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A small deterministic random source (xorshift), so a failure can be run again.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn ingest(db: &Path, events: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pointbook"));
    c.current_dir(root())
        .args(["ingest", "--program", PROGRAM, "--batch", "25"]);
    c.args(["--snapshot-every", "400", "--acknowledge", "--db"]);
    c.arg(db).arg("--events").arg(events);
    c
}

/// The journal's length and how many ids it holds more than once ((0, 0) in the empty file
/// a writer killed before its first commit leaves).
fn journal(db: &Path) -> (i64, i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'journal'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    if tables == 0 {
        return (0, 0);
    }
    conn.query_row(
        "SELECT count(*), count(*) - count(DISTINCT id) FROM journal",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

/// Where the part of the WAL that a checkpoint may already have copied into the file ends:
/// the tear must come after it. A checkpoint syncs the WAL before it copies frames, so a crash
/// cannot lose them; cutting them away would leave the file holding pages of transactions the
/// WAL no longer has (a disk that loses synced writes, which no store survives). The count is
/// the wal-index's `nBackfillAttempted` (frames a checkpoint has begun to copy), at byte 128
/// of `-shm`, in the machine's byte order; the page size is in the WAL's header.
fn checkpointed_end(wal: &[u8], shm: &[u8]) -> u64 {
    if wal.len() < 32 || shm.len() < 132 {
        return 0;
    }
    let page = match u32::from_be_bytes(wal[8..12].try_into().unwrap()) {
        1 => 65_536,
        n => u64::from(n),
    };
    let frames = u64::from(u32::from_ne_bytes(shm[128..132].try_into().unwrap()));
    if frames == 0 {
        0
    } else {
        (32 + frames * (24 + page)).min(wal.len() as u64)
    }
}

/// How the store's book is rebuilt; a writer killed before its first commit leaves an empty
/// file, read as a store with nothing in it.
fn read_or_empty(db: &Path, when: &str) -> pointbook_store::Recovery {
    match pointbook_store::read(db) {
        Ok((_, recovery)) => recovery,
        Err(pointbook_store::StoreError::NotAStore { message, .. })
            if message.starts_with("it is empty") =>
        {
            pointbook_store::Recovery::default()
        }
        Err(e) => panic!("{when}: {e}"),
    }
}

#[test]
fn ingest_survives_kill_9_and_torn_wal_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (events, db) = (
        dir.path().join("h.jsonl"),
        dir.path().join("till.pointbook"),
    );
    let program = Program::parse(&std::fs::read_to_string(root().join(PROGRAM)).unwrap()).unwrap();
    let config = pointbook_synth::Config {
        members: 120,
        events: 3_000,
        seed: 11,
        ..Default::default()
    };
    let history = pointbook_synth::generate(&program, &config);
    std::fs::write(&events, pointbook_synth::to_jsonl(&history)).unwrap();
    let mut memory = Book::new(program);
    let accepted = history
        .iter()
        .filter(|e: &&Event| memory.apply(e).is_ok_and(|o| !o.duplicate))
        .count() as i64;

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut kills, mut torn) = (0, 0);
    while kills < 120 {
        let mut child = ingest(&db, &events)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.below(80)));
        if child.try_wait().unwrap().is_some() {
            // It finished first: start again from an empty store.
            std::fs::remove_file(&db).unwrap();
            let _ = std::fs::remove_file(dir.path().join("till.pointbook-wal"));
            let _ = std::fs::remove_file(dir.path().join("till.pointbook-shm"));
            continue;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
        let mut said = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut said)
            .unwrap();
        let acknowledged = said
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["journal_seq"].as_i64())
            .max()
            .unwrap_or(0);
        // Now and then, a torn write: the WAL cut at a random offset past what a checkpoint
        // copied. What it held may be lost, acknowledged or not; the store must open to its
        // last complete transaction.
        let wal = dir.path().join("till.pointbook-wal");
        let shm = std::fs::read(dir.path().join("till.pointbook-shm")).unwrap_or_default();
        let tear = rng.below(8) == 0;
        match std::fs::metadata(&wal) {
            Ok(meta) if tear => {
                let from = checkpointed_end(&std::fs::read(&wal).unwrap(), &shm);
                let cut = from + rng.below(meta.len() - from + 1);
                let file = std::fs::OpenOptions::new().write(true).open(&wal).unwrap();
                file.set_len(cut).unwrap();
                torn += 1;
                read_or_empty(&db, &format!("torn at {cut} (copied up to {from})"));
            }
            _ if db.exists() => {
                let recovery = read_or_empty(&db, &format!("kill {kills}"));
                assert!(
                    recovery.seq >= acknowledged,
                    "kill {kills}: {acknowledged} acknowledged, {} in the store",
                    recovery.seq
                );
            }
            _ => {}
        }
        if db.exists() {
            assert_eq!(journal(&db).1, 0, "kill {kills}: an event journalled twice");
        }
    }
    let done = ingest(&db, &events).output().unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let (book, _) = pointbook_store::read(&db).unwrap();
    assert_eq!(book.digest().unwrap(), memory.digest().unwrap());
    assert_eq!(journal(&db), (accepted, 0));
    eprintln!("{kills} kills, {torn} torn WAL files");
}

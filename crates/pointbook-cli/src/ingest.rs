//! `pointbook ingest`: an events file applied to a durable store (`pointbook-store`) in
//! batches, one transaction each; resumable after a crash, since what the store already has
//! comes back as duplicates.

use crate::{exit, feed_lines, load_program, CliResult};
use clap::Args;
use pointbook::feed::{Line, Rejection};
use pointbook::Event;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// The arguments of `pointbook ingest`.
#[derive(Args)]
pub struct IngestArgs {
    /// The store's file (created if missing).
    #[arg(long)]
    db: PathBuf,
    /// Program file (TOML or JSON); must be the store's program.
    #[arg(long)]
    program: PathBuf,
    /// Events file (JSON Lines); `-` reads standard input.
    #[arg(long)]
    events: PathBuf,
    /// Events committed together (one transaction each).
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Also take a snapshot every this many journalled events (0, the default: only at the
    /// end of the run; a snapshot of a large book costs about what replaying five events per
    /// member does, and a run killed half-way resumes without one).
    #[arg(long, default_value_t = 0)]
    snapshot_every: u64,
    /// `full` (every commit synced) or `normal` (synced at checkpoints; survives a crash of
    /// the process, not always a power cut).
    #[arg(long, default_value = "full")]
    durability: String,
    /// Print a JSON line to standard output after each commit: the last input line it holds
    /// and the journal's length.
    #[arg(long)]
    acknowledge: bool,
    /// Exit with status 1 if any event is rejected.
    #[arg(long)]
    strict: bool,
}

/// `pointbook ingest`: the events file applied to the store in batches, each one
/// transaction; rejections go to stderr, a summary to stdout.
pub fn ingest(a: &IngestArgs) -> CliResult<ExitCode> {
    let durability = match a.durability.as_str() {
        "full" => pointbook_store::Durability::Full,
        "normal" => pointbook_store::Durability::Normal,
        other => return Err(format!("--durability: {other:?} is not full or normal")),
    };
    let options = pointbook_store::Options {
        durability,
        snapshot_every: a.snapshot_every,
        ..Default::default()
    };
    let at_db = |e: pointbook_store::StoreError| format!("{}: {e}", a.db.display());
    let mut store =
        pointbook_store::Store::open(&a.db, load_program(&a.program)?, options).map_err(at_db)?;
    let recovery = store.recovery().clone();
    let mut counts = IngestCounts::default();
    let mut pending: Vec<(usize, String, pointbook::Result<Event>)> = Vec::new();
    let batch = a.batch.max(1);
    let mut failed: Option<String> = None;
    let mut stdout = std::io::stdout().lock();
    let mut commit = |pending: &mut Vec<(usize, String, pointbook::Result<Event>)>,
                      store: &mut pointbook_store::Store|
     -> CliResult<()> {
        if pending.is_empty() {
            return Ok(());
        }
        let entries: Vec<pointbook_store::Entry<'_>> = pending
            .iter()
            .map(|(_, text, event)| match event {
                Ok(e) => pointbook_store::Entry::Event(e),
                Err(error) => pointbook_store::Entry::Unreadable { text, error },
            })
            .collect();
        let results = store.apply_entries(&entries).map_err(at_db)?;
        let mut stderr = std::io::stderr().lock();
        for ((number, text, _), result) in pending.iter().zip(results) {
            match result {
                Ok(o) if o.duplicate => counts.duplicates += 1,
                Ok(_) => counts.accepted += 1,
                Err(e) => {
                    counts.rejected += 1;
                    let r = Rejection::new(*number, Some(text), e);
                    let _ = writeln!(stderr, "{}", r.to_json());
                }
            }
        }
        if a.acknowledge {
            let last = pending.last().map_or(0, |p| p.0);
            let ack =
                serde_json::json!({"acknowledged_line": last, "journal_seq": store.journal_seq()});
            writeln!(stdout, "{ack}")
                .and_then(|()| stdout.flush())
                .map_err(|e| e.to_string())?;
        }
        pending.clear();
        Ok(())
    };
    let events = a.events.clone();
    feed_lines(&events, &mut |line: Line<'_>| {
        if failed.is_some() {
            return;
        }
        // A line that is not UTF-8 is kept for the operator by its number.
        let text = line.text().map_or_else(
            || format!("(line {}: not UTF-8)", line.number),
            str::to_owned,
        );
        pending.push((line.number, text, line.event()));
        if pending.len() >= batch {
            if let Err(e) = commit(&mut pending, &mut store) {
                failed = Some(e);
            }
        }
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    commit(&mut pending, &mut store)?;
    store.checkpoint().map_err(at_db)?;
    let summary = serde_json::json!({
        "accepted": counts.accepted,
        "duplicates": counts.duplicates,
        "rejected": counts.rejected,
        "journal_seq": store.journal_seq(),
        "recovered": {
            "snapshot_seq": recovery.snapshot_seq,
            "replayed": recovery.replayed,
            "damaged_snapshots": recovery.damaged.len(),
        },
    });
    println!("{summary}");
    Ok(exit(a.strict, counts.rejected))
}

#[derive(Default)]
struct IngestCounts {
    accepted: u64,
    duplicates: u64,
    rejected: usize,
}

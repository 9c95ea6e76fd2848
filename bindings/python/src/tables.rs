//! Replay state and its Arrow output: one row per event (outcomes), per posting, per member.

use arrow_array::builder::{
    BooleanBuilder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder, UInt64Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, Field, Schema};
use pointbook::feed::{self, Applied};
use pointbook::outcome::Account;
use pointbook::{Book, Error, Event, Instant, Outcome};
use pyo3::PyResult;
use pyo3_arrow::PyTable;
use std::sync::Arc;

fn ts_builder() -> TimestampMicrosecondBuilder {
    TimestampMicrosecondBuilder::new().with_timezone("UTC")
}

fn account(a: &Account) -> (&'static str, Option<&str>) {
    match a {
        Account::Issued => ("issued", None),
        Account::Redeemed => ("redeemed", None),
        Account::Expired => ("expired", None),
        Account::Forfeited => ("forfeited", None),
        Account::Forgiven => ("forgiven", None),
        Account::Available(m) => ("available", Some(m.as_str())),
        Account::Pending(m) => ("pending", Some(m.as_str())),
        Account::Held(m) => ("held", Some(m.as_str())),
    }
}

/// A replay in progress: the book and the rows gathered so far.
pub struct Replay {
    book: Book,
    /// Events read but not applied yet: a fresh book replays them all at once, on every core
    /// (`pointbook::parallel`), when the tables or the book are asked for.
    pending: Vec<Result<Event, Error>>,
    /// Rows of the events applied so far, in runs of consecutive events (one Arrow record
    /// batch each): the runs of a parallel replay are written on every core.
    runs: Vec<Rows>,
    /// Events applied so far (the next event's index).
    applied: u64,
}

/// The rows of a run of consecutive events.
struct Rows {
    o_index: UInt64Builder,
    o_event: StringBuilder,
    o_type: StringBuilder,
    o_member: StringBuilder,
    o_at: TimestampMicrosecondBuilder,
    o_duplicate: BooleanBuilder,
    o_rejected: BooleanBuilder,
    o_code: StringBuilder,
    o_message: StringBuilder,
    o_points: Int64Builder,
    p_event: StringBuilder,
    p_at: TimestampMicrosecondBuilder,
    p_from: StringBuilder,
    p_from_member: StringBuilder,
    p_to: StringBuilder,
    p_to_member: StringBuilder,
    p_points: Int64Builder,
    p_reason: StringBuilder,
    e_event: StringBuilder,
    e_at: TimestampMicrosecondBuilder,
    e_type: StringBuilder,
    e_member: StringBuilder,
    e_detail: StringBuilder,
}

/// Below this many events per thread, rows are written on one thread.
const EVENTS_PER_THREAD: usize = 16_384;

impl Replay {
    /// A replay into `book`.
    pub fn new(book: Book) -> Self {
        Replay {
            book,
            pending: Vec::new(),
            runs: Vec::new(),
            applied: 0,
        }
    }

    /// The book.
    pub fn book(&mut self) -> &Book {
        self.flush();
        &self.book
    }

    /// Takes one event (or why it could not be read); its rows are gathered when the events
    /// read so far are applied.
    pub fn apply(&mut self, event: Result<Event, Error>) {
        self.pending.push(event);
    }

    /// Applies the pending events ([`feed::apply_all`]: on every core into a fresh book).
    fn flush(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        if pending.is_empty() {
            return;
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let applied = feed::apply_all(&mut self.book, pending, threads);
        self.write_rows(applied, threads);
    }

    /// Writes the rows of consecutive results, in runs on up to `threads` threads.
    fn write_rows(&mut self, applied: Vec<Applied>, threads: usize) {
        let first = self.applied;
        self.applied += applied.len() as u64;
        let run = applied
            .len()
            .div_ceil(threads.max(1))
            .max(EVENTS_PER_THREAD);
        let mut chunks: Vec<Vec<Applied>> = Vec::new();
        let mut rest = applied.into_iter();
        loop {
            let chunk: Vec<Applied> = rest.by_ref().take(run).collect();
            if chunk.is_empty() {
                break;
            }
            chunks.push(chunk);
        }
        let write = |start: u64, chunk: Vec<Applied>| {
            let mut rows = Rows::new();
            for (i, (event, result)) in chunk.into_iter().enumerate() {
                rows.record(start + i as u64, event.as_ref(), result);
            }
            rows
        };
        if chunks.len() <= 1 {
            self.runs
                .extend(chunks.pop().map(|chunk| write(first, chunk)));
            return;
        }
        let write = &write;
        let written: Vec<Rows> = std::thread::scope(|s| {
            let handles: Vec<_> = chunks
                .into_iter()
                .scan(first, |index, chunk| {
                    let start = *index;
                    *index += chunk.len() as u64;
                    Some(s.spawn(move || write(start, chunk)))
                })
                .collect();
            // Writing rows does not panic; were one to, the panic goes on to the caller (the
            // binding raises it as an exception) rather than a table missing rows.
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        self.runs.extend(written);
    }

    /// (balances, outcomes, postings, effects) as tables; the replay can go on afterwards.
    pub fn tables(&mut self) -> Result<(PyTable, PyTable, PyTable, PyTable), ArrowError> {
        self.flush();
        if self.runs.is_empty() {
            // No rows yet: one empty run gives each table its columns.
            self.runs.push(Rows::new());
        }
        let mut outcomes = Vec::with_capacity(self.runs.len());
        let mut postings = Vec::with_capacity(self.runs.len());
        let mut effects = Vec::with_capacity(self.runs.len());
        for rows in &mut self.runs {
            outcomes.push(rows.outcome_columns());
            postings.push(rows.posting_columns());
            effects.push(rows.effect_columns());
        }
        let outcomes = table(outcomes)?;
        let postings = table(postings)?;
        let effects = table(effects)?;
        let mut member = StringBuilder::new();
        let mut tier = StringBuilder::new();
        let mut nums: Vec<Int64Builder> = (0..5).map(|_| Int64Builder::new()).collect();
        for b in self.book.balances() {
            member.append_value(b.member.as_str());
            tier.append_value(&b.tier);
            for (builder, v) in
                nums.iter_mut()
                    .zip([b.available, b.pending, b.held, b.debt, b.lots.len() as i64])
            {
                builder.append_value(v);
            }
        }
        let mut cols: Vec<(&'static str, ArrayRef)> = vec![
            ("member", Arc::new(member.finish())),
            ("tier", Arc::new(tier.finish())),
        ];
        for (name, b) in ["available", "pending", "held", "debt", "open_lots"]
            .into_iter()
            .zip(nums.iter_mut())
        {
            cols.push((name, Arc::new(b.finish())));
        }
        let balances = table(vec![cols])?;
        Ok((balances, outcomes, postings, effects))
    }
}

impl Rows {
    fn new() -> Self {
        Rows {
            o_index: UInt64Builder::new(),
            o_event: StringBuilder::new(),
            o_type: StringBuilder::new(),
            o_member: StringBuilder::new(),
            o_at: ts_builder(),
            o_duplicate: BooleanBuilder::new(),
            o_rejected: BooleanBuilder::new(),
            o_code: StringBuilder::new(),
            o_message: StringBuilder::new(),
            o_points: Int64Builder::new(),
            p_event: StringBuilder::new(),
            p_at: ts_builder(),
            p_from: StringBuilder::new(),
            p_from_member: StringBuilder::new(),
            p_to: StringBuilder::new(),
            p_to_member: StringBuilder::new(),
            p_points: Int64Builder::new(),
            p_reason: StringBuilder::new(),
            e_event: StringBuilder::new(),
            e_at: ts_builder(),
            e_type: StringBuilder::new(),
            e_member: StringBuilder::new(),
            e_detail: StringBuilder::new(),
        }
    }

    /// Gathers the rows of one event's result.
    fn record(&mut self, index: u64, event: Option<&Event>, result: Result<Outcome, Error>) {
        self.o_index.append_value(index);
        let id = match (event, &result) {
            (Some(e), _) => Some(e.id().as_str()),
            (None, Err(Error::InvalidEvent { event, .. })) if event != "?" => Some(event.as_str()),
            _ => None,
        };
        self.o_event.append_option(id);
        self.o_type.append_option(event.map(|e| e.kind()));
        self.o_member
            .append_option(event.and_then(|e| e.member()).map(|m| m.as_str()));
        self.o_at
            .append_option(event.map(|e| e.at().timestamp_micros()));
        match result {
            Ok(outcome) => {
                self.o_duplicate.append_value(outcome.duplicate);
                self.o_rejected.append_value(false);
                self.o_code.append_null();
                self.o_message.append_null();
                self.o_points.append_value(outcome.points);
                if !outcome.duplicate {
                    for p in &outcome.postings {
                        self.posting(
                            outcome.event.as_str(),
                            p.at,
                            &p.from,
                            &p.to,
                            p.points.get(),
                            p.reason,
                        );
                    }
                    for e in &outcome.effects {
                        self.effect(outcome.event.as_str(), e);
                    }
                }
            }
            Err(e) => {
                self.o_duplicate.append_value(false);
                self.o_rejected.append_value(true);
                self.o_code.append_value(e.code());
                self.o_message.append_value(e.to_string());
                self.o_points.append_value(0);
            }
        }
    }

    fn effect(&mut self, event: &str, effect: &pointbook::Effect) {
        // The detail as a JSON object with its keys sorted (a `Value`'s order).
        let detail = serde_json::to_value(effect).unwrap_or_default();
        self.e_event.append_value(event);
        self.e_at.append_value(effect.at().timestamp_micros());
        self.e_type.append_value(effect.kind());
        self.e_member.append_value(effect.member().as_str());
        self.e_detail.append_value(detail.to_string());
    }

    fn posting(
        &mut self,
        event: &str,
        at: Instant,
        from: &Account,
        to: &Account,
        points: i64,
        reason: pointbook::outcome::Reason,
    ) {
        let (fa, fm) = account(from);
        let (ta, tm) = account(to);
        self.p_event.append_value(event);
        self.p_at.append_value(at.timestamp_micros());
        self.p_from.append_value(fa);
        self.p_from_member.append_option(fm);
        self.p_to.append_value(ta);
        self.p_to_member.append_option(tm);
        self.p_points.append_value(points);
        self.p_reason.append_value(reason.name());
    }

    /// The outcome table's columns so far (the builders keep their rows).
    fn outcome_columns(&mut self) -> Vec<(&'static str, ArrayRef)> {
        vec![
            ("index", Arc::new(self.o_index.finish_cloned())),
            ("event", Arc::new(self.o_event.finish_cloned())),
            ("type", Arc::new(self.o_type.finish_cloned())),
            ("member", Arc::new(self.o_member.finish_cloned())),
            ("at", Arc::new(self.o_at.finish_cloned())),
            ("duplicate", Arc::new(self.o_duplicate.finish_cloned())),
            ("rejected", Arc::new(self.o_rejected.finish_cloned())),
            ("error_code", Arc::new(self.o_code.finish_cloned())),
            ("error_message", Arc::new(self.o_message.finish_cloned())),
            ("points", Arc::new(self.o_points.finish_cloned())),
        ]
    }

    /// The posting table's columns so far.
    fn posting_columns(&mut self) -> Vec<(&'static str, ArrayRef)> {
        vec![
            ("event", Arc::new(self.p_event.finish_cloned())),
            ("at", Arc::new(self.p_at.finish_cloned())),
            ("from_account", Arc::new(self.p_from.finish_cloned())),
            ("from_member", Arc::new(self.p_from_member.finish_cloned())),
            ("to_account", Arc::new(self.p_to.finish_cloned())),
            ("to_member", Arc::new(self.p_to_member.finish_cloned())),
            ("points", Arc::new(self.p_points.finish_cloned())),
            ("reason", Arc::new(self.p_reason.finish_cloned())),
        ]
    }

    /// The effect table's columns so far.
    fn effect_columns(&mut self) -> Vec<(&'static str, ArrayRef)> {
        vec![
            ("event", Arc::new(self.e_event.finish_cloned())),
            ("at", Arc::new(self.e_at.finish_cloned())),
            ("type", Arc::new(self.e_type.finish_cloned())),
            ("member", Arc::new(self.e_member.finish_cloned())),
            ("detail", Arc::new(self.e_detail.finish_cloned())),
        ]
    }
}

/// A table with one record batch per run of named columns (every run has the same columns).
fn table(runs: Vec<Vec<(&'static str, ArrayRef)>>) -> Result<PyTable, ArrowError> {
    let fields: Vec<Field> = runs
        .first()
        .map(|cols| {
            cols.iter()
                .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
                .collect()
        })
        .unwrap_or_default();
    let schema = Arc::new(Schema::new(fields));
    let batches = runs
        .into_iter()
        .map(|cols| RecordBatch::try_new(schema.clone(), cols.into_iter().map(|c| c.1).collect()))
        .collect::<Result<Vec<_>, _>>()?;
    let made: PyResult<PyTable> = PyTable::try_new(batches, schema);
    made.map_err(|e| ArrowError::ExternalError(Box::new(e)))
}

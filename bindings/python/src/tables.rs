//! Replay state and its Arrow output: one row per event (outcomes), per posting, per member.

use arrow_array::builder::{
    BooleanBuilder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder, UInt64Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, Field, Schema};
use pointbook::feed::Applied;
use pointbook::outcome::Account;
use pointbook::{Book, Error, Event, Instant, Outcome};
use pyo3::PyResult;
use pyo3_arrow::PyTable;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

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

/// A replay in progress: the book, and the rows of the events applied so far.
///
/// Each event is applied as it is fed; a second thread writes its rows (the two halves of
/// the work overlap on two cores), and finishes them into record batches of [`RUN`] events.
/// So the work is done as the events arrive, and what is held besides the book is the
/// finished rows and at most a run being written and a few chunks on their way to it.
pub struct Replay {
    book: Book,
    /// Results applied but not yet sent to the writer.
    chunk: Vec<Applied>,
    /// The thread writing rows, started by the first chunk and joined when tables are asked.
    writer: Option<Writer>,
    /// Runs finished by writers already joined.
    runs: Vec<Columns>,
    /// Events applied so far (the next event's index).
    applied: u64,
}

/// Results go to the writer in chunks of this many events.
const CHUNK: usize = 4_096;
/// Chunks in flight to the writer before the applying thread waits for it.
const CHUNKS_IN_FLIGHT: usize = 8;
/// Events per record batch of the output tables.
const RUN: usize = 16_384;

/// The thread writing rows, and the way to it.
struct Writer {
    chunks: SyncSender<Vec<Applied>>,
    done: JoinHandle<Vec<Columns>>,
}

impl Writer {
    /// Starts a writer whose first row has index `first`.
    fn start(first: u64) -> Writer {
        let (chunks, received) = sync_channel::<Vec<Applied>>(CHUNKS_IN_FLIGHT);
        let done = std::thread::spawn(move || {
            let mut finished = Vec::new();
            let mut rows = Rows::new();
            let mut index = first;
            for chunk in received {
                for (event, result) in chunk {
                    rows.record(index, event.as_ref(), result);
                    index += 1;
                    if rows.len >= RUN {
                        finished.push(std::mem::replace(&mut rows, Rows::new()).finish());
                    }
                }
            }
            if rows.len > 0 {
                finished.push(rows.finish());
            }
            finished
        });
        Writer { chunks, done }
    }

    /// The runs written, once every chunk sent is.
    fn finish(self) -> Vec<Columns> {
        drop(self.chunks);
        // Writing rows does not panic; were it to, the panic goes on to the caller (the binding
        // raises it as an exception) rather than a table missing rows.
        self.done
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

impl Replay {
    /// A replay into `book`.
    pub fn new(book: Book) -> Self {
        Replay {
            book,
            chunk: Vec::with_capacity(CHUNK),
            writer: None,
            runs: Vec::new(),
            applied: 0,
        }
    }

    /// The book, with every event fed so far applied.
    pub fn book(&self) -> &Book {
        &self.book
    }

    /// Applies one event (or rejects it with why it could not be read) and queues its rows.
    pub fn apply(&mut self, event: Result<Event, Error>) {
        let applied = match event {
            Ok(event) => {
                let result = self.book.apply(&event);
                (Some(event), result)
            }
            Err(error) => (None, Err(error)),
        };
        self.chunk.push(applied);
        if self.chunk.len() >= CHUNK {
            self.send();
        }
    }

    /// Sends the applied results to the writer, starting it if need be.
    fn send(&mut self) {
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK));
        if chunk.is_empty() {
            return;
        }
        let first = self.applied;
        self.applied += chunk.len() as u64;
        let writer = self.writer.get_or_insert_with(|| Writer::start(first));
        if writer.chunks.send(chunk).is_err() {
            // The writer ended while its channel was open: it panicked, and joining it passes
            // the panic on.
            self.written();
        }
    }

    /// Waits for the writer to write every row fed so far.
    fn written(&mut self) {
        self.send();
        if let Some(writer) = self.writer.take() {
            self.runs.extend(writer.finish());
        }
    }

    /// (balances, outcomes, postings, effects) as tables; the replay can go on afterwards.
    pub fn tables(&mut self) -> Result<(PyTable, PyTable, PyTable, PyTable), ArrowError> {
        self.written();
        let empty;
        let runs: &[Columns] = if self.runs.is_empty() {
            // No rows yet: an empty run gives each table its columns.
            empty = [Rows::new().finish()];
            &empty
        } else {
            &self.runs
        };
        let outcomes = table(runs.iter().map(|r| r.outcomes.clone()).collect())?;
        let postings = table(runs.iter().map(|r| r.postings.clone()).collect())?;
        let effects = table(runs.iter().map(|r| r.effects.clone()).collect())?;
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

/// The finished columns of a run of consecutive events: a record batch of each table.
struct Columns {
    outcomes: Vec<(&'static str, ArrayRef)>,
    postings: Vec<(&'static str, ArrayRef)>,
    effects: Vec<(&'static str, ArrayRef)>,
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
    o_discount: StringBuilder,
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
    /// Events recorded.
    len: usize,
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
            o_discount: StringBuilder::new(),
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
            len: 0,
        }
    }

    /// Gathers the rows of one event's result.
    fn record(&mut self, index: u64, event: Option<&Event>, result: Result<Outcome, Error>) {
        self.len += 1;
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
                self.o_discount
                    .append_option(outcome.discount.map(|d| d.to_string()));
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
                self.o_discount.append_null();
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

    /// The rows as finished columns.
    fn finish(mut self) -> Columns {
        let outcomes: Vec<(&'static str, ArrayRef)> = vec![
            ("index", Arc::new(self.o_index.finish())),
            ("event", Arc::new(self.o_event.finish())),
            ("type", Arc::new(self.o_type.finish())),
            ("member", Arc::new(self.o_member.finish())),
            ("at", Arc::new(self.o_at.finish())),
            ("duplicate", Arc::new(self.o_duplicate.finish())),
            ("rejected", Arc::new(self.o_rejected.finish())),
            ("error_code", Arc::new(self.o_code.finish())),
            ("error_message", Arc::new(self.o_message.finish())),
            ("points", Arc::new(self.o_points.finish())),
            ("discount", Arc::new(self.o_discount.finish())),
        ];
        let postings: Vec<(&'static str, ArrayRef)> = vec![
            ("event", Arc::new(self.p_event.finish())),
            ("at", Arc::new(self.p_at.finish())),
            ("from_account", Arc::new(self.p_from.finish())),
            ("from_member", Arc::new(self.p_from_member.finish())),
            ("to_account", Arc::new(self.p_to.finish())),
            ("to_member", Arc::new(self.p_to_member.finish())),
            ("points", Arc::new(self.p_points.finish())),
            ("reason", Arc::new(self.p_reason.finish())),
        ];
        let effects: Vec<(&'static str, ArrayRef)> = vec![
            ("event", Arc::new(self.e_event.finish())),
            ("at", Arc::new(self.e_at.finish())),
            ("type", Arc::new(self.e_type.finish())),
            ("member", Arc::new(self.e_member.finish())),
            ("detail", Arc::new(self.e_detail.finish())),
        ];
        Columns {
            outcomes,
            postings,
            effects,
        }
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

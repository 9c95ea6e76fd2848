//! Replay state and its Arrow output: one row per event (outcomes), per posting, per member.

use arrow_array::builder::{
    BooleanBuilder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder, UInt64Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, TimeUnit};
use pointbook::outcome::Account;
use pointbook::{Book, Error, Event, Instant, Outcome};
use pyo3::PyResult;
use pyo3_arrow::PyTable;
use std::sync::Arc;

fn ts() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

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
    index: u64,
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

impl Replay {
    /// A replay into `book`.
    pub fn new(book: Book) -> Self {
        Replay {
            book,
            pending: Vec::new(),
            index: 0,
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

    /// Applies the pending events: all at once on every core into a fresh book (each event's
    /// result is what one thread would have returned), one by one into a book already used.
    fn flush(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        if pending.is_empty() {
            return;
        }
        if self.book.clock().is_none() && self.book.member_count() == 0 {
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            let mut read = Vec::new();
            let mut kinds = Vec::with_capacity(pending.len());
            for e in pending {
                match e {
                    Ok(e) => {
                        read.push(e);
                        kinds.push(None);
                    }
                    Err(err) => kinds.push(Some(err)),
                }
            }
            let replay =
                pointbook::parallel::replay_with_outcomes(self.book.program(), &read, threads);
            self.book = replay.book;
            let mut results = read.iter().zip(replay.outcomes);
            for unreadable in kinds {
                match unreadable {
                    Some(err) => self.record(None, Err(err)),
                    None => {
                        if let Some((e, r)) = results.next() {
                            self.record(Some(e), r);
                        }
                    }
                }
            }
        } else {
            for e in pending {
                match e {
                    Ok(e) => {
                        let r = self.book.apply(&e);
                        self.record(Some(&e), r);
                    }
                    Err(err) => self.record(None, Err(err)),
                }
            }
        }
    }

    /// Gathers the rows of one event's result.
    fn record(&mut self, event: Option<&Event>, result: Result<Outcome, Error>) {
        self.o_index.append_value(self.index);
        self.index += 1;
        let id = match (event, &result) {
            (Some(e), _) => Some(e.id().to_string()),
            (None, Err(Error::InvalidEvent { event, .. })) if event != "?" => Some(event.clone()),
            _ => None,
        };
        self.o_event.append_option(id.as_deref());
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
        let detail = serde_json::to_value(effect).unwrap_or_default();
        let field = |k: &str| detail.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let at = field("at")
            .and_then(|t| t.parse::<Instant>().ok())
            .map(|t| t.timestamp_micros());
        self.e_event.append_value(event);
        self.e_at.append_option(at);
        self.e_type.append_option(field("type"));
        self.e_member.append_option(field("member"));
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
        let reason = serde_json::to_value(reason)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        self.p_reason.append_value(reason);
    }

    /// (balances, outcomes, postings, effects) as tables; the replay can go on afterwards.
    pub fn tables(&mut self) -> Result<(PyTable, PyTable, PyTable, PyTable), ArrowError> {
        self.flush();
        let outcomes = table(vec![
            (
                "index",
                DataType::UInt64,
                Arc::new(self.o_index.finish_cloned()) as ArrayRef,
            ),
            (
                "event",
                DataType::Utf8,
                Arc::new(self.o_event.finish_cloned()),
            ),
            (
                "type",
                DataType::Utf8,
                Arc::new(self.o_type.finish_cloned()),
            ),
            (
                "member",
                DataType::Utf8,
                Arc::new(self.o_member.finish_cloned()),
            ),
            ("at", ts(), Arc::new(self.o_at.finish_cloned())),
            (
                "duplicate",
                DataType::Boolean,
                Arc::new(self.o_duplicate.finish_cloned()),
            ),
            (
                "rejected",
                DataType::Boolean,
                Arc::new(self.o_rejected.finish_cloned()),
            ),
            (
                "error_code",
                DataType::Utf8,
                Arc::new(self.o_code.finish_cloned()),
            ),
            (
                "error_message",
                DataType::Utf8,
                Arc::new(self.o_message.finish_cloned()),
            ),
            (
                "points",
                DataType::Int64,
                Arc::new(self.o_points.finish_cloned()),
            ),
        ])?;
        let postings = table(vec![
            (
                "event",
                DataType::Utf8,
                Arc::new(self.p_event.finish_cloned()) as ArrayRef,
            ),
            ("at", ts(), Arc::new(self.p_at.finish_cloned())),
            (
                "from_account",
                DataType::Utf8,
                Arc::new(self.p_from.finish_cloned()),
            ),
            (
                "from_member",
                DataType::Utf8,
                Arc::new(self.p_from_member.finish_cloned()),
            ),
            (
                "to_account",
                DataType::Utf8,
                Arc::new(self.p_to.finish_cloned()),
            ),
            (
                "to_member",
                DataType::Utf8,
                Arc::new(self.p_to_member.finish_cloned()),
            ),
            (
                "points",
                DataType::Int64,
                Arc::new(self.p_points.finish_cloned()),
            ),
            (
                "reason",
                DataType::Utf8,
                Arc::new(self.p_reason.finish_cloned()),
            ),
        ])?;
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
        let mut cols = vec![
            (
                "member",
                DataType::Utf8,
                Arc::new(member.finish()) as ArrayRef,
            ),
            ("tier", DataType::Utf8, Arc::new(tier.finish())),
        ];
        for (name, mut b) in ["available", "pending", "held", "debt", "open_lots"]
            .into_iter()
            .zip(nums)
        {
            cols.push((name, DataType::Int64, Arc::new(b.finish())));
        }
        let balances = table(cols)?;
        let effects = table(vec![
            (
                "event",
                DataType::Utf8,
                Arc::new(self.e_event.finish_cloned()) as ArrayRef,
            ),
            ("at", ts(), Arc::new(self.e_at.finish_cloned())),
            (
                "type",
                DataType::Utf8,
                Arc::new(self.e_type.finish_cloned()),
            ),
            (
                "member",
                DataType::Utf8,
                Arc::new(self.e_member.finish_cloned()),
            ),
            (
                "detail",
                DataType::Utf8,
                Arc::new(self.e_detail.finish_cloned()),
            ),
        ])?;
        Ok((balances, outcomes, postings, effects))
    }
}

fn table(cols: Vec<(&str, DataType, ArrayRef)>) -> Result<PyTable, ArrowError> {
    let fields: Vec<Field> = cols
        .iter()
        .map(|(name, ty, _)| Field::new(*name, ty.clone(), true))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), cols.into_iter().map(|c| c.2).collect())?;
    let made: PyResult<PyTable> = PyTable::try_new(vec![batch], schema);
    made.map_err(|e| ArrowError::ExternalError(Box::new(e)))
}

//! `pointbook._native.Store`: a book kept in a SQLite file (`docs/store.md`), every accepted
//! event journalled before the call returns. Errors map to the exception classes of
//! `pointbook._errors` by code, like the core's.

use crate::objects::to_object;
use crate::{arrow_events, guard, lock, raise, to_py, PyBook, PyProgram};
use pointbook::{Event, Outcome};
use pointbook_store::{Durability, Entry, Options, Store, StoreError};
use pyo3::prelude::*;
use pyo3_arrow::input::AnyRecordBatch;
use std::sync::Mutex;
use std::time::Duration;

fn store_err(e: StoreError) -> PyErr {
    match e {
        StoreError::Rejected(inner) | StoreError::Engine(inner) => to_py(&inner),
        other => raise(other.code(), &other.to_string()),
    }
}

/// A store opened for writing; `None` once closed.
#[pyclass(name = "Store", module = "pointbook._native", frozen)]
pub(crate) struct PyStore {
    store: Mutex<Option<Store>>,
}

impl PyStore {
    fn with<T>(&self, f: impl FnOnce(&mut Store) -> PyResult<T>) -> PyResult<T> {
        match lock(&self.store).as_mut() {
            Some(s) => f(s),
            None => Err(raise("store_io", "the store is closed")),
        }
    }
}

/// (accepted, duplicates, rejected rows as (row, code, message)) of a batch's results, rows
/// counted from `first`.
type Tally = (usize, usize, Vec<(usize, String, String)>);

/// (snapshot entry, entries replayed, damaged snapshots as (entry, why)).
type RecoveryTuple = (i64, u64, Vec<(i64, String)>);

fn tally(results: Vec<pointbook::Result<Outcome>>, first: usize, into: &mut Tally) {
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(o) if o.duplicate => into.1 += 1,
            Ok(_) => into.0 += 1,
            Err(e) => into.2.push((first + i, e.code().to_owned(), e.to_string())),
        }
    }
}

#[pymethods]
impl PyStore {
    #[new]
    #[pyo3(signature = (path, program, durability="full", snapshot_every=100_000, keep_snapshots=2, wait=0.0))]
    fn new(
        py: Python<'_>,
        path: &str,
        program: &PyProgram,
        durability: &str,
        snapshot_every: u64,
        keep_snapshots: u32,
        wait: f64,
    ) -> PyResult<Self> {
        guard(|| {
            let durability = match durability {
                "full" => Durability::Full,
                "normal" => Durability::Normal,
                other => {
                    return Err(raise(
                        "invalid_options",
                        &format!("durability {other:?} is neither \"full\" nor \"normal\""),
                    ))
                }
            };
            let wait = Duration::try_from_secs_f64(wait)
                .map_err(|e| raise("invalid_options", &format!("wait {wait}: {e}")))?;
            let options = Options {
                durability,
                snapshot_every,
                keep_snapshots,
                wait,
                max_pages: None,
                snapshot_part: pointbook_store::schema::PART,
            };
            let program = program.program.clone();
            let store = py
                .detach(|| Store::open(path, program, options))
                .map_err(store_err)?;
            Ok(PyStore {
                store: Mutex::new(Some(store)),
            })
        })
    }

    /// Applies one event (JSON) and journals it; returns the outcome once it is on disk.
    fn apply<'py>(&self, py: Python<'py>, event: &str) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let event = Event::from_json(event).map_err(|e| to_py(&e))?;
            let outcome = py.detach(|| self.with(|s| s.apply(&event).map_err(store_err)))?;
            to_object(py, &outcome)
        })
    }

    /// Applies JSON texts in order in one transaction; returns (accepted, duplicates,
    /// rejected rows as (index, code, message)).
    fn apply_json(&self, py: Python<'_>, events: Vec<String>) -> PyResult<Tally> {
        guard(|| {
            py.detach(|| {
                self.with(|s| {
                    let lines: Vec<&str> = events.iter().map(String::as_str).collect();
                    let results = s.apply_lines(&lines).map_err(store_err)?;
                    let mut t = Tally::default();
                    tally(results, 0, &mut t);
                    Ok(t)
                })
            })
        })
    }

    /// Applies every row of an Arrow input, one transaction per record batch; returns
    /// (accepted, duplicates, rejected rows as (row, code, message)). A batch that fails to
    /// commit raises, and the batches before it stay applied.
    fn apply_arrow(&self, py: Python<'_>, data: AnyRecordBatch) -> PyResult<Tally> {
        guard(|| {
            let reader = data.into_reader()?;
            py.detach(|| {
                self.with(|s| {
                    let mut t = Tally::default();
                    let mut first = 0;
                    for batch in reader {
                        let batch = batch.map_err(|e| raise("invalid_event", &e.to_string()))?;
                        let events =
                            arrow_events::events(&batch).map_err(|m| raise("invalid_event", &m))?;
                        let texts: Vec<String> = (0..events.len())
                            .map(|i| format!("(arrow row {})", first + i))
                            .collect();
                        let entries: Vec<Entry<'_>> = events
                            .iter()
                            .zip(&texts)
                            .map(|(e, text)| match e {
                                Ok(e) => Entry::Event(e),
                                Err(error) => Entry::Unreadable { text, error },
                            })
                            .collect();
                        let results = s.apply_entries(&entries).map_err(store_err)?;
                        tally(results, first, &mut t);
                        first += events.len();
                    }
                    Ok(t)
                })
            })
        })
    }

    /// Takes a snapshot now.
    fn checkpoint(&self, py: Python<'_>) -> PyResult<()> {
        guard(|| py.detach(|| self.with(|s| s.checkpoint().map_err(store_err))))
    }

    /// A copy of the book as of the last commit.
    fn book(&self) -> PyResult<PyBook> {
        guard(|| self.with(|s| Ok(PyBook::of(s.book().clone()))))
    }

    /// The number of the last journal entry.
    fn journal_seq(&self) -> PyResult<i64> {
        guard(|| self.with(|s| Ok(s.journal_seq())))
    }

    /// How the book was rebuilt at open: (snapshot entry, entries replayed, damaged
    /// snapshots as (entry, why)).
    fn recovery(&self) -> PyResult<RecoveryTuple> {
        guard(|| {
            self.with(|s| {
                let r = s.recovery();
                Ok((r.snapshot_seq, r.replayed, r.damaged.clone()))
            })
        })
    }

    /// Closes the store and lets the next writer in; later calls raise. Closing twice is
    /// harmless.
    fn close(&self) {
        lock(&self.store).take();
    }
}

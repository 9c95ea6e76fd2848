//! `pointbook._native`: the Python binding of the Pointbook core. Thin by design: Python
//! values in, core types, core results out, core errors mapped to the exception classes of
//! `pointbook._errors`. Every method body runs under [`guard`], so a panic reaches Python as
//! `pointbook.InternalError`, never as `PanicException`.

mod arrow_events;
mod event_table;
mod objects;
mod store;
mod tables;

use objects::to_object;
use pointbook::analytics::{self, Analysis, Analyzer, Options};
use pointbook::event::Quote;
use pointbook::{Book, Event, MemberId, Program};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use pyo3_arrow::input::AnyRecordBatch;
use pyo3_arrow::PyTable;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// mimalloc for the module's own allocations (Python's objects keep Python's allocator): a
/// replayed book is millions of small allocations, where glibc's allocator spent a quarter of
/// the time of applying an event (benches/RESULTS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::sync::{Mutex, MutexGuard};

/// Maps a core error to its `pointbook` exception class (by its stable code).
fn to_py(e: &pointbook::Error) -> PyErr {
    raise(e.code(), &e.to_string())
}

/// An exception of `pointbook._errors` by code.
fn raise(code: &str, message: &str) -> PyErr {
    Python::attach(|py| {
        let made = py
            .import("pointbook._errors")
            .and_then(|m| m.getattr("from_code"))
            .and_then(|f| f.call1((code, message)));
        match made {
            Ok(exc) => PyErr::from_value(exc),
            Err(e) => e,
        }
    })
}

/// Runs a method body; a panic becomes `pointbook.InternalError`.
fn guard<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(raise("internal", "internal error (a panic was caught)")))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // An event that does not complete, panic included, leaves the book as it was (the core
    // undoes its changes as the panic unwinds): a poisoned lock still holds a whole book.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn json<T: serde::Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| raise("internal", &e.to_string()))
}

/// A validated loyalty program.
#[pyclass(name = "Program", module = "pointbook._native", frozen)]
pub(crate) struct PyProgram {
    program: Program,
}

#[pymethods]
impl PyProgram {
    /// Loads a program from TOML (`{`-first text is read as JSON).
    #[staticmethod]
    fn parse(text: &str) -> PyResult<Self> {
        guard(|| {
            Program::parse(text)
                .map(|program| PyProgram { program })
                .map_err(|e| to_py(&e))
        })
    }

    /// Loads a program from JSON.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        guard(|| {
            Program::from_json(text)
                .map(|program| PyProgram { program })
                .map_err(|e| to_py(&e))
        })
    }

    /// Loads a program from TOML.
    #[staticmethod]
    fn from_toml(text: &str) -> PyResult<Self> {
        guard(|| {
            Program::from_toml(text)
                .map(|program| PyProgram { program })
                .map_err(|e| to_py(&e))
        })
    }

    /// SHA-256 of the program's canonical JSON.
    #[getter]
    fn fingerprint(&self) -> String {
        self.program.fingerprint().to_owned()
    }

    /// The program as canonical JSON.
    fn to_json(&self) -> String {
        self.program.to_json()
    }
}

/// A book: the state of one program, changed only by events.
#[pyclass(name = "Book", module = "pointbook._native", frozen)]
pub(crate) struct PyBook {
    book: Mutex<Book>,
}

impl PyBook {
    pub(crate) fn of(book: Book) -> PyBook {
        PyBook {
            book: Mutex::new(book),
        }
    }
}

#[pymethods]
impl PyBook {
    #[new]
    fn new(program: &PyProgram) -> Self {
        PyBook {
            book: Mutex::new(Book::new(program.program.clone())),
        }
    }

    /// Applies one event (JSON); returns the outcome as `json.loads` would read its JSON.
    fn apply<'py>(&self, py: Python<'py>, event: &str) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let event = Event::from_json(event).map_err(|e| to_py(&e))?;
            let outcome = py.detach(|| lock(&self.book).apply(&event));
            to_object(py, &outcome.map_err(|e| to_py(&e))?)
        })
    }

    /// Moves every member's clock to an RFC 3339 instant (the core's `advance@<instant>`
    /// event); returns the outcome.
    fn advance<'py>(&self, py: Python<'py>, at: &str) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let at = at
                .parse()
                .map_err(|e| raise("invalid_event", &format!("at \"{at}\": {e}")))?;
            let outcome = py.detach(|| lock(&self.book).advance(at));
            to_object(py, &outcome.map_err(|e| to_py(&e))?)
        })
    }

    /// Quotes a purchase (JSON, `type` optional); returns the outcome.
    fn quote<'py>(&self, py: Python<'py>, purchase: &str) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let quote = Quote::from_json(purchase).map_err(|e| to_py(&e))?;
            let outcome = lock(&self.book)
                .quote_order(&quote)
                .map_err(|e| to_py(&e))?;
            to_object(py, &outcome)
        })
    }

    /// A member's balance.
    fn balance<'py>(&self, py: Python<'py>, member: &str) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let balance = lock(&self.book)
                .balance(&MemberId::new(member))
                .map_err(|e| to_py(&e))?;
            to_object(py, &balance)
        })
    }

    /// Every member's balance, sorted by member.
    fn balances<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| to_object(py, &lock(&self.book).balances()))
    }

    /// Tier progress of a member at an RFC 3339 instant (default: the book's clock).
    #[pyo3(signature = (member, at=None))]
    fn progress<'py>(
        &self,
        py: Python<'py>,
        member: &str,
        at: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let book = lock(&self.book);
            let at = match at {
                Some(t) => t
                    .parse()
                    .map_err(|e| raise("invalid_event", &format!("at \"{t}\": {e}")))?,
                None => book.clock().ok_or_else(|| {
                    raise("invalid_event", "the book has no events yet; give `at`")
                })?,
            };
            let progress = book
                .progress(&MemberId::new(member), at)
                .map_err(|e| to_py(&e))?;
            to_object(py, &progress)
        })
    }

    /// Program-wide account totals.
    fn totals<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| to_object(py, &lock(&self.book).totals()))
    }

    /// The book's clock (RFC 3339), or None before any event.
    fn clock(&self) -> Option<String> {
        lock(&self.book)
            .clock()
            .map(|c| c.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    }

    /// SHA-256 of the canonical state.
    fn digest(&self) -> PyResult<String> {
        guard(|| lock(&self.book).digest().map_err(|e| to_py(&e)))
    }

    /// The book as bytes.
    fn snapshot<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        guard(|| {
            let bytes = py
                .detach(|| lock(&self.book).snapshot())
                .map_err(|e| to_py(&e))?;
            Ok(PyBytes::new(py, &bytes))
        })
    }

    /// A book from snapshot bytes taken under the same program.
    #[staticmethod]
    fn restore(py: Python<'_>, program: &PyProgram, data: &[u8]) -> PyResult<Self> {
        guard(|| {
            let program = &program.program;
            let book = py
                .detach(|| Book::restore(program, data))
                .map_err(|e| to_py(&e))?;
            Ok(PyBook {
                book: Mutex::new(book),
            })
        })
    }

    /// Checks the invariants; raises InconsistentState with what is broken.
    fn verify(&self) -> PyResult<()> {
        guard(|| lock(&self.book).verify().map_err(|e| to_py(&e)))
    }
}

/// Replays many events into a book and gathers outcomes, postings and balances as Arrow tables.
#[pyclass(name = "Replayer", module = "pointbook._native", frozen)]
struct PyReplayer {
    state: Mutex<tables::Replay>,
}

#[pymethods]
impl PyReplayer {
    #[new]
    fn new(program: &PyProgram) -> Self {
        PyReplayer {
            state: Mutex::new(tables::Replay::new(Book::new(program.program.clone()))),
        }
    }

    /// Applies every row of an Arrow table, batch or stream (anything exporting
    /// `__arrow_c_stream__` or `__arrow_c_array__`), with the GIL released. Returns the rows read.
    fn feed_arrow(&self, py: Python<'_>, data: AnyRecordBatch) -> PyResult<usize> {
        guard(|| {
            let reader = data.into_reader()?;
            let result = py.detach(|| -> Result<usize, String> {
                let mut state = lock(&self.state);
                let mut rows = 0;
                for batch in reader {
                    let batch = batch.map_err(|e| e.to_string())?;
                    rows += arrow_events::each_slice(&batch, |events| {
                        for event in events {
                            state.apply(event);
                        }
                    })?;
                }
                Ok(rows)
            });
            result.map_err(|m| raise("invalid_event", &m))
        })
    }

    /// Applies events given as JSON texts, with the GIL released. Returns how many.
    fn feed_json(&self, py: Python<'_>, events: Vec<String>) -> PyResult<usize> {
        guard(|| {
            Ok(py.detach(|| {
                let mut state = lock(&self.state);
                for text in &events {
                    state.apply(Event::from_json(text));
                }
                events.len()
            }))
        })
    }

    /// (balances, outcomes, postings, effects) as Arrow tables.
    fn tables(&self, py: Python<'_>) -> PyResult<(PyTable, PyTable, PyTable, PyTable)> {
        guard(|| {
            let built = py.detach(|| lock(&self.state).tables());
            built.map_err(|e| raise("internal", &e.to_string()))
        })
    }

    /// A copy of the book as replayed so far.
    fn book(&self) -> PyBook {
        PyBook {
            book: Mutex::new(lock(&self.state).book().clone()),
        }
    }
}

/// Replays events into a book of its own and accumulates loyalty analytics.
#[pyclass(name = "Analyzer", module = "pointbook._native", frozen)]
struct PyAnalyzer {
    /// `None` once finished.
    state: Mutex<Option<Analyzer>>,
}

/// A finished analysis.
#[pyclass(name = "Analysis", module = "pointbook._native", frozen)]
struct PyAnalysis {
    analysis: Analysis,
}

impl PyAnalyzer {
    fn with<T>(&self, f: impl FnOnce(&mut Analyzer) -> T) -> PyResult<T> {
        match lock(&self.state).as_mut() {
            Some(a) => Ok(f(a)),
            None => Err(raise("invalid_options", "this analyzer is finished")),
        }
    }
}

#[pymethods]
impl PyAnalyzer {
    #[new]
    #[pyo3(signature = (program, period="month", active_days=90, churn_percentile=90, as_of=None))]
    fn new(
        program: &PyProgram,
        period: &str,
        active_days: u32,
        churn_percentile: u32,
        as_of: Option<&str>,
    ) -> PyResult<Self> {
        guard(|| {
            let as_of = match as_of {
                Some(t) => Some(t.parse().map_err(|e| {
                    raise(
                        "invalid_options",
                        &format!("analytics option as_of: \"{t}\": {e}"),
                    )
                })?),
                None => None,
            };
            let options = Options {
                period: Options::period_named(period).map_err(|e| to_py(&e))?,
                active_days,
                churn_percentile,
                as_of,
            };
            let analyzer =
                Analyzer::new(program.program.clone(), options).map_err(|e| to_py(&e))?;
            Ok(PyAnalyzer {
                state: Mutex::new(Some(analyzer)),
            })
        })
    }

    /// Applies every row of an Arrow table, batch or stream, with the GIL released. Rows that
    /// cannot be read count as rejected events. Returns the rows read.
    fn feed_arrow(&self, py: Python<'_>, data: AnyRecordBatch) -> PyResult<usize> {
        guard(|| {
            let reader = data.into_reader()?;
            py.detach(|| {
                self.with(|a| -> Result<usize, String> {
                    let mut rows = 0;
                    for batch in reader {
                        let batch = batch.map_err(|e| e.to_string())?;
                        rows += arrow_events::each_slice(&batch, |events| {
                            for event in events {
                                let _ = a.apply_read(event);
                            }
                        })?;
                    }
                    Ok(rows)
                })
            })?
            .map_err(|m| raise("invalid_event", &m))
        })
    }

    /// Applies events given as JSON texts, with the GIL released. Returns how many.
    fn feed_json(&self, py: Python<'_>, events: Vec<String>) -> PyResult<usize> {
        guard(|| {
            py.detach(|| {
                self.with(|a| {
                    for text in &events {
                        let _ = a.apply_json(text);
                    }
                    events.len()
                })
            })
        })
    }

    /// Brings the book up to the analysis instant and returns the analysis.
    fn finish(&self, py: Python<'_>) -> PyResult<PyAnalysis> {
        guard(|| {
            let analyzer = lock(&self.state)
                .take()
                .ok_or_else(|| raise("invalid_options", "this analyzer is finished"))?;
            Ok(PyAnalysis {
                analysis: py.detach(|| analyzer.finish()),
            })
        })
    }
}

#[pymethods]
impl PyAnalysis {
    /// The analysis as JSON (the same document as `pointbook analyze`).
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        guard(|| py.detach(|| json(&self.analysis)))
    }
}

/// Compares two analyses of the same history (JSON, as `pointbook compare --json`).
#[pyfunction]
fn compare_json(a: &PyAnalysis, b: &PyAnalysis, top: usize) -> PyResult<String> {
    guard(|| json(&analytics::compare(&a.analysis, &b.analysis, top)))
}

/// The generator's settings for `generate`.
fn synth_config(members: usize, events: usize, seed: u64, days: u32) -> pointbook_synth::Config {
    pointbook_synth::Config {
        members,
        events,
        seed,
        days,
        ..Default::default()
    }
}

/// A deterministic synthetic history (JSON Lines) for a program.
#[pyfunction]
#[pyo3(signature = (program, members, events, seed, days=730))]
fn generate_jsonl(
    py: Python<'_>,
    program: &PyProgram,
    members: usize,
    events: usize,
    seed: u64,
    days: u32,
) -> PyResult<String> {
    guard(|| {
        let config = synth_config(members, events, seed, days);
        Ok(py.detach(|| {
            pointbook_synth::to_jsonl(&pointbook_synth::generate(&program.program, &config))
        }))
    })
}

/// A deterministic synthetic history as an Arrow table of `EVENT_SCHEMA`, built in Rust.
#[pyfunction]
#[pyo3(signature = (program, members, events, seed, days=730))]
fn generate_table(
    py: Python<'_>,
    program: &PyProgram,
    members: usize,
    events: usize,
    seed: u64,
    days: u32,
) -> PyResult<PyTable> {
    guard(|| {
        let config = synth_config(members, events, seed, days);
        let batch = py.detach(|| {
            event_table::events_batch(&pointbook_synth::generate(&program.program, &config))
        });
        let batch = batch.map_err(|e| raise("internal", &e.to_string()))?;
        let schema = batch.schema();
        PyTable::try_new(vec![batch], schema)
    })
}

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyProgram>()?;
    m.add_class::<PyBook>()?;
    m.add_class::<PyReplayer>()?;
    m.add_class::<PyAnalyzer>()?;
    m.add_class::<PyAnalysis>()?;
    m.add_class::<store::PyStore>()?;
    m.add_function(wrap_pyfunction!(compare_json, m)?)?;
    m.add_function(wrap_pyfunction!(generate_jsonl, m)?)?;
    m.add_function(wrap_pyfunction!(generate_table, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("BEAN_AND_LEAF", pointbook::samples::BEAN_AND_LEAF)?;
    Ok(())
}

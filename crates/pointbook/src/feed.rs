//! Histories as they arrive: JSON Lines (docs/semantics.md §12, one event per line) read in chunks of
//! bytes as they come from a file, a pipe or a buffer handed over by C or Python, never the
//! whole history at once; and a batch of events, some of which could not be read, applied in
//! order. The CLI, the C library and the Python package all feed a book through here.
//!
//! A line is trimmed of the end-of-line (`\n` or `\r\n`); blank lines are skipped; a
//! byte-order mark before the first line is ignored. A line that is not UTF-8 or not an event
//! is rejected with its line number, and the lines after it go on.

use crate::book::Book;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::outcome::Outcome;

/// The UTF-8 byte-order mark some editors write at the start of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One non-blank line of a history: its 1-based number and its text, unless it is not UTF-8.
#[derive(Clone, Debug, PartialEq)]
pub struct Line<'a> {
    /// The line number, 1-based, blank lines counted.
    pub number: usize,
    text: std::result::Result<&'a str, usize>,
}

impl<'a> Line<'a> {
    /// Line `number` as read (its `\n` gone): its `\r` dropped, and a byte-order mark on the
    /// first; `None` if it is blank.
    fn read(number: usize, raw: &'a [u8]) -> Option<Line<'a>> {
        let mut bytes = raw.strip_suffix(b"\r").unwrap_or(raw);
        if number == 1 {
            bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        let text = std::str::from_utf8(bytes).map_err(|e| e.valid_up_to());
        Some(Line { number, text })
    }

    /// The line's text (`None`: it is not UTF-8).
    pub fn text(&self) -> Option<&'a str> {
        self.text.ok()
    }

    /// The event on the line.
    ///
    /// ```
    /// let lines = pointbook::feed::lines(b"\n{\"type\":\"advance\",\"id\":\"t1\",\"at\":\"2027-06-01T04:00:00Z\"}\nnot json\n");
    /// assert_eq!(lines.len(), 2);
    /// assert_eq!((lines[0].number, lines[0].event()?.kind()), (2, "advance"));
    /// assert_eq!(lines[1].event().unwrap_err().code(), "invalid_event");
    /// # Ok::<(), pointbook::Error>(())
    /// ```
    pub fn event(&self) -> Result<Event> {
        match self.text {
            Ok(text) => Event::from_json(text),
            Err(at) => Err(Error::InvalidEvent {
                event: "?".into(),
                message: format!("line {}: not UTF-8 (byte {})", self.number, at + 1),
            }),
        }
    }
}

/// Splits a stream of bytes, given in chunks of any size, into lines.
///
/// ```
/// use pointbook::feed::Lines;
/// let mut lines = Lines::default();
/// let mut seen = Vec::new();
/// for chunk in [&b"\xEF\xBB\xBFone\r\ntw"[..], b"o\n\nthree"] {
///     lines.push(chunk, &mut |l| seen.push((l.number, l.text().map(str::to_owned))));
/// }
/// lines.finish(&mut |l| seen.push((l.number, l.text().map(str::to_owned))));
/// let want = [(1, "one"), (2, "two"), (4, "three")];
/// assert_eq!(seen, want.map(|(n, t)| (n, Some(t.to_owned()))));
/// ```
#[derive(Debug, Default)]
pub struct Lines {
    /// The start of a line whose end has not come yet.
    pending: Vec<u8>,
    /// Lines ended so far.
    ended: usize,
}

impl Lines {
    /// Takes the next chunk of bytes and hands `each` every non-blank line it completes.
    pub fn push(&mut self, chunk: &[u8], each: &mut dyn FnMut(Line<'_>)) {
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            let (head, tail) = rest.split_at(end);
            rest = tail.get(1..).unwrap_or_default();
            if self.pending.is_empty() {
                self.end_line(head, each);
            } else {
                let mut line = std::mem::take(&mut self.pending);
                line.extend_from_slice(head);
                self.end_line(&line, each);
            }
        }
        self.pending.extend_from_slice(rest);
    }

    /// The end of the input: hands `each` the last line if it had no end-of-line.
    pub fn finish(&mut self, each: &mut dyn FnMut(Line<'_>)) {
        let last = std::mem::take(&mut self.pending);
        if !last.is_empty() {
            self.end_line(&last, each);
        }
    }

    fn end_line(&mut self, bytes: &[u8], each: &mut dyn FnMut(Line<'_>)) {
        self.ended += 1;
        if let Some(line) = Line::read(self.ended, bytes) {
            each(line);
        }
    }
}

/// Every non-blank line of a whole history held in memory.
pub fn lines(bytes: &[u8]) -> Vec<Line<'_>> {
    bytes
        .split(|b| *b == b'\n')
        .enumerate()
        .filter_map(|(i, raw)| Line::read(i + 1, raw))
        .collect()
}

/// Every event of a whole history held in memory, parsed on up to `threads` threads, in line
/// order: each with its line number, or why it could not be read.
pub fn events(bytes: &[u8], threads: usize) -> Vec<(usize, Result<Event>)> {
    let lines = lines(bytes);
    let chunk = lines.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = lines
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|l| (l.number, l.event()))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        // Parsing does not panic; were it to, the panic goes on to the caller rather than
        // events silently missing.
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// A rejected line, as the CLI reports it on standard error: the event's id (`?` when it
/// could not be read), the line number and the error.
#[derive(Clone, Debug, PartialEq)]
pub struct Rejection {
    /// The event's id, or `?`.
    pub id: String,
    /// The 1-based line number.
    pub line: usize,
    /// Why the event was rejected.
    pub error: Error,
}

impl Rejection {
    /// The rejection of line `line`, whose text was `text` (if it was UTF-8).
    pub fn new(line: usize, text: Option<&str>, error: Error) -> Rejection {
        let id = match &error {
            Error::InvalidEvent { event, .. } => event.clone(),
            _ => text
                .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
                .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_owned))
                .unwrap_or_else(|| "?".into()),
        };
        Rejection { id, line, error }
    }

    /// One JSON line: `{"id":"p4","line":7,"error":{"code":"invalid_event","message":"..."}}`.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "id": self.id,
            "line": self.line,
            "error": {"code": self.error.code(), "message": self.error.to_string()},
        })
        .to_string()
    }
}

/// One entry of a batch as applied: the event, if it could be read, and what applying it did.
pub type Applied = (Option<Event>, Result<Outcome>);

/// Applies a batch of events in order, some of which could not be read (they stay rejected
/// with their error). A book that has seen no event yet replays the batch on up to `threads`
/// threads ([`crate::parallel`]); each result is still what one thread would have returned.
pub fn apply_all(book: &mut Book, batch: Vec<Result<Event>>, threads: usize) -> Vec<Applied> {
    let fresh = book.clock().is_none() && book.member_count() == 0;
    if !fresh || threads <= 1 {
        return batch
            .into_iter()
            .map(|e| match e {
                Ok(e) => {
                    let r = book.apply(&e);
                    (Some(e), r)
                }
                Err(err) => (None, Err(err)),
            })
            .collect();
    }
    let mut read = Vec::with_capacity(batch.len());
    let mut unreadable = Vec::with_capacity(batch.len());
    for e in batch {
        match e {
            Ok(e) => {
                read.push(e);
                unreadable.push(None);
            }
            Err(err) => unreadable.push(Some(err)),
        }
    }
    let replay = crate::parallel::replay_with_outcomes(book.program(), &read, threads);
    *book = replay.book;
    let mut results = read.into_iter().zip(replay.outcomes);
    unreadable
        .into_iter()
        .filter_map(|err| match err {
            Some(err) => Some((None, Err(err))),
            None => results.next().map(|(e, r)| (Some(e), r)),
        })
        .collect()
}

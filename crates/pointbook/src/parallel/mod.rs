//! Parallel replay: members are independent except through transfers and referrals, so a
//! history splits into groups of linked members, each replayed on its own thread into its own
//! book (every `advance` goes to every group), and the books merge into exactly the book a
//! single thread would have built: the same state, the same digest.
//!
//! Where exactness cannot be shown cheaply the replay falls back to one thread and says so:
//! a program with a global reward stock (a redemption in one group depends on all others), an
//! event id used by two groups, or an enrollment or advance rejected as late. (Those two are the
//! only events checked against the whole book's clock. A shard checks them against the latest
//! instant of any earlier event, accepted or not, which is never earlier than the book's
//! clock; so whatever passes there passes in a single-threaded replay too, and only a
//! rejection needs a second look.)
//!
//! ```
//! use pointbook::{parallel, Book, Event, Program};
//!
//! let program = Program::from_toml(pointbook::samples::BEAN_AND_LEAF)?;
//! let events: Vec<Event> = [
//!     r#"{"type":"enroll","id":"e1","member":"a","at":"2026-01-10T15:00:00Z"}"#,
//!     r#"{"type":"enroll","id":"e2","member":"b","at":"2026-01-11T15:00:00Z"}"#,
//!     r#"{"type":"advance","id":"t1","at":"2027-02-01T00:00:00Z"}"#,
//! ]
//! .iter()
//! .map(|e| Event::from_json(e))
//! .collect::<Result<_, _>>()?;
//! let replay = parallel::replay(&program, &events, 2);
//! let mut book = Book::new(program);
//! for e in &events {
//!     let _ = book.apply(e);
//! }
//! assert_eq!(replay.book.digest(), book.digest());
//! assert_eq!((replay.rejected, replay.threads), (0, 2));
//! # Ok::<(), pointbook::Error>(())
//! ```

use crate::book::Book;
use crate::event::Event;
use crate::ids::{EventId, MemberId};
use crate::instant::Instant;
use crate::program::Program;
use crate::{Error, Outcome, Result};
use groups::Groups;
use std::collections::HashMap;

mod groups;
mod lines;

pub use lines::{replay_lines, LinesReplay, Read};

/// The result of a parallel replay.
#[derive(Debug)]
pub struct Replay {
    /// The book, identical to a single-threaded replay's.
    pub book: Book,
    /// How many events were rejected.
    pub rejected: usize,
    /// Threads actually used (1 when the replay fell back to one thread).
    pub threads: usize,
    /// Why it fell back to one thread, if it did.
    pub fallback: Option<&'static str>,
    /// With [`replay_with_outcomes`]: each event's result, in history order, equal to what
    /// [`Book::apply`] returned for it one by one. Empty otherwise.
    pub outcomes: Vec<Result<Outcome>>,
}

/// Replays `events` in order on up to `threads` threads; the book equals the one
/// [`Book::apply`] would build event by event.
pub fn replay(program: &Program, events: &[Event], threads: usize) -> Replay {
    run(program, events, threads, false)
}

/// [`replay`], also keeping every event's result (for per-event output).
pub fn replay_with_outcomes(program: &Program, events: &[Event], threads: usize) -> Replay {
    run(program, events, threads, true)
}

fn run(program: &Program, events: &[Event], threads: usize, keep: bool) -> Replay {
    let sequential = |why| sequential(program, events, why, keep);
    if threads <= 1 {
        return sequential(None);
    }
    if let Some(why) = needs_one_thread(program) {
        return sequential(Some(why));
    }
    let shards = partition(events, threads);
    if shards.len() <= 1 {
        return sequential(None);
    }
    // The clock each event is checked against: the latest instant before it in the history.
    let mut hints = Vec::with_capacity(events.len());
    let mut latest: Option<Instant> = None;
    for e in events {
        hints.push(latest);
        latest = Some(latest.map_or(e.at(), |l| l.max(e.at())));
    }
    let results: Vec<Option<Shard>> = std::thread::scope(|scope| {
        let handles: Vec<_> = shards
            .iter()
            .map(|indices| {
                let hints = &hints;
                scope.spawn(move || {
                    let mut shard = Shard::new(program, keep);
                    for &i in indices {
                        let (event, hint) = (events.get(i)?, *hints.get(i)?);
                        shard.apply(i, event, hint)?;
                    }
                    Some(shard)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().ok().flatten())
            .collect()
    });
    let merged = match merge(program, results) {
        Ok(merged) => merged,
        Err(why) => return sequential(Some(why)),
    };
    let book = merged.book;
    let mut outcomes: Vec<Option<Result<Outcome>>> = Vec::new();
    if keep {
        outcomes.resize_with(events.len(), || None);
        for (i, r) in merged.results {
            // An advance's result is taken once, from the merged book, below.
            if let Some(slot) = outcomes.get_mut(i) {
                if slot.is_none() {
                    *slot = Some(r);
                }
            }
        }
    }
    let mut results = Vec::with_capacity(outcomes.len());
    // The book's clock as one thread would have it before each event: the latest instant of
    // the events applied so far.
    let mut clock: Option<Instant> = None;
    for (event, slot) in events.iter().zip(outcomes) {
        let Some(mut r) = slot else {
            return sequential(Some("an event's result is missing"));
        };
        // An advance's reply holds only its thread's members: take the merged book's.
        if let (Ok(o), Event::Advance(_)) = (&mut r, event) {
            let merged = if o.duplicate {
                book.reply_to_resend(event, clock).and_then(|r| r.ok())
            } else {
                book.recorded_outcome(event.id())
            };
            match merged {
                Some(merged) => *o = merged,
                None => return sequential(Some("an advance's outcome is missing")),
            }
        }
        if let Ok(o) = &r {
            if !o.duplicate {
                clock = Some(clock.map_or(event.at(), |c| c.max(event.at())));
            }
        }
        results.push(r);
    }
    Replay {
        book,
        rejected: merged.rejected,
        threads: merged.threads,
        fallback: None,
        outcomes: results,
    }
}

/// Why a program must be replayed on one thread, if it must: a reward's global stock makes a
/// redemption in one group depend on all the others.
fn needs_one_thread(program: &Program) -> Option<&'static str> {
    program
        .spec()
        .rewards
        .iter()
        .any(|r| r.stock.is_some())
        .then_some("a reward has a global stock")
}

/// The shards' books merged into one.
struct Merged {
    book: Book,
    /// Rejected events, each advance counted once.
    rejected: usize,
    threads: usize,
    /// The shards' kept results by event index (an advance's once per shard).
    results: Vec<(usize, Result<Outcome>)>,
}

/// Merges what the shards built into the book one thread would have built, or says why it
/// cannot (then the history is replayed on one thread).
fn merge(
    program: &Program,
    shards: Vec<Option<Shard>>,
) -> std::result::Result<Merged, &'static str> {
    let mut books = Vec::with_capacity(shards.len());
    let mut advances: HashMap<EventId, Vec<Outcome>> = HashMap::new();
    let mut rejected = 0;
    let mut advances_rejected: Option<Vec<usize>> = None;
    let mut results = Vec::new();
    for shard in shards {
        let Some(shard) = shard else {
            return Err("an enrollment or advance was late");
        };
        // Advances went to every shard: they must fare the same in each, and count once.
        match &advances_rejected {
            None => {
                rejected += shard.advances_rejected.len();
                advances_rejected = Some(shard.advances_rejected);
            }
            Some(first) if *first != shard.advances_rejected => {
                return Err("an advance fared differently");
            }
            Some(_) => {}
        }
        rejected += shard.rejected;
        for o in shard.advances {
            advances.entry(o.event.clone()).or_default().push(o);
        }
        results.extend(shard.results);
        books.push(shard.book);
    }
    let threads = books.len();
    let book = Book::merge(program.clone(), books, advances)
        .ok_or("an event id is used in two member groups")?;
    Ok(Merged {
        book,
        rejected,
        threads,
        results,
    })
}

fn sequential(
    program: &Program,
    events: &[Event],
    fallback: Option<&'static str>,
    keep: bool,
) -> Replay {
    let mut book = Book::new(program.clone());
    let mut rejected = 0;
    let mut outcomes = Vec::new();
    for e in events {
        let r = book.apply(e);
        rejected += usize::from(r.is_err());
        if keep {
            outcomes.push(r);
        }
    }
    Replay {
        book,
        rejected,
        threads: 1,
        fallback,
        outcomes,
    }
}

/// What one thread built.
struct Shard {
    book: Book,
    /// Whether each event's result is kept.
    keep: bool,
    /// Rejected member events.
    rejected: usize,
    /// Indices of the rejected advances.
    advances_rejected: Vec<usize>,
    /// Outcomes of the advances applied (for the merge).
    advances: Vec<Outcome>,
    /// Each event's result by index, when kept.
    results: Vec<(usize, Result<Outcome>)>,
}

impl Shard {
    fn new(program: &Program, keep: bool) -> Shard {
        Shard {
            book: Book::new(program.clone()),
            keep,
            rejected: 0,
            advances_rejected: Vec::new(),
            advances: Vec::new(),
            results: Vec::new(),
        }
    }

    /// Applies event `i` of the history, checking a late enrollment or advance against `hint`
    /// (the latest instant before it in the history). `None` when one was rejected as late:
    /// against the whole book's clock it might have passed.
    fn apply(&mut self, i: usize, event: &Event, hint: Option<Instant>) -> Option<()> {
        let result: Result<Outcome> = self.book.apply_checked_against(event, hint);
        if let (Ok(o), Event::Advance(_)) = (&result, event) {
            if !o.duplicate {
                if self.keep {
                    // A placeholder: the merged outcome replaces it.
                    let placeholder = Outcome {
                        postings: Vec::new(),
                        effects: Vec::new(),
                        explanation: Vec::new(),
                        discount: None,
                        event: o.event.clone(),
                        kind: o.kind.clone(),
                        at: o.at,
                        duplicate: false,
                        points: o.points,
                    };
                    self.results.push((i, Ok(placeholder)));
                }
                self.advances.extend(result.ok());
                return Some(());
            }
        }
        if let Err(e) = &result {
            let checked_against_book = matches!(event, Event::Enroll(_) | Event::Advance(_));
            if checked_against_book && matches!(e, Error::LateEvent { .. }) {
                return None;
            }
            match event {
                Event::Advance(_) => self.advances_rejected.push(i),
                _ => self.rejected += 1,
            }
        }
        if self.keep {
            self.results.push((i, result));
        }
        Some(())
    }
}

/// Groups of linked members (transfers and referrals), spread over at most `threads` shards
/// by event count; each shard lists its events' indices in history order, advances in every
/// shard.
fn partition(events: &[Event], threads: usize) -> Vec<Vec<usize>> {
    let mut groups: Groups<&MemberId> = Groups::new();
    let mut owner: Vec<Option<u32>> = Vec::with_capacity(events.len());
    for e in events {
        let me = e.member().and_then(|m| groups.node(m));
        if let Some(n) = me {
            groups.count(n);
        }
        let other = match e {
            Event::Transfer(t) => Some(&t.to),
            Event::Enroll(en) => en.referred_by.as_ref(),
            _ => None,
        };
        if let (Some(a), Some(b)) = (me, other.and_then(|o| groups.node(o))) {
            groups.link(a, b);
        }
        owner.push(me);
    }
    let (shard_of, shards) = groups.assign(threads);
    let mut out = vec![Vec::new(); shards];
    for (i, n) in owner.iter().enumerate() {
        match n.and_then(|n| shard_of.get(n as usize)) {
            Some(s) => {
                if let Some(shard) = out.get_mut(usize::from(*s)) {
                    shard.push(i);
                }
            }
            None => out.iter_mut().for_each(|shard| shard.push(i)),
        }
    }
    out
}

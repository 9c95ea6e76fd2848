//! A parallel replay of JSON Lines that never holds the parsed history: the history is read
//! twice, in chunks, from wherever the caller keeps it.
//!
//! The first reading takes from each line only what the split needs (the members it links
//! and its instant) to group linked members and spread the groups over threads. The second
//! hands each line's text to the thread of its group, which parses and applies it; advances go
//! to every thread. The books merge as in [`super::replay`]. Each thread checks that the event
//! it parsed belongs where the first reading sent it; where the two readings disagree, or
//! where the split cannot be shown exact, the history is read a third time and replayed on one
//! thread, and the replay says why.

use super::{merge, needs_one_thread, Groups, Shard};
use crate::book::Book;
use crate::error::Error;
use crate::event::Event;
use crate::feed::{Line, Lines};
use crate::instant::Instant;
use crate::program::Program;
use serde::Deserialize;
use std::borrow::Cow;
use std::sync::mpsc;

/// A line's text, in bytes, handed to a thread in batches of about this size.
const BATCH: usize = 1 << 18;
/// Batches waiting for each thread: what bounds the memory of the second reading.
const QUEUED: usize = 4;

/// What [`replay_lines`] reads the history with: it hands every chunk, in order, to the
/// function it is given.
pub type Read<'a, E> = dyn FnMut(&mut dyn FnMut(&[u8])) -> std::result::Result<(), E> + 'a;

/// The result of [`replay_lines`].
#[derive(Debug)]
pub struct LinesReplay {
    /// The book, identical to a single-threaded replay's.
    pub book: Book,
    /// Non-blank lines read.
    pub lines: usize,
    /// Lines rejected: not an event, or an event the book rejected.
    pub rejected: usize,
    /// The lines that are not events, by line number, with why.
    pub unreadable: Vec<(usize, Error)>,
    /// Threads actually used (1 when the replay fell back to one thread).
    pub threads: usize,
    /// Why it fell back to one thread, if it did.
    pub fallback: Option<&'static str>,
}

/// Replays a JSON Lines history ([`crate::feed`]) on up to `threads` threads without holding
/// its events: `read` feeds the whole history, from its first byte, in chunks of any size,
/// each time it is called (two or three times), and its error ends the replay. The book equals
/// the one [`Book::apply`] builds line by line.
///
/// ```
/// use pointbook::{parallel, Book, Program};
///
/// let program = Program::from_toml(pointbook::samples::BEAN_AND_LEAF)?;
/// let history = concat!(
///     r#"{"type":"enroll","id":"e1","member":"a","at":"2026-01-10T15:00:00Z"}"#, "\n",
///     r#"{"type":"enroll","id":"e2","member":"b","at":"2026-01-11T15:00:00Z"}"#, "\n",
///     "not an event\n",
///     r#"{"type":"advance","id":"t1","at":"2027-02-01T00:00:00Z"}"#, "\n",
/// );
/// let r = parallel::replay_lines(&program, 2, &mut |each: &mut dyn FnMut(&[u8])| {
///     history.as_bytes().chunks(7).for_each(|c| each(c));
///     Ok::<(), std::io::Error>(())
/// })?;
/// let mut book = Book::new(program);
/// for line in pointbook::feed::lines(history.as_bytes()) {
///     let _ = line.event().and_then(|e| book.apply(&e));
/// }
/// assert_eq!(r.book.digest(), book.digest());
/// assert_eq!((r.lines, r.rejected, r.threads), (4, 1, 2));
/// assert_eq!(r.unreadable[0].0, 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn replay_lines<E>(
    program: &Program,
    threads: usize,
    read: &mut Read<'_, E>,
) -> std::result::Result<LinesReplay, E> {
    if threads <= 1 {
        return sequential(program, read, None);
    }
    if let Some(why) = needs_one_thread(program) {
        return sequential(program, read, Some(why));
    }
    let split = Split::read(read, threads)?;
    if split.shards <= 1 {
        return sequential(program, read, None);
    }
    let (shards, lines) = split.replay(program, read)?;
    let shards = match shards {
        Ok(_) if lines != split.lines => Err("the history read differently the second time"),
        other => other,
    };
    let shards = match shards {
        Ok(shards) => shards,
        Err(why) => return sequential(program, read, Some(why)),
    };
    let mut unreadable = split.unreadable;
    let mut results = Vec::with_capacity(shards.len());
    for (shard, bad) in shards {
        unreadable.extend(bad);
        results.push(Some(shard));
    }
    let merged = match merge(program, results) {
        Ok(merged) => merged,
        Err(why) => return sequential(program, read, Some(why)),
    };
    unreadable.sort_by_key(|(line, _)| *line);
    Ok(LinesReplay {
        book: merged.book,
        lines: split.lines,
        rejected: merged.rejected + unreadable.len(),
        unreadable,
        threads: merged.threads,
        fallback: None,
    })
}

/// One thread, one reading.
fn sequential<E>(
    program: &Program,
    read: &mut Read<'_, E>,
    fallback: Option<&'static str>,
) -> std::result::Result<LinesReplay, E> {
    let mut book = Book::new(program.clone());
    let (mut lines, mut rejected, mut unreadable) = (0, 0, Vec::new());
    let mut each = |line: Line<'_>| {
        lines += 1;
        let result = match line.event() {
            Ok(e) => book.apply(&e).map(|_| ()),
            Err(e) => {
                unreadable.push((line.number, e));
                Ok(())
            }
        };
        rejected += usize::from(result.is_err());
    };
    let mut split = Lines::default();
    read(&mut |chunk| split.push(chunk, &mut each))?;
    split.finish(&mut each);
    rejected += unreadable.len();
    Ok(LinesReplay {
        book,
        lines,
        rejected,
        unreadable,
        threads: 1,
        fallback,
    })
}

/// What the first reading needs of a line: the members it links and its instant. Other fields
/// are skipped unread.
#[derive(Deserialize)]
struct Links<'a> {
    #[serde(borrow, default)]
    member: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    to: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    referred_by: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "crate::instant::rfc3339::deserialize")]
    at: Instant,
}

/// Where the second reading sends a non-blank line.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Route {
    /// To the thread of this member's group.
    Member(u32),
    /// To every thread (an event of no member: an advance).
    Every,
    /// Nowhere: not an event (already in `unreadable`).
    Nowhere,
}

/// The first reading: groups of linked members, and per non-blank line its route and the
/// latest instant before it.
struct Split {
    groups: Groups<Box<str>>,
    /// The shard of each member node.
    shard_of: Vec<u16>,
    shards: usize,
    routes: Vec<Route>,
    hints: Vec<Option<Instant>>,
    unreadable: Vec<(usize, Error)>,
    lines: usize,
}

impl Split {
    fn read<E>(read: &mut Read<'_, E>, threads: usize) -> std::result::Result<Split, E> {
        let mut split = Split {
            groups: Groups::new(),
            shard_of: Vec::new(),
            shards: 0,
            routes: Vec::new(),
            hints: Vec::new(),
            unreadable: Vec::new(),
            lines: 0,
        };
        let mut latest: Option<Instant> = None;
        let mut each = |line: Line<'_>| {
            split.lines += 1;
            split.hints.push(latest);
            let route = split.route(&line, &mut latest);
            split.routes.push(route);
        };
        let mut lines = Lines::default();
        read(&mut |chunk| lines.push(chunk, &mut each))?;
        lines.finish(&mut each);
        (split.shard_of, split.shards) = split.groups.assign(threads);
        Ok(split)
    }

    /// Where `line` goes, with its instant taken into `latest`. A line whose links cannot be
    /// read quickly is parsed in full; a line that is not an event goes nowhere and moves no
    /// clock (as in a replay on one thread). A line read here but rejected in full later may
    /// have moved `latest` past the book's clock: a later enrollment or advance checked
    /// against it can only be rejected where one thread would accept it, and a rejection as
    /// late sends the whole history to one thread.
    fn route(&mut self, line: &Line<'_>, latest: &mut Option<Instant>) -> Route {
        let links = line
            .text()
            .and_then(|t| serde_json::from_str::<Links>(t).ok());
        let (member, other, at) = match &links {
            Some(l) => (
                l.member.as_deref(),
                l.to.as_deref().or(l.referred_by.as_deref()),
                l.at,
            ),
            None => match line.event() {
                Err(e) => {
                    self.unreadable.push((line.number, e));
                    return Route::Nowhere;
                }
                // Parsed in full, the event is read again by its thread: a rare line (one
                // serde's borrowed fields could not take).
                Ok(event) => return self.route_event(&event, latest),
            },
        };
        self.route_links(member, other, at, latest)
    }

    fn route_event(&mut self, event: &Event, latest: &mut Option<Instant>) -> Route {
        let other = match event {
            Event::Transfer(t) => Some(t.to.as_str()),
            Event::Enroll(en) => en.referred_by.as_ref().map(|r| r.as_str()),
            _ => None,
        };
        self.route_links(
            event.member().map(|m| m.as_str()),
            other,
            event.at(),
            latest,
        )
    }

    fn route_links(
        &mut self,
        member: Option<&str>,
        other: Option<&str>,
        at: Instant,
        latest: &mut Option<Instant>,
    ) -> Route {
        *latest = Some(latest.map_or(at, |l| l.max(at)));
        let Some(me) = member.and_then(|m| self.node(m)) else {
            return Route::Every;
        };
        self.groups.count(me);
        if let Some(o) = other.and_then(|o| self.node(o)) {
            self.groups.link(me, o);
        }
        Route::Member(me)
    }

    /// Member `m`'s node, added on first sight.
    fn node(&mut self, m: &str) -> Option<u32> {
        self.groups.find(m).or_else(|| self.groups.node(m.into()))
    }

    /// The shard of member `m`, if the first reading saw it.
    fn shard_of(&self, m: &str) -> Option<u16> {
        let n = self.groups.find(m)?;
        self.shard_of.get(n as usize).copied()
    }

    /// The second reading: each line to its shard's thread, parsed and applied there. The
    /// shards, or why one thread must replay the history; and how many lines were read.
    fn replay<E>(
        &self,
        program: &Program,
        read: &mut Read<'_, E>,
    ) -> std::result::Result<(Shards, usize), E> {
        std::thread::scope(|scope| {
            let mut senders = Vec::with_capacity(self.shards);
            let mut handles = Vec::with_capacity(self.shards);
            for me in 0..self.shards {
                let (tx, rx) = mpsc::sync_channel::<Batch>(QUEUED);
                senders.push(Some(tx));
                let me = u16::try_from(me).unwrap_or(u16::MAX);
                handles.push(scope.spawn(move || self.run_shard(program, me, rx)));
            }
            let mut pending: Vec<Batch> = (0..self.shards).map(|_| Batch::default()).collect();
            let mut ordinal = 0usize;
            let mut each = |line: Line<'_>| {
                let k = ordinal;
                ordinal += 1;
                let (Some(route), Some(hint)) = (self.routes.get(k), self.hints.get(k)) else {
                    return;
                };
                let text = line.text().unwrap_or_default();
                let every = *route == Route::Every;
                let mut put = |s: usize| {
                    if let Some(batch) = pending.get_mut(s) {
                        batch.push(Sent {
                            number: line.number,
                            every,
                            start: batch.text.len(),
                            end: batch.text.len() + text.len(),
                            hint: *hint,
                        });
                        batch.text.push_str(text);
                        if batch.text.len() >= BATCH {
                            send(&mut senders, s, std::mem::take(batch));
                        }
                    }
                };
                match route {
                    Route::Nowhere => {}
                    Route::Every => (0..self.shards).for_each(&mut put),
                    Route::Member(n) => {
                        let s = self.shard_of.get(*n as usize).copied().unwrap_or(0);
                        put(usize::from(s));
                    }
                }
            };
            let mut lines = Lines::default();
            let read_result = read(&mut |chunk| lines.push(chunk, &mut each));
            lines.finish(&mut each);
            for (s, batch) in pending.into_iter().enumerate() {
                send(&mut senders, s, batch);
            }
            // Closing the queues ends the threads.
            drop(senders);
            let shards = handles
                .into_iter()
                .map(|h| h.join().unwrap_or(Err("a replay thread stopped")))
                .collect::<std::result::Result<Vec<_>, _>>();
            read_result?;
            Ok((shards, ordinal))
        })
    }

    /// One thread of the second reading: parses and applies the lines sent to shard `me`.
    fn run_shard(
        &self,
        program: &Program,
        me: u16,
        batches: mpsc::Receiver<Batch>,
    ) -> std::result::Result<ShardLines, &'static str> {
        let mut shard = Shard::new(program, false);
        let mut unreadable = Vec::new();
        for batch in batches {
            for line in &batch.lines {
                let text = batch.text.get(line.start..line.end).unwrap_or_default();
                let event = match Event::from_json(text) {
                    Ok(event) => event,
                    Err(e) => {
                        // A line sent to every thread is reported by the first.
                        if me == 0 || !line.every {
                            unreadable.push((line.number, e));
                        }
                        continue;
                    }
                };
                if !self.belongs(&event, me) {
                    return Err("a line was read differently the second time");
                }
                // Line numbers index the history as event indices do in `super::replay`:
                // the same in every thread, in history order.
                if shard.apply(line.number, &event, line.hint).is_none() {
                    return Err("an enrollment or advance was late");
                }
            }
        }
        Ok((shard, unreadable))
    }

    /// Whether `event` is shard `me`'s: all of its members are, or it has none.
    fn belongs(&self, event: &Event, me: u16) -> bool {
        let other = match event {
            Event::Transfer(t) => Some(&t.to),
            Event::Enroll(en) => en.referred_by.as_ref(),
            _ => None,
        };
        [event.member(), other]
            .into_iter()
            .flatten()
            .all(|m| self.shard_of(m.as_str()) == Some(me))
    }
}

/// The shards of the second reading, each with its unreadable lines; or why one thread must
/// replay the history.
type Shards = std::result::Result<Vec<ShardLines>, &'static str>;

/// A shard of the second reading, with the lines its thread could not read.
type ShardLines = (Shard, Vec<(usize, Error)>);

/// Sends shard `s` a batch; a thread that stopped (its events cannot be replayed apart) takes
/// no more.
fn send(senders: &mut [Option<mpsc::SyncSender<Batch>>], s: usize, batch: Batch) {
    if let Some(slot) = senders.get_mut(s) {
        if slot.as_ref().is_some_and(|tx| tx.send(batch).is_err()) {
            *slot = None;
        }
    }
}

/// A line sent to a thread: its number, whether every thread got it, its place in the
/// batch's text, and the latest instant before it.
struct Sent {
    number: usize,
    every: bool,
    start: usize,
    end: usize,
    hint: Option<Instant>,
}

/// Lines for one thread: their text one after another.
#[derive(Default)]
struct Batch {
    text: String,
    lines: Vec<Sent>,
}

impl Batch {
    fn push(&mut self, line: Sent) {
        self.lines.push(line);
    }
}

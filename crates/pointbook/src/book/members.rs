//! The members a transaction changes, and the guard that puts them back unless the event is
//! committed.

use crate::error::{Error, Result};
use crate::ids::MemberId;
use crate::instant::Instant;
use crate::ledger::Journal;
use crate::map::Map;
use crate::member::{Member, NextDue};
use crate::program::Program;

/// The members of a book as a transaction changes them: the book's own, in place, each member
/// the event touches keeping an undo log; or copies made as the event touches them (a quote,
/// which changes nothing). Unless committed, dropping it puts every member of the book back as
/// it was: after a rejected event, and after a panic while applying one (the bindings catch
/// panics and go on with the book).
pub(crate) struct Members<'a> {
    source: Source<'a>,
    /// Members touched in place, each with an open undo log.
    pub touched: Vec<MemberId>,
    /// Members the event enrolled in place.
    enrolled: Vec<MemberId>,
    committed: bool,
}

enum Source<'a> {
    Book(&'a mut Map<MemberId, Box<Member>>),
    /// A quote's: the book, read only, and copies of the members the event touched.
    #[allow(clippy::vec_box)] // boxed as the book holds them: a copy is a clone of the box
    Copies(&'a Map<MemberId, Box<Member>>, Vec<Box<Member>>),
}

impl<'a> Members<'a> {
    /// A book's members, to change in place.
    pub fn in_place(book: &'a mut Map<MemberId, Box<Member>>) -> Self {
        Members::of(Source::Book(book))
    }

    /// Copies of a book's members, made as an event touches them; the book does not change.
    pub fn copies(book: &'a Map<MemberId, Box<Member>>) -> Self {
        Members::of(Source::Copies(book, Vec::new()))
    }

    fn of(source: Source<'a>) -> Self {
        Members {
            source,
            touched: Vec::new(),
            enrolled: Vec::new(),
            committed: false,
        }
    }

    pub fn contains(&self, id: &MemberId) -> bool {
        match &self.source {
            Source::Book(book) => book.contains_key(id),
            Source::Copies(book, copies) => {
                copies.iter().any(|m| m.id == *id) || book.contains_key(id)
            }
        }
    }

    /// A member as it stands in the transaction.
    #[cfg(test)]
    pub fn get(&self, id: &MemberId) -> Option<&Member> {
        match &self.source {
            Source::Book(book) => book.get(id).map(|m| &**m),
            Source::Copies(book, copies) => copies
                .iter()
                .find(|m| m.id == *id)
                .or_else(|| book.get(id))
                .map(|m| &**m),
        }
    }

    /// A member, to change (in place, its undo log opened when the event first touches it).
    pub fn touch(&mut self, j: &Journal, id: &MemberId) -> Result<&mut Member> {
        let unknown = || Error::UnknownMember {
            event: j.event_name(),
            member: id.to_string(),
        };
        match &mut self.source {
            Source::Book(book) => {
                let m = book.get_mut(id).ok_or_else(unknown)?;
                if m.begin_undo() {
                    self.touched.push(id.clone());
                }
                m.due = NextDue::UNKNOWN;
                Ok(m)
            }
            Source::Copies(book, copies) => {
                let i = match copies.iter().position(|m| m.id == *id) {
                    Some(i) => i,
                    None => {
                        copies.push(book.get(id).ok_or_else(unknown)?.clone());
                        copies.len() - 1
                    }
                };
                let m = copies.get_mut(i).ok_or_else(unknown)?;
                m.due = NextDue::UNKNOWN;
                Ok(m)
            }
        }
    }

    /// Two different members at once (a transfer), both touched.
    pub fn touch_two(
        &mut self,
        j: &Journal,
        a: &MemberId,
        b: &MemberId,
    ) -> Result<[&mut Member; 2]> {
        if a == b {
            return Err(j.invalid("a member cannot transfer to itself"));
        }
        self.touch(j, a)?;
        self.touch(j, b)?;
        let pair = match &mut self.source {
            Source::Book(book) => match book.get_disjoint_mut([a, b]) {
                [Some(x), Some(y)] => Some([&mut **x, &mut **y]),
                _ => None,
            },
            Source::Copies(_, copies) => {
                let mut found = copies.iter_mut().filter(|m| m.id == *a || m.id == *b);
                match (found.next(), found.next()) {
                    (Some(x), Some(y)) if x.id == *a => Some([&mut **x, &mut **y]),
                    (Some(y), Some(x)) => Some([&mut **x, &mut **y]),
                    _ => None,
                }
            }
        };
        pair.ok_or_else(|| Error::UnknownMember {
            event: j.event_name(),
            member: b.to_string(),
        })
    }

    /// Adds a member the event enrolls (removed again if the event is rejected).
    pub fn enroll(&mut self, j: &Journal, m: Box<Member>) -> Result<&mut Member> {
        if self.contains(&m.id) {
            return Err(Error::MemberExists {
                event: j.event_name(),
                member: m.id.to_string(),
            });
        }
        match &mut self.source {
            Source::Book(book) => {
                self.enrolled.push(m.id.clone());
                Ok(book.entry(m.id.clone()).or_insert(m))
            }
            Source::Copies(_, copies) => {
                let id = m.id.clone();
                copies.push(m);
                copies
                    .last_mut()
                    .map(|m| &mut **m)
                    .ok_or_else(|| Error::UnknownMember {
                        event: j.event_name(),
                        member: id.to_string(),
                    })
            }
        }
    }

    /// The members behind `at` with something due by then, in member order.
    pub fn due(&self, p: &Program, at: Instant) -> Vec<MemberId> {
        let behind = |m: &&Member| !m.closed && m.clock < at;
        let mut due: Vec<MemberId> = match &self.source {
            Source::Book(book) => book
                .values()
                .map(|m| &**m)
                .filter(behind)
                .filter(|m| m.due_by(p, at))
                .map(|m| m.id.clone())
                .collect(),
            Source::Copies(book, copies) => book
                .values()
                .map(|m| copies.iter().find(|c| c.id == m.id).unwrap_or(m))
                .map(|m| &**m)
                .filter(behind)
                .filter(|m| m.due_by(p, at))
                .map(|m| m.id.clone())
                .collect(),
        };
        due.sort_unstable();
        due
    }

    /// Moves the clock of every open member behind `at` to `at`: in place without an undo
    /// log, so only once nothing the event does can fail any more.
    pub fn move_clocks(&mut self, j: &Journal, at: Instant) -> Result<()> {
        let behind: Vec<MemberId> = match &mut self.source {
            Source::Book(book) => {
                for m in book.values_mut() {
                    if !m.closed && m.clock < at {
                        m.clock = at;
                    }
                }
                return Ok(());
            }
            Source::Copies(book, _) => book
                .values()
                .filter(|m| !m.closed && m.clock < at)
                .map(|m| m.id.clone())
                .collect(),
        };
        for id in &behind {
            let m = self.touch(j, id)?;
            m.clock = m.clock.max(at);
        }
        Ok(())
    }

    /// Touches an open member and brings it up to `at`, rejecting late or closed ones.
    pub fn open(
        &mut self,
        p: &Program,
        j: &mut Journal,
        id: &MemberId,
        at: Instant,
    ) -> Result<&mut Member> {
        let m = self.touch(j, id)?;
        if m.closed {
            return Err(Error::MemberClosed {
                event: j.event_name(),
                member: id.to_string(),
            });
        }
        j.check_late(p, at, m.clock)?;
        m.catch_up(p, j, at)?;
        Ok(m)
    }

    /// Checks (debug builds) that what each touched member remembers as next due is not later
    /// than what is due: an `advance` would otherwise pass it by.
    #[cfg(debug_assertions)]
    pub fn check_due(&self, p: &Program) {
        if let Source::Book(book) = &self.source {
            for m in self.touched.iter().filter_map(|id| book.get(id)) {
                let due = m.next_due(p);
                assert!(
                    m.due.not_later_than(due),
                    "member {} remembers {:?} as next due, not {due:?}",
                    m.id,
                    m.due
                );
            }
        }
    }

    /// Keeps every change the event made: closes the undo logs.
    pub fn commit(mut self) {
        if let Source::Book(book) = &mut self.source {
            for id in std::mem::take(&mut self.touched) {
                if let Some(m) = book.get_mut(&id) {
                    m.commit();
                }
            }
        }
        self.committed = true;
    }
}

impl Drop for Members<'_> {
    fn drop(&mut self) {
        let Source::Book(book) = &mut self.source else {
            return;
        };
        if self.committed {
            return;
        }
        for id in self.enrolled.drain(..) {
            book.remove(&id);
        }
        for id in self.touched.drain(..) {
            if let Some(m) = book.get_mut(&id) {
                m.roll_back();
            }
        }
    }
}

//! Changing a member's lots, and putting them back: every change goes through [`LotsMut`],
//! which keeps the lots in FIFO order and their index current, and logs what each change
//! overwrote in the member's [`LotLog`] while an event is being applied. Undoing walks the
//! log backwards, so a rejected event costs what it changed, not what the member holds.

use super::lots::Lots;
use super::{FifoKey, Lot, SMALL};
use crate::ids::EventId;
use crate::instant::Instant;
use crate::reward::Spent;

/// The spare room kept for `len` lots: none for the handful most members hold for the life of
/// the book; an eighth for a busy member, so that a lot is added or dropped without copying
/// all the others each time (they grow by that when full, and give back room when twice that
/// is unused).
fn room(len: usize) -> usize {
    if len < SMALL {
        0
    } else {
        len / 8
    }
}

/// What one event did to a member's lots, in order.
#[derive(Clone, Debug, Default)]
pub(crate) struct LotLog(Vec<Change>);

#[derive(Clone, Debug)]
enum Change {
    /// A lot as it was before it changed.
    Changed(Lot),
    /// A lot added.
    Added(FifoKey),
    /// A lot removed, as it was.
    Removed(Lot),
}

impl LotLog {
    /// Puts `lots` back as they were before the changes logged.
    pub fn undo(self, lots: &mut Lots) {
        for change in self.0.into_iter().rev() {
            match change {
                Change::Changed(old) => {
                    if let Some(pos) = lots.position(&old.fifo_key()) {
                        lots.lots[pos] = old;
                        lots.placed(pos);
                    }
                }
                Change::Added(key) => {
                    if let Some(pos) = lots.position(&key) {
                        lots.lots.remove(pos);
                        lots.removed(pos, key.seq);
                    }
                }
                Change::Removed(old) => {
                    lots.put(old);
                }
            }
        }
    }
}

/// A member's lots open for change, each change logged if an event is being applied.
pub(crate) struct LotsMut<'a> {
    lots: &'a mut Lots,
    log: Option<&'a mut LotLog>,
}

impl<'a> LotsMut<'a> {
    pub fn new(lots: &'a mut Lots, log: Option<&'a mut LotLog>) -> Self {
        LotsMut { lots, log }
    }

    /// Logs the lot at `pos` as it is, before it changes.
    fn save(&mut self, pos: usize) {
        if let (Some(log), Some(l)) = (&mut self.log, self.lots.lots.get(pos)) {
            log.0.push(Change::Changed(l.clone()));
        }
    }

    /// Notes that the lot at `pos` may now be spent (without an index, dropping looks
    /// through the lots).
    fn emptied(&mut self, pos: usize) {
        if let (Some(l), Some(x)) = (self.lots.lots.get(pos), &mut self.lots.index) {
            if l.is_spent() {
                x.spent.push(l.fifo_key());
            }
        }
    }

    /// Adds a lot at its FIFO place.
    pub fn insert(&mut self, lot: Lot) {
        let key = lot.fifo_key();
        let lots = &mut self.lots.lots;
        if lots.len() == lots.capacity() {
            lots.reserve_exact(room(lots.len()).max(1));
        }
        self.lots.put(lot);
        self.lots.fit_index();
        if let Some(log) = &mut self.log {
            log.0.push(Change::Added(key));
        }
    }

    /// The position of the next matured lot with points at or after `from`.
    fn next_available(&self, from: usize) -> Option<usize> {
        (from..self.lots.lots.len()).find(|&i| {
            self.lots
                .lots
                .get(i)
                .is_some_and(|l| l.matured && l.remaining > 0)
        })
    }

    /// Takes up to `points` from matured lots in FIFO order: the (lot, points) taken from each.
    pub fn take_fifo(&mut self, points: i64) -> Vec<(u64, i64)> {
        let mut parts = Vec::new();
        let mut todo = points;
        let mut from = self.lots.live_from();
        while todo > 0 {
            let Some(i) = self.next_available(from) else {
                break;
            };
            self.save(i);
            if let Some(l) = self.lots.lots.get_mut(i) {
                let n = todo.min(l.remaining);
                l.remaining -= n;
                todo -= n;
                parts.push((l.seq, n));
            }
            self.emptied(i);
            from = i + 1;
        }
        parts
    }

    /// Pays `debt` from matured lots in FIFO order; returns what is left of it.
    pub fn pay(&mut self, debt: i64) -> i64 {
        let paid: i64 = self.take_fifo(debt).iter().map(|(_, n)| n).sum();
        debt - paid
    }

    /// Takes up to `points` back from lot `seq`: the points taken and whether the lot had
    /// matured (`None`: no such lot).
    pub fn take_from(&mut self, seq: u64, points: i64) -> Option<(i64, bool)> {
        let i = self.lots.find(seq)?;
        self.save(i);
        let l = self.lots.lots.get_mut(i)?;
        let n = points.min(l.remaining);
        l.remaining -= n;
        let matured = l.matured;
        self.emptied(i);
        Some((n, matured))
    }

    /// Puts `points` spent from a lot back (a reversal): into the lot while it is open, else
    /// as the lot again, matured, with its own place in FIFO order, expiry and source.
    pub fn put_back(&mut self, spent: &Spent, points: i64) {
        let lot = spent.lot(points);
        if let Some(i) = self.lots.find(lot.seq) {
            self.save(i);
            if let Some(l) = self.lots.lots.get_mut(i) {
                l.remaining += points;
            }
            self.lots.placed(i);
            return;
        }
        self.insert(lot);
    }

    /// Reserves the parts of a hold in the lots they were taken from.
    pub fn hold(&mut self, parts: &[(u64, i64)]) {
        for &(seq, n) in parts {
            if let Some(i) = self.lots.find(seq) {
                self.save(i);
                if let Some(l) = self.lots.lots.get_mut(i) {
                    l.held += n;
                }
            }
        }
    }

    /// Ends a hold's reservation in its lots: the points go back to them (`release`) or are
    /// spent.
    pub fn unhold(&mut self, parts: &[(u64, i64)], release: bool) {
        for &(seq, n) in parts {
            let Some(i) = self.lots.find(seq) else {
                continue;
            };
            self.save(i);
            if let Some(l) = self.lots.lots.get_mut(i) {
                l.held -= n;
                if release {
                    l.remaining += n;
                }
            }
            self.lots.placed(i);
        }
    }

    /// Matures every lot due to mature by `x`: the points that became available.
    pub fn mature_until(&mut self, x: Instant) -> i64 {
        let due: Vec<usize> = if self.lots.index.is_some() {
            let mut due = Vec::new();
            while let Some(key) = self.lots.pop_pending(x) {
                due.extend(self.lots.position(&key));
            }
            due
        } else {
            (0..self.lots.lots.len()).collect()
        };
        let mut matured = 0i64;
        for i in due {
            let Some(l) = self.lots.lots.get(i) else {
                continue;
            };
            if l.matured || l.matures_at > x {
                continue;
            }
            self.save(i);
            if let Some(l) = self.lots.lots.get_mut(i) {
                l.matured = true;
                matured += l.remaining;
            }
        }
        matured
    }

    /// Empties every lot with points left whose expiry (`inactivity` for lots without one)
    /// is at or before `x`, in FIFO order: the source, points and maturity of each.
    pub fn expire_until(
        &mut self,
        x: Instant,
        inactivity: Option<Instant>,
    ) -> Vec<(EventId, i64, bool)> {
        let mut expired = Vec::new();
        let len = self.lots.lots.len();
        let start = self.lots.live_from();
        // Lots with an expiry of their own come first, soonest first; those without, last.
        let open_ended = self.lots.lots.partition_point(|l| l.expires_at.is_some());
        let mut due: Vec<usize> = (start..open_ended)
            .take_while(|&i| {
                self.lots
                    .lots
                    .get(i)
                    .and_then(|l| l.expires_at)
                    .is_some_and(|e| e <= x)
            })
            .collect();
        if inactivity.is_some_and(|e| e <= x) {
            due.extend(open_ended.max(start)..len);
        }
        for i in due {
            if self.lots.lots.get(i).is_none_or(|l| l.remaining == 0) {
                continue;
            }
            self.save(i);
            if let Some(l) = self.lots.lots.get_mut(i) {
                expired.push((l.source.clone(), l.remaining, l.matured));
                l.remaining = 0;
            }
            self.emptied(i);
        }
        expired
    }

    /// Removes the spent lots: those noted since the last drop, or without an index, any.
    pub fn drop_spent(&mut self) {
        let spent: Vec<FifoKey> = match &mut self.lots.index {
            Some(x) => std::mem::take(&mut x.spent),
            None => self
                .lots
                .lots
                .iter()
                .filter(|l| l.is_spent())
                .map(Lot::fifo_key)
                .collect(),
        };
        if spent.is_empty() {
            return;
        }
        for key in spent {
            let Some(pos) = self.lots.position(&key) else {
                continue;
            };
            if !self.lots.lots.get(pos).is_some_and(Lot::is_spent) {
                continue;
            }
            if let Some(old) = self.lots.lots.remove(pos) {
                self.lots.removed(pos, old.seq);
                if let Some(log) = &mut self.log {
                    log.0.push(Change::Removed(old));
                }
            }
        }
        let lots = &mut self.lots.lots;
        if lots.capacity() > lots.len() + 2 * room(lots.len()) {
            // A member's lots live as long as the book: give back the room of those that went.
            lots.shrink_to(lots.len() + room(lots.len()));
        }
        self.lots.fit_index();
    }

    /// Removes every lot (an erasure forfeits them).
    pub fn take_all(&mut self) -> Vec<Lot> {
        let all: Vec<Lot> = std::mem::take(&mut self.lots.lots).into();
        self.lots.index = None;
        if let Some(log) = &mut self.log {
            log.0.extend(all.iter().cloned().map(Change::Removed));
        }
        all
    }
}

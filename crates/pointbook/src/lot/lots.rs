//! A member's open lots in FIFO order, and, once they are many, an index that finds what is
//! due next without looking at every lot: a busy member (a corporate card, a family account)
//! holds hundreds of thousands, and each of its events catches it up. Most members hold a
//! handful, which are looked through faster than an index is kept.

use super::{FifoKey, Lot, SMALL};
use crate::instant::Instant;
use crate::map::Map;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// A member's open lots, in FIFO order. Read here; changed only through
/// [`crate::member::Member::lots_mut`] ([`super::LotsMut`]), which logs each change for undoing.
///
/// Lots are taken and expire from the front and are mostly added at the back, so they live in
/// a ring buffer: dropping the oldest moves nothing.
#[derive(Default)]
pub(crate) struct Lots {
    pub(super) lots: VecDeque<Lot>,
    /// Derived from the lots (never written; rebuilt on reading), kept while the member holds
    /// [`SMALL`] lots or more (dropped below half that). Without it, the lots are looked
    /// through: both ways give the same answers.
    pub(super) index: Option<Box<Index>>,
}

/// What makes catching up independent of how many lots a member holds.
#[derive(Clone, Debug, Default)]
pub(super) struct Index {
    /// Unmatured lots by maturation, soonest on top. Every unmatured lot has an entry; an
    /// entry whose lot has matured or gone is stale and skipped.
    pub pending: BinaryHeap<Reverse<(Instant, FifoKey)>>,
    /// Lots that may have been spent (emptied, not held) since the last drop.
    pub spent: Vec<FifoKey>,
    /// Every lot before this position has no points left: the search for the soonest expiry
    /// starts here. Only ever too small, never too large.
    pub live_from: usize,
    /// Each lot's FIFO place by its number: a hold or a refund names its lot by number, and
    /// lots are not in number order once an event arrives late.
    pub places: Map<u64, FifoKey>,
}

impl Lots {
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lots.len()
    }

    pub fn iter(&self) -> std::collections::vec_deque::Iter<'_, Lot> {
        self.lots.iter()
    }

    /// Points in matured lots, not held (a full count, for checking invariants).
    pub fn available(&self) -> i64 {
        self.lots
            .iter()
            .filter(|l| l.matured)
            .map(|l| l.remaining)
            .sum()
    }

    /// The position of the lot with this FIFO place.
    pub(super) fn position(&self, key: &FifoKey) -> Option<usize> {
        self.lots.binary_search_by(|l| l.fifo_key().cmp(key)).ok()
    }

    /// The position of lot `seq`: through the index's places when there is one; else lots are
    /// usually in creation order too, so a binary search finds it, and a lot placed out of that
    /// order (a late event's, a transfer's) is looked for among the few one by one.
    pub(super) fn find(&self, seq: u64) -> Option<usize> {
        if let Some(x) = &self.index {
            return x.places.get(&seq).and_then(|key| self.position(key));
        }
        let i = self.lots.partition_point(|l| l.seq < seq);
        if self.lots.get(i).is_some_and(|l| l.seq == seq) {
            return Some(i);
        }
        self.lots.iter().position(|l| l.seq == seq)
    }

    /// Lot `seq`.
    pub fn get(&self, seq: u64) -> Option<&Lot> {
        self.find(seq).and_then(|i| self.lots.get(i))
    }

    /// Where the lots with points may begin ([`Index::live_from`]; 0 without an index).
    pub(super) fn live_from(&self) -> usize {
        self.index.as_ref().map_or(0, |x| x.live_from)
    }

    /// Builds the index from the lots.
    pub(super) fn build_index(&mut self) {
        self.index = Some(Box::default());
        for pos in 0..self.lots.len() {
            self.placed(pos);
        }
    }

    /// Keeps an index while the lots are many, and none while they are few.
    pub(super) fn fit_index(&mut self) {
        match &self.index {
            None if self.lots.len() >= SMALL => self.build_index(),
            Some(_) if self.lots.len() < SMALL / 2 => self.index = None,
            _ => {}
        }
    }

    /// Puts a lot at its FIFO place and notes it in the index.
    pub(super) fn put(&mut self, lot: Lot) {
        let key = lot.fifo_key();
        let pos = self.lots.partition_point(|l| l.fifo_key() < key);
        self.lots.insert(pos, lot);
        self.placed(pos);
    }

    /// Notes a lot just placed at `pos` (added, or changed or put back by an undo): the index
    /// learns whether it is unmatured, spent or has points.
    pub(super) fn placed(&mut self, pos: usize) {
        let (Some(l), Some(x)) = (self.lots.get(pos), &mut self.index) else {
            return;
        };
        let (key, pending, spent, live) = (
            l.fifo_key(),
            (!l.matured).then_some(l.matures_at),
            l.is_spent(),
            l.remaining > 0,
        );
        x.places.insert(key.seq, key);
        if let Some(at) = pending {
            x.pending.push(Reverse((at, key)));
        }
        if spent {
            x.spent.push(key);
        }
        if live && pos < x.live_from {
            x.live_from = pos;
        }
    }

    /// Notes that lot `seq`, at `pos`, was removed.
    pub(super) fn removed(&mut self, pos: usize, seq: u64) {
        if let Some(x) = &mut self.index {
            x.places.remove(&seq);
            if pos < x.live_from {
                x.live_from -= 1;
            }
        }
    }

    /// Drops stale entries from the top of the pending index and moves the start of the live
    /// lots past emptied ones: afterwards [`Lots::next_maturity`] is exact.
    pub fn tidy(&mut self) {
        let Some(x) = &mut self.index else {
            return;
        };
        while let Some(Reverse((_, key))) = x.pending.peek() {
            let i = self.lots.binary_search_by(|l| l.fifo_key().cmp(key));
            match i.ok().and_then(|i| self.lots.get(i)) {
                Some(l) if !l.matured => break,
                _ => {
                    x.pending.pop();
                }
            }
        }
        while self.lots.get(x.live_from).is_some_and(|l| l.remaining == 0) {
            x.live_from += 1;
        }
    }

    /// Takes the soonest entry of the pending index if it matures by `x` (it may be stale).
    pub(super) fn pop_pending(&mut self, x: Instant) -> Option<FifoKey> {
        let index = self.index.as_mut()?;
        match index.pending.peek() {
            Some(Reverse((at, _))) if *at <= x => index.pending.pop().map(|Reverse((_, key))| key),
            _ => None,
        }
    }

    /// When the soonest unmatured lot matures (with an index, earlier than the truth if a
    /// stale entry is on top; exact after [`Lots::tidy`]).
    pub fn next_maturity(&self) -> Option<Instant> {
        match &self.index {
            Some(x) => x.pending.peek().map(|Reverse((at, _))| *at),
            None => self
                .lots
                .iter()
                .filter(|l| !l.matured)
                .map(|l| l.matures_at)
                .min(),
        }
    }

    /// When the soonest lot with points left expires, `inactivity` standing for the expiry of
    /// lots that have none of their own. Lots with an expiry come first, soonest first.
    pub fn next_expiry(&self, inactivity: Option<Instant>) -> Option<Instant> {
        let first = self
            .lots
            .iter()
            .skip(self.live_from())
            .find(|l| l.remaining > 0)?;
        match first.expires_at {
            None => inactivity,
            Some(e) => {
                let open_ended = inactivity.is_some()
                    && self
                        .lots
                        .iter()
                        .rev()
                        .take_while(|l| l.expires_at.is_none())
                        .any(|l| l.remaining > 0);
                Some(match inactivity {
                    Some(i) if open_ended => e.min(i),
                    _ => e,
                })
            }
        }
    }

    /// Debug builds: after [`Lots::tidy`], the index gives what a look at every lot gives.
    #[cfg(debug_assertions)]
    pub fn check_index(&self, inactivity: Option<Instant>) {
        let maturity = self
            .lots
            .iter()
            .filter(|l| !l.matured)
            .map(|l| l.matures_at)
            .min();
        assert_eq!(self.next_maturity(), maturity, "next maturity");
        let expiry = self
            .lots
            .iter()
            .filter(|l| l.remaining > 0)
            .filter_map(|l| l.expires_at.or(inactivity))
            .min();
        assert_eq!(self.next_expiry(inactivity), expiry, "next expiry");
        assert!(self
            .lots
            .iter()
            .take(self.live_from())
            .all(|l| l.remaining == 0));
    }

    /// The lots as read from a snapshot, with their index built.
    fn from_lots(lots: Vec<Lot>) -> Lots {
        let mut lots = Lots {
            lots: lots.into(),
            index: None,
        };
        lots.fit_index();
        lots
    }
}

/// A copy has room for one more lot: copies are made to work on (a quote, a balance), and a
/// purchase adds a lot, which would otherwise move the whole copy into a new allocation.
impl Clone for Lots {
    fn clone(&self) -> Self {
        let mut lots = VecDeque::with_capacity(self.lots.len() + 1);
        lots.extend(self.lots.iter().cloned());
        Lots {
            lots,
            index: self.index.clone(),
        }
    }
}

/// Lots are equal when they hold the same lots; the index is derived.
impl PartialEq for Lots {
    fn eq(&self, other: &Self) -> bool {
        self.lots == other.lots
    }
}

impl std::fmt::Debug for Lots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.lots.iter()).finish()
    }
}

impl Serialize for Lots {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.lots.iter())
    }
}

impl<'de> Deserialize<'de> for Lots {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<Lot>::deserialize(d).map(Lots::from_lots)
    }
}

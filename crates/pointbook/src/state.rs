//! The state of a book: everything a snapshot carries and the digest hashes.

use crate::applied::{Applied, Legacy};
use crate::ids::MemberId;
use crate::instant::Instant;
use crate::ledger::Totals;
use crate::map::Map;
use crate::member::Member;
use crate::purchases::Purchases;
use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeMap;

/// The state of a book. The large maps are hash maps (a lookup per event, no string
/// comparisons down a tree); they are written sorted by key, so the encoding is canonical.
/// Anything that iterates them for an output must sort too. Written through
/// [`State::written`], which needs the program's late tolerance.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct State {
    /// The latest instant of any applied event.
    pub clock: Option<Instant>,
    /// Each member in an allocation of its own: a table slot is an id and a pointer, where a
    /// member inline made a slot of 400 bytes (with a table kept at most seven-eighths full,
    /// 1M members took 800 MB of slots), and growing the table moves pointers, not members.
    pub members: Map<MemberId, Box<Member>>,
    pub totals: Totals,
    /// Redemptions held or issued per reward, for stock.
    pub reward_usage: BTreeMap<String, u64>,
    /// Every applied event's id, and the recent ones' outcomes (docs/semantics.md §9).
    pub applied: Applied,
    /// What refunds need of each purchase. Kept outside the members so that applying an
    /// event copies only the record it touches.
    pub purchases: Purchases,
}

/// The clock an event's outcome is kept against (docs/semantics.md §9): its member's, or the book's
/// (`book`) for an event of no member (an advance).
pub(crate) fn clock_of(
    members: &Map<MemberId, Box<Member>>,
    member: Option<&MemberId>,
    book: Option<Instant>,
) -> Option<Instant> {
    match member {
        Some(m) => members.get(m).map(|m| m.clock).or(book),
        None => book,
    }
}

impl State {
    /// The state as snapshots write it and the digest hashes it: only the outcomes still kept
    /// under a late tolerance of `tolerance` are written.
    pub fn written(&self, tolerance: chrono::Duration) -> impl Serialize + '_ {
        #[derive(Serialize)]
        struct StateOut<'a, A> {
            clock: &'a Option<Instant>,
            members: Sorted<'a, MemberId, Box<Member>>,
            totals: &'a Totals,
            reward_usage: &'a BTreeMap<String, u64>,
            applied: A,
            purchases: &'a Purchases,
        }
        StateOut {
            clock: &self.clock,
            members: Sorted(&self.members),
            totals: &self.totals,
            reward_usage: &self.reward_usage,
            applied: self
                .applied
                .written(tolerance, move |m| clock_of(&self.members, m, self.clock)),
            purchases: &self.purchases,
        }
    }
}

/// A state as a snapshot holds it: format 3 writes `applied`, versions 1 and 2 wrote `events`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StateIn {
    clock: Option<Instant>,
    members: Map<MemberId, Box<Member>>,
    totals: Totals,
    reward_usage: BTreeMap<String, u64>,
    #[serde(default)]
    applied: Option<Applied>,
    #[serde(default)]
    events: Option<Legacy>,
    purchases: Purchases,
}

impl StateIn {
    /// The state, as a snapshot of `version` must hold it.
    pub fn into_state(self, version: u32) -> Result<State, &'static str> {
        let applied = match (self.applied, self.events, version) {
            (Some(applied), None, 3..) => applied,
            (None, Some(Legacy(applied)), ..=2) => applied,
            (_, _, 3..) => return Err("the state holds no `applied` (and no `events`)"),
            _ => return Err("the state holds no `events` (and no `applied`)"),
        };
        Ok(State {
            clock: self.clock,
            members: self.members,
            totals: self.totals,
            reward_usage: self.reward_usage,
            applied,
            purchases: self.purchases,
        })
    }
}

/// A hash map written as a JSON object sorted by key.
struct Sorted<'a, K, V>(&'a Map<K, V>);

impl<K: Ord + Serialize, V: Serialize> Serialize for Sorted<'_, K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut entries: Vec<(&K, &V)> = self.0.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        s.collect_map(entries)
    }
}

//! The events a book has applied (docs/semantics.md §9): every id for the life of the book, so that a
//! resend is never applied twice and a different event under a used id is refused; and the
//! full outcome of each event while it is within the late tolerance of its member's clock.
//! A resend of an older event gets the original's id and points only, as §9 allows
//! (`docs/semantics-extensions.md`).
//!
//! An id is kept as a 128-bit key and a 64-bit fingerprint of the event's content with its
//! points: 32 bytes a table slot, where the id, the hash of the canonical form and the whole
//! outcome took about 150 (`benches/RESULTS.md`).

use crate::codec::Corrupt;
use crate::ids::{EventId, MemberId};
use crate::instant::Instant;
use crate::map::Map;
use crate::outcome::Outcome;
use crate::record;
use serde::ser::SerializeSeq;
use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// An event id as the book keys it: the first 128 bits of the SHA-256 of the id. A cryptographic
/// hash, so that no id can be made to share another's key (that takes about 2^64 hashes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct IdKey(u128);

impl IdKey {
    /// The key of an event id.
    pub fn of(id: &str) -> IdKey {
        IdKey(u128::from_be_bytes(leading(&Sha256::digest(id.as_bytes()))))
    }
}

/// The first `N` bytes of a hash (zeros past its end).
fn leading<const N: usize>(hash: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    for (o, h) in out.iter_mut().zip(hash) {
        *o = *h;
    }
    out
}

/// The fingerprint of an event's content: the first 64 bits of the SHA-256 of its canonical
/// form (the whole hash of earlier snapshot formats begins with it).
pub(crate) fn fingerprint(sha256: &[u8]) -> u64 {
    u64::from_be_bytes(leading(sha256))
}

/// What is kept of every applied event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Seen {
    /// [`fingerprint`] of the event: a resend has the same, another event under the id not.
    pub content: u64,
    /// The points of its outcome, for a resend's reply once the full outcome is gone.
    pub points: i64,
}

/// The full outcome of a recent event, in the compact form of [`crate::record`], with what
/// decides how long it is kept: the event's member (none for an advance) and instant.
#[derive(Clone, Debug, PartialEq)]
struct Recent {
    member: Option<MemberId>,
    at: Instant,
    record: Box<[u8]>,
}

/// Whether the full outcome of an event at `at` is kept against `clock`, its member's clock
/// (the book's for an event of no member): while an event at `at` would still be accepted
/// as late (docs/semantics.md §9).
pub(crate) fn kept(at: Instant, clock: Option<Instant>, tolerance: chrono::Duration) -> bool {
    match clock.and_then(|c| c.checked_sub_signed(tolerance)) {
        Some(oldest) => at >= oldest,
        None => true,
    }
}

/// Recent outcomes are pruned when they have doubled since the last pruning, and not below
/// this many: a pruning reads every one, so that its cost per event stays constant.
const PRUNE_FROM: usize = 64;

/// The applied events of a book. Written (see [`Applied::written`]) as the sorted keys with
/// their fingerprints and points, and the outcomes still kept, sorted by event id.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Applied {
    seen: Map<IdKey, Seen>,
    /// Full outcomes of recent events; some may be past keeping until the next pruning (they
    /// are never written nor returned).
    recent: Map<IdKey, Recent>,
    /// Outcomes kept after the last pruning.
    after_pruning: usize,
}

/// What a book knows of an event id.
pub(crate) enum Prior<'a> {
    /// Applied, with other content: the id is taken.
    Conflict,
    /// Applied, with this content: a resend. `outcome` is the full recorded outcome if it is
    /// still kept, as far as the store knows (the caller checks [`kept`]).
    Resend {
        seen: Seen,
        outcome: Option<(Option<&'a MemberId>, Instant, &'a [u8])>,
    },
}

impl Applied {
    /// What is known of `key`, for an event of `content` (or one for which `older(kept)` says
    /// that an older book kept `kept` as the fingerprint of the same event).
    pub fn prior(
        &self,
        key: IdKey,
        content: u64,
        older: impl FnOnce(u64) -> bool,
    ) -> Option<Prior<'_>> {
        let seen = *self.seen.get(&key)?;
        if seen.content != content && !older(seen.content) {
            return Some(Prior::Conflict);
        }
        let outcome = self
            .recent
            .get(&key)
            .map(|r| (r.member.as_ref(), r.at, &*r.record));
        Some(Prior::Resend { seen, outcome })
    }

    /// What is kept of an applied event.
    pub fn seen(&self, key: IdKey) -> Option<Seen> {
        self.seen.get(&key).copied()
    }

    /// Whether an event id has been applied.
    #[cfg(test)]
    pub fn contains(&self, id: &str) -> bool {
        self.seen.contains_key(&IdKey::of(id))
    }

    /// The full outcome recorded for an event id, if still held.
    pub fn outcome(&self, id: &str) -> Option<Result<Outcome, Corrupt>> {
        let r = self.recent.get(&IdKey::of(id))?;
        Some(record::decode(&r.record))
    }

    /// Records an applied event (in place of any record under its key).
    pub fn insert(
        &mut self,
        key: IdKey,
        content: u64,
        member: Option<MemberId>,
        outcome: &Outcome,
    ) {
        self.seen.insert(
            key,
            Seen {
                content,
                points: outcome.points,
            },
        );
        self.recent.insert(
            key,
            Recent {
                member,
                at: outcome.at,
                record: record::encode(outcome),
            },
        );
    }

    /// Drops the outcomes past keeping once they have doubled since the last time. `clock`
    /// gives an event's member's clock (or the book's, for none); a clock earlier than the
    /// real one only keeps more.
    pub fn prune(
        &mut self,
        tolerance: chrono::Duration,
        clock: impl Fn(Option<&MemberId>) -> Option<Instant>,
    ) {
        if self.recent.len() < PRUNE_FROM.max(2 * self.after_pruning) {
            return;
        }
        self.recent
            .retain(|_, r| kept(r.at, clock(r.member.as_ref()), tolerance));
        self.after_pruning = self.recent.len();
    }

    /// Events applied.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Makes room for `events` more.
    pub fn reserve(&mut self, events: usize) {
        self.seen.reserve(events);
    }

    /// Adds the events of another book (a shard of a parallel replay). An id both hold must
    /// be for the same content, and is then one `shared` allows (an advance, which went to
    /// every shard; the caller records its merged outcome); otherwise `None`.
    pub fn absorb(&mut self, other: Applied, shared: impl Fn(IdKey) -> bool) -> Option<()> {
        for (key, seen) in other.seen {
            match self.seen.get(&key) {
                None => {
                    self.seen.insert(key, seen);
                }
                Some(first) if first.content == seen.content && shared(key) => {}
                Some(_) => return None,
            }
        }
        for (key, recent) in other.recent {
            self.recent.entry(key).or_insert(recent);
        }
        Some(())
    }

    /// The form written to snapshots and hashed by the digest: only the outcomes `clock` still
    /// keeps (see [`Applied::prune`]), so that what is written does not depend on when the
    /// book last pruned.
    pub fn written<'a, C: Fn(Option<&MemberId>) -> Option<Instant>>(
        &'a self,
        tolerance: chrono::Duration,
        clock: C,
    ) -> Written<'a, C> {
        Written {
            applied: self,
            tolerance,
            clock,
        }
    }
}

/// [`Applied`] as written, with the clocks that decide which outcomes are still kept.
pub(crate) struct Written<'a, C> {
    applied: &'a Applied,
    tolerance: chrono::Duration,
    clock: C,
}

/// An applied event's key, fingerprint and points, as written: 32 and 16 hex digits and an
/// integer.
#[derive(Serialize, Deserialize)]
struct SeenWire(String, String, i64);

#[derive(Serialize)]
struct RecentOut<'a> {
    member: Option<&'a MemberId>,
    outcome: Outcome,
}

#[derive(Deserialize)]
struct RecentIn {
    member: Option<MemberId>,
    outcome: Outcome,
}

impl<C: Fn(Option<&MemberId>) -> Option<Instant>> Serialize for Written<'_, C> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let a = self.applied;
        let mut seen: Vec<(&IdKey, &Seen)> = a.seen.iter().collect();
        seen.sort_unstable_by_key(|(k, _)| **k);
        let mut recent = Vec::new();
        for r in a.recent.values() {
            if kept(r.at, (self.clock)(r.member.as_ref()), self.tolerance) {
                let id = record::leading_id(&r.record).map_err(serde::ser::Error::custom)?;
                recent.push((id, r));
            }
        }
        recent.sort_unstable_by(|x, y| x.0.cmp(y.0));
        let mut out = s.serialize_struct("Applied", 2)?;
        out.serialize_field("ids", &Ids(&seen))?;
        out.serialize_field("outcomes", &Outcomes(&recent))?;
        out.end()
    }
}

struct Ids<'a>(&'a [(&'a IdKey, &'a Seen)]);

impl Serialize for Ids<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for (key, seen) in self.0 {
            seq.serialize_element(&SeenWire(
                format!("{:032x}", key.0),
                format!("{:016x}", seen.content),
                seen.points,
            ))?;
        }
        seq.end()
    }
}

struct Outcomes<'a>(&'a [(&'a [u8], &'a Recent)]);

impl Serialize for Outcomes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for (_, r) in self.0 {
            let outcome = record::decode(&r.record).map_err(serde::ser::Error::custom)?;
            seq.serialize_element(&RecentOut {
                member: r.member.as_ref(),
                outcome,
            })?;
        }
        seq.end()
    }
}

/// Reads `digits` hex digits.
fn hex_number(text: &str, digits: usize) -> Result<u128, String> {
    if text.len() != digits || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("\"{text}\" is not {digits} hex digits"));
    }
    u128::from_str_radix(text, 16).map_err(|e| e.to_string())
}

/// Read as written; every outcome must be that of an applied event, with its points.
impl<'de> Deserialize<'de> for Applied {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            ids: Vec<SeenWire>,
            outcomes: Vec<RecentIn>,
        }
        let wire = Wire::deserialize(d)?;
        let mut applied = Applied::default();
        applied.seen.reserve(wire.ids.len());
        for SeenWire(key, content, points) in wire.ids {
            let key = IdKey(hex_number(&key, 32).map_err(D::Error::custom)?);
            let content = hex_number(&content, 16).map_err(D::Error::custom)? as u64;
            if applied.seen.insert(key, Seen { content, points }).is_some() {
                return Err(D::Error::custom(format!("event key {:032x} twice", key.0)));
            }
        }
        for r in wire.outcomes {
            applied
                .restore_outcome(r.member, &r.outcome)
                .map_err(D::Error::custom)?;
        }
        Ok(applied)
    }
}

impl Applied {
    /// Puts back the outcome of an applied event, read from a snapshot.
    fn restore_outcome(&mut self, member: Option<MemberId>, o: &Outcome) -> Result<(), String> {
        let key = IdKey::of(o.event.as_str());
        match self.seen.get(&key) {
            Some(seen) if seen.points == o.points && !o.duplicate => {}
            _ => {
                return Err(format!(
                    "the outcome of {} is not that of an applied event",
                    o.event
                ))
            }
        }
        let recent = Recent {
            member,
            at: o.at,
            record: record::encode(o),
        };
        if self.recent.insert(key, recent).is_some() {
            return Err(format!("two outcomes of {}", o.event));
        }
        Ok(())
    }
}

/// The applied events as snapshot versions 1 and 2 wrote them: an object from event id to the
/// SHA-256 of its canonical form and its outcome. Every outcome is kept as recent until the
/// first pruning, under the member [`first_member`] finds.
pub(crate) struct Legacy(pub Applied);

impl<'de> Deserialize<'de> for Legacy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        struct RecordedIn {
            hash: String,
            outcome: Outcome,
        }
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Legacy;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object from event id to hash and outcome")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Legacy, A::Error> {
                let mut applied = Applied::default();
                while let Some((id, r)) = map.next_entry::<EventId, RecordedIn>()? {
                    if r.outcome.event != id {
                        return Err(A::Error::custom(format!(
                            "the outcome recorded for event {id} is the outcome of {}",
                            r.outcome.event
                        )));
                    }
                    let hex = r.hash.len() == 64 && r.hash.bytes().all(|b| b.is_ascii_hexdigit());
                    let content = match r.hash.get(..16) {
                        Some(head) if hex => hex_number(head, 16).map_err(A::Error::custom)?,
                        _ => return Err(A::Error::custom("a hash is 64 hex digits")),
                    };
                    applied.seen.insert(
                        IdKey::of(id.as_str()),
                        Seen {
                            content: content as u64,
                            points: r.outcome.points,
                        },
                    );
                    let member = first_member(&r.outcome);
                    applied
                        .restore_outcome(member, &r.outcome)
                        .map_err(A::Error::custom)?;
                }
                Ok(Legacy(applied))
            }
        }
        d.deserialize_map(Visitor)
    }
}

/// The member of the event an outcome is of, as far as the outcome tells: none for an
/// advance, else the first member it names (in its explanation, effects or postings; the
/// event's own member comes first in each). An outcome that names none is kept against the
/// book's clock, which is never earlier than its member's: it may be dropped sooner.
fn first_member(o: &Outcome) -> Option<MemberId> {
    if o.kind == "advance" {
        return None;
    }
    use crate::outcome::Account;
    let of_account = |a: &Account| match a {
        Account::Available(m) | Account::Pending(m) | Account::Held(m) => Some(m.clone()),
        _ => None,
    };
    o.explanation
        .first()
        .map(|l| l.member.clone())
        .or_else(|| o.effects.first().map(|e| e.member().clone()))
        .or_else(|| {
            o.postings
                .iter()
                .find_map(|p| of_account(&p.from).or_else(|| of_account(&p.to)))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn outcome(event: &str, points: i64) -> Outcome {
        Outcome {
            event: EventId::new(event),
            kind: Cow::Borrowed("adjust"),
            at: Instant::UNIX_EPOCH,
            duplicate: false,
            points,
            postings: Vec::new(),
            effects: Vec::new(),
            explanation: Vec::new(),
            discount: None,
        }
    }

    fn applied(events: &[(&str, i64)]) -> Applied {
        let mut a = Applied::default();
        for (id, points) in events {
            a.insert(IdKey::of(id), 7, None, &outcome(id, *points));
        }
        a
    }

    fn written(a: &Applied) -> String {
        let w = a.written(chrono::Duration::days(7), |_| None);
        serde_json::to_string(&w).unwrap_or_default()
    }

    /// Written with sorted keys and outcomes sorted by event id, and read back equal (but for
    /// when it was last pruned).
    #[test]
    fn applied_events_are_written_sorted_and_read_back() {
        let a = applied(&[("e2", 1), ("e1", -2)]);
        let json = written(&a);
        let e1 = json.find(r#""event":"e1""#);
        assert!(e1.is_some() && e1 < json.find(r#""event":"e2""#), "{json}");
        let back: Applied = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(written(&back), json);
        assert_eq!(
            back.seen(IdKey::of("e1")).map(|s| (s.content, s.points)),
            Some((7, -2))
        );
        assert!(back
            .outcome("e2")
            .is_some_and(|o| o.is_ok_and(|o| o.points == 1)));
    }

    /// What a snapshot cannot hold: an outcome of no applied event or with other points, a
    /// key twice, a key that is not 32 hex digits.
    #[test]
    fn impossible_applied_events_are_refused() {
        let json = written(&applied(&[("e1", 5)]));
        let refused = |text: String, why: &str| {
            let e = serde_json::from_str::<Applied>(&text).err();
            assert!(
                e.as_ref().is_some_and(|e| e.to_string().contains(why)),
                "{e:?}: {text}"
            );
        };
        refused(
            json.replacen(r#""event":"e1""#, r#""event":"e9""#, 1),
            "not that of an applied event",
        );
        refused(
            json.replacen(r#""points":5"#, r#""points":6"#, 1),
            "not that of an applied event",
        );
        let key = format!("{:032x}", IdKey::of("e1").0);
        let entry = format!(r#"["{key}","0000000000000007",5]"#);
        refused(
            json.replacen(&entry, &format!("{entry},{entry}"), 1),
            "twice",
        );
        refused(json.replacen(&key, &key[1..], 1), "hex digits");
        refused(
            json.replacen(&key, &format!("x{}", &key[1..]), 1),
            "hex digits",
        );
    }
}

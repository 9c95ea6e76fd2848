//! The state of a book: everything a snapshot carries and the digest hashes.

use crate::codec::Corrupt;
use crate::ids::{EventId, MemberId};
use crate::instant::Instant;
use crate::ledger::Totals;
use crate::member::Member;
use crate::outcome::Outcome;
use crate::purchase::PurchaseRecord;
use crate::record;
use serde::ser::SerializeSeq;
use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeMap;

/// The hash maps of a book: keyed by ids, looked up several times per event. foldhash hashes
/// a short id in a few instructions where the standard SipHash took a twentieth of applying
/// a purchase; it is still seeded per map, so iteration order carries no meaning (outputs
/// sort).
pub(crate) type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// An applied event, for idempotency: the SHA-256 of its canonical form, then its outcome in
/// the compact binary form of [`crate::record`] (which begins with the event's id), in one
/// allocation of a few dozen bytes, written without formatting text. Snapshots hold the hash
/// as hex and the outcome as a JSON object, so the snapshot and the digest are the same as if
/// the outcome were stored as a struct.
///
/// A record is found by the id it holds (it hashes and compares as that id, see [`Events`]);
/// records with the same id but different bytes are told apart by [`Recorded::same`].
#[derive(Clone, Debug)]
pub(crate) struct Recorded(Box<[u8]>);

/// Bytes of the hash at the start of a record.
const HASH: usize = 32;

impl Recorded {
    /// Records an outcome.
    pub fn new(hash: [u8; HASH], outcome: &Outcome) -> Recorded {
        Recorded(record::encode(&hash, outcome))
    }

    /// The hash of the event.
    pub fn hash(&self) -> [u8; HASH] {
        let mut hash = [0; HASH];
        if let Some(bytes) = self.0.get(..HASH) {
            hash.copy_from_slice(bytes);
        }
        hash
    }

    /// The recorded outcome.
    pub fn outcome(&self) -> Result<Outcome, Corrupt> {
        record::decode(self.0.get(HASH..).unwrap_or_default())
    }

    /// The event's id, as the record begins.
    pub fn id(&self) -> Result<&str, Corrupt> {
        let bytes = record::leading_id(self.0.get(HASH..).unwrap_or_default())?;
        std::str::from_utf8(bytes).map_err(|_| Corrupt("event id"))
    }

    /// The bytes of the event's id: the key the set of records hashes and compares. Records
    /// are written only by [`Recorded::new`], so the id is always there; were it not (memory
    /// changed from outside), the key is the whole outcome, which matches no id, and writing
    /// the record fails ([`Recorded::id`]).
    fn key(&self) -> &[u8] {
        let outcome = self.0.get(HASH..).unwrap_or_default();
        record::leading_id(outcome).unwrap_or(outcome)
    }

    /// Whether two records are the same, byte for byte.
    pub fn same(&self, other: &Recorded) -> bool {
        self.0 == other.0
    }
}

/// Records hash as their id, so that a set of them is looked up by id.
impl std::hash::Hash for Recorded {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

/// Records compare as their id (what [`std::borrow::Borrow`] requires); see [`Recorded::same`].
impl PartialEq for Recorded {
    fn eq(&self, other: &Recorded) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Recorded {}

impl std::borrow::Borrow<[u8]> for Recorded {
    fn borrow(&self) -> &[u8] {
        self.key()
    }
}

/// The applied events of a book, one record each, in a set looked up by the id every record
/// begins with: a table slot is one pointer (16 bytes) where a map from ids took 40, and the
/// id is kept once. Written as a JSON object from id to hash and outcome, sorted by id.
#[derive(Clone, Debug, Default)]
pub(crate) struct Events(std::collections::HashSet<Recorded, foldhash::fast::RandomState>);

impl Events {
    /// The record of an event.
    pub fn get(&self, id: &str) -> Option<&Recorded> {
        self.0.get(id.as_bytes())
    }

    /// The record of the same event as `record`.
    pub fn get_same_id(&self, record: &Recorded) -> Option<&Recorded> {
        self.0.get(record)
    }

    /// Records an event, in place of any record with its id.
    pub fn insert(&mut self, record: Recorded) {
        self.0.replace(record);
    }

    /// Events recorded.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Makes room for `events` more.
    pub fn reserve(&mut self, events: usize) {
        self.0.reserve(events);
    }
}

impl IntoIterator for Events {
    type Item = Recorded;
    type IntoIter = std::collections::hash_set::IntoIter<Recorded>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Equal when the same events are recorded with the same bytes.
impl PartialEq for Events {
    fn eq(&self, other: &Events) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .all(|r| other.get_same_id(r).is_some_and(|o| o.same(r)))
    }
}

impl Serialize for Events {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut entries = Vec::with_capacity(self.0.len());
        for r in &self.0 {
            entries.push((r.id().map_err(serde::ser::Error::custom)?, r));
        }
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        s.collect_map(entries)
    }
}

/// Read entry by entry: each outcome is encoded as soon as it is read, so a large snapshot
/// never holds all its outcomes as structs at once.
impl<'de> Deserialize<'de> for Events {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Events;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object from event id to hash and outcome")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Events, A::Error> {
                let mut events = Events::default();
                events.reserve(map.size_hint().unwrap_or(0));
                while let Some((id, r)) = map.next_entry::<EventId, RecordedIn>()? {
                    if r.outcome.event != id {
                        return Err(serde::de::Error::custom(format!(
                            "the outcome recorded for event {id} is the outcome of {}",
                            r.outcome.event
                        )));
                    }
                    events.insert(Recorded::new(r.hash, &r.outcome));
                }
                Ok(events)
            }
        }
        d.deserialize_map(Visitor)
    }
}

#[derive(Serialize)]
struct RecordedOut {
    #[serde(with = "hex32")]
    hash: [u8; 32],
    outcome: Outcome,
}

#[derive(Deserialize)]
struct RecordedIn {
    #[serde(with = "hex32")]
    hash: [u8; 32],
    outcome: Outcome,
}

impl Serialize for Recorded {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let outcome = self.outcome().map_err(serde::ser::Error::custom)?;
        RecordedOut {
            hash: self.hash(),
            outcome,
        }
        .serialize(s)
    }
}

/// A 32-byte hash as 64 hex digits.
mod hex32 {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(h: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::program::hex(h))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let mut out = [0u8; 32];
        if text.len() != 64 {
            return Err(D::Error::custom("a hash is 64 hex digits"));
        }
        for (i, byte) in out.iter_mut().enumerate() {
            let pair = text.get(2 * i..2 * i + 2).unwrap_or("");
            *byte = u8::from_str_radix(pair, 16).map_err(D::Error::custom)?;
        }
        Ok(out)
    }
}

/// The state of a book. The large maps are hash maps (a lookup per event, no string
/// comparisons down a tree); they are written sorted by key, so the encoding is canonical.
/// Anything that iterates them for an output must sort too.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct State {
    /// The latest instant of any applied event.
    pub clock: Option<Instant>,
    /// Each member in an allocation of its own: a table slot is an id and a pointer, where a
    /// member inline made a slot of 400 bytes (with a table kept at most seven-eighths full,
    /// 1M members took 800 MB of slots), and growing the table moves pointers, not members.
    #[serde(serialize_with = "sorted")]
    pub members: Map<MemberId, Box<Member>>,
    pub totals: Totals,
    /// Redemptions held or issued per reward, for stock.
    pub reward_usage: BTreeMap<String, u64>,
    pub events: Events,
    /// What refunds need of each purchase. Kept outside the members so that applying an
    /// event copies only the record it touches.
    pub purchases: Purchases,
}

/// The purchase records of a book, by member and purchase id: a member's records together,
/// so that erasing a member (`forget`) finds its records without a scan of the whole book.
/// A book keeps one record per purchase, for as long as it may be refunded: each is held in
/// one allocation in the compact form of [`crate::purchase::encode_purchase`] (a refund, which reads
/// it, is rare). Written as a sequence of `[[member, purchase], record]` pairs sorted by key.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Purchases(Map<MemberId, Map<EventId, Box<[u8]>>>);

impl Purchases {
    /// The record of a member's purchase.
    pub fn get(
        &self,
        member: &MemberId,
        purchase: &EventId,
    ) -> Option<Result<PurchaseRecord, Corrupt>> {
        let bytes = self.0.get(member)?.get(purchase)?;
        Some(crate::purchase::decode_purchase(bytes))
    }

    /// Writes the record of a member's purchase.
    pub fn insert(&mut self, member: MemberId, purchase: EventId, record: &PurchaseRecord) {
        self.0
            .entry(member)
            .or_default()
            .insert(purchase, crate::purchase::encode_purchase(record));
    }

    /// Removes every record of a member (a member without records has no entry, so that
    /// equal books compare equal).
    pub fn erase(&mut self, member: &MemberId) {
        self.0.remove(member);
    }

    /// Cuts every record short, as memory changed from outside would (tests of what the book
    /// does with records it cannot read back).
    #[cfg(test)]
    pub fn damage(&mut self) {
        for records in self.0.values_mut() {
            for bytes in records.values_mut() {
                *bytes = bytes.get(..1).unwrap_or_default().into();
            }
        }
    }

    /// Members with at least one record.
    pub fn members(&self) -> usize {
        self.0.len()
    }

    /// Makes room for `members` more members.
    pub fn reserve(&mut self, members: usize) {
        self.0.reserve(members);
    }

    /// Adds the records of another book (of other members: a shard of a parallel replay).
    pub fn absorb(&mut self, other: Purchases) {
        for (member, records) in other.0 {
            match self.0.entry(member) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(records);
                }
                std::collections::hash_map::Entry::Occupied(mut o) => o.get_mut().extend(records),
            }
        }
    }
}

impl Serialize for Purchases {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut entries: Vec<((&MemberId, &EventId), &[u8])> = self
            .0
            .iter()
            .flat_map(|(m, records)| records.iter().map(move |(id, r)| ((m, id), &**r)))
            .collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut seq = s.serialize_seq(Some(entries.len()))?;
        for (key, bytes) in entries {
            let record =
                crate::purchase::decode_purchase(bytes).map_err(serde::ser::Error::custom)?;
            seq.serialize_element(&(key, record))?;
        }
        seq.end()
    }
}

/// Read pair by pair, each record packed as soon as it is read.
impl<'de> Deserialize<'de> for Purchases {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Purchases;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sequence of [[member, purchase], record] pairs")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Purchases, A::Error> {
                let mut purchases = Purchases::default();
                while let Some(((member, purchase), record)) =
                    seq.next_element::<((MemberId, EventId), PurchaseRecord)>()?
                {
                    purchases.insert(member, purchase, &record);
                }
                Ok(purchases)
            }
        }
        d.deserialize_seq(Visitor)
    }
}

/// Writes a hash map as a JSON object sorted by key.
fn sorted<K: Ord + Serialize, V: Serialize, S: Serializer>(
    map: &Map<K, V>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let mut entries: Vec<(&K, &V)> = map.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    s.collect_map(entries)
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
        }
    }

    fn events(records: &[(&str, i64)]) -> Events {
        let mut events = Events::default();
        for (id, points) in records {
            events.insert(Recorded::new([7; HASH], &outcome(id, *points)));
        }
        events
    }

    /// Records are found by id; a second record of an id replaces the first; sets of records
    /// are equal only with the same ids and the same bytes.
    #[test]
    fn events_are_found_by_id_and_compared_by_bytes() {
        let a = events(&[("e1", 5), ("e-ü-2", -3)]);
        assert_eq!(a.len(), 2);
        let found = a.get("e-ü-2").map(|r| r.outcome().map(|o| o.points).ok());
        assert_eq!(found, Some(Some(-3)));
        assert!(a.get("e2").is_none());
        assert_eq!(a, events(&[("e-ü-2", -3), ("e1", 5)]));
        assert_ne!(
            a,
            events(&[("e1", 5), ("e-ü-2", 4)]),
            "same ids, other outcome"
        );
        assert_ne!(a, events(&[("e1", 5)]));
        let replaced = events(&[("e1", 5), ("e-ü-2", 4), ("e-ü-2", -3)]);
        assert_eq!(replaced, a);
    }

    /// Written as an object sorted by id and read back equal; a record whose outcome names
    /// another event is refused.
    /// A record whose id no longer reads (bytes changed from outside) cannot be written: the
    /// snapshot fails instead of writing the event under an empty id. The others are still
    /// found by their ids.
    #[test]
    fn a_record_whose_id_does_not_read_is_not_written() {
        let mut a = events(&[("e1", 5), ("e2", 7)]);
        let mut damaged = Recorded::new([1; HASH], &outcome("e3", 1)).0.into_vec();
        damaged[HASH + 1] = 0xFF; // the first byte of the id: no longer UTF-8
        a.insert(Recorded(damaged.into_boxed_slice()));
        assert_eq!(a.len(), 3);
        assert!(a.get("e1").is_some() && a.get("e2").is_some() && a.get("e3").is_none());
        let written = serde_json::to_string(&a);
        assert!(written.is_err_and(|e| e.to_string().contains("event id")));
    }

    #[test]
    fn events_are_written_sorted_and_checked_when_read() {
        let a = events(&[("e2", 1), ("e1", 2)]);
        let json = serde_json::to_string(&a).unwrap_or_default();
        assert!(json.starts_with(r#"{"e1":{"hash":"0707"#), "{json}");
        let back: Events = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, a);
        let tampered = json.replacen(r#""event":"e1""#, r#""event":"e2""#, 1);
        assert_ne!(tampered, json);
        let err = serde_json::from_str::<Events>(&tampered).err();
        assert!(err.is_some_and(|e| e.to_string().contains("outcome of e2")));
    }
}

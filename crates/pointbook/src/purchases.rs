//! The purchase records of a book (docs/semantics.md §5): what a refund needs of each purchase, by
//! member and purchase id, for as long as it may be refunded.
//!
//! A member's records sit together, so that erasing a member (`forget`) finds them without a
//! scan of the book. Each record is in the compact form of
//! [`crate::purchase::encode_purchase_into`]. A member with few records (most members) keeps
//! them one after another in one allocation, read by a scan; a member with more keeps a map
//! by purchase id, so that a busy member's purchase or refund costs what anyone's does
//! (`benches/RESULTS.md`: a map per member was a third of a book's memory).

use crate::codec::{varint_len, Corrupt, Reader, Writer};
use crate::ids::{EventId, MemberId};
use crate::instant::Instant;
use crate::map::Map;
use crate::purchase::PurchaseRecord;
use serde::ser::SerializeSeq;
use serde::{Deserialize, Serialize, Serializer};

/// Records kept one after another, at most; one more and the member's records become a map.
/// 99% of the members of a generated history have fewer (`benches/RESULTS.md`); writing one
/// copies at most this many records, reading one scans them.
const FEW: usize = 64;

/// One member's records.
#[derive(Clone, Debug)]
enum Records {
    /// Each record as its purchase id then its bytes, each with its length ([`Writer::text`]).
    Few(Box<[u8]>),
    Many(Box<Map<EventId, Box<[u8]>>>),
}

/// Reads records written one after another: `(purchase id, record)`, or the error where they
/// stop reading (bytes changed from outside), after which it stops.
struct Scan<'a> {
    reader: Reader<'a>,
    failed: bool,
}

impl<'a> Scan<'a> {
    /// The bytes not read: empty after the last record, else from the record that failed.
    fn rest(&self) -> &'a [u8] {
        self.reader.bytes
    }
}

impl<'a> Iterator for Scan<'a> {
    type Item = Result<(&'a str, &'a [u8]), Corrupt>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.reader.bytes.is_empty() {
            return None;
        }
        let start = self.reader.bytes;
        let entry = self
            .reader
            .text()
            .and_then(|id| Ok((id, self.reader.bytes()?)));
        if entry.is_err() {
            self.failed = true;
            self.reader.bytes = start;
        }
        Some(entry)
    }
}

fn scan(bytes: &[u8]) -> Scan<'_> {
    Scan {
        reader: Reader::new(bytes, Instant::UNIX_EPOCH),
        failed: false,
    }
}

impl Records {
    /// The record of a purchase.
    fn get(&self, purchase: &EventId) -> Option<Result<&[u8], Corrupt>> {
        match self {
            Records::Few(bytes) => scan(bytes)
                .find(|e| e.as_ref().map_or(true, |(id, _)| *id == purchase.as_str()))
                .map(|e| e.map(|(_, record)| record)),
            Records::Many(map) => map.get(purchase).map(|r| Ok(&**r)),
        }
    }

    /// Writes the record of a purchase, in place of any it had. Records that no longer read
    /// (bytes changed from outside) are kept as they are, so that reading them still fails.
    fn insert(&mut self, purchase: EventId, record: &[u8]) {
        let bytes = match self {
            Records::Many(map) => {
                map.insert(purchase, record.into());
                return;
            }
            Records::Few(bytes) => bytes,
        };
        // Most writes are of a new purchase: the records read, none has its id and there is
        // room, so it goes at the end, in the same allocation grown once.
        let (mut count, mut fresh) = (0, true);
        for entry in scan(bytes) {
            match entry {
                Ok((id, _)) if id != purchase.as_str() => count += 1,
                _ => fresh = false,
            }
        }
        if fresh && count < FEW {
            let mut w = Writer::new(0, Instant::UNIX_EPOCH);
            w.out = std::mem::take(bytes).into_vec();
            let (id, n) = (purchase.as_str().len(), record.len());
            // Exactly, so that the slice keeps the allocation as it is.
            w.out
                .reserve_exact(varint_len(id as u64) + id + varint_len(n as u64) + n);
            w.text(purchase.as_str());
            w.unsigned(record.len() as u64);
            w.out.extend_from_slice(record);
            *bytes = w.out.into_boxed_slice();
            return;
        }
        let mut entries = scan(bytes);
        let kept: Vec<(&str, &[u8])> = entries
            .by_ref()
            .filter_map(Result::ok)
            .filter(|(id, _)| *id != purchase.as_str())
            .collect();
        let rest = entries.rest();
        if kept.len() >= FEW && rest.is_empty() {
            let mut map: Map<EventId, Box<[u8]>> = Map::default();
            map.reserve(kept.len() + 1);
            for (id, r) in kept {
                map.insert(EventId::new(id), r.into());
            }
            map.insert(purchase, record.into());
            *self = Records::Many(Box::new(map));
            return;
        }
        let mut w = Writer::new(
            bytes.len() + purchase.as_str().len() + record.len() + 4,
            Instant::UNIX_EPOCH,
        );
        for (id, r) in kept {
            w.text(id);
            w.unsigned(r.len() as u64);
            w.out.extend_from_slice(r);
        }
        w.text(purchase.as_str());
        w.unsigned(record.len() as u64);
        w.out.extend_from_slice(record);
        w.out.extend_from_slice(rest);
        *bytes = w.out.into_boxed_slice();
    }

    /// Every record, sorted by purchase id.
    fn sorted(&self) -> Result<Vec<(&str, &[u8])>, Corrupt> {
        let mut all = match self {
            Records::Few(bytes) => scan(bytes).collect::<Result<Vec<_>, _>>()?,
            Records::Many(map) => map.iter().map(|(id, r)| (id.as_str(), &**r)).collect(),
        };
        all.sort_unstable_by(|a, b| a.0.cmp(b.0));
        Ok(all)
    }
}

/// The purchase records of a book. Written as a sequence of `[[member, purchase], record]`
/// pairs sorted by key.
#[derive(Clone, Debug, Default)]
pub(crate) struct Purchases {
    records: Map<MemberId, Records>,
    /// Where a record is encoded before it is copied into its member's records: kept, so
    /// that a purchase allocates nothing for it.
    scratch: Vec<u8>,
}

impl Purchases {
    /// The record of a member's purchase.
    pub fn get(
        &self,
        member: &MemberId,
        purchase: &EventId,
    ) -> Option<Result<PurchaseRecord, Corrupt>> {
        let bytes = self.records.get(member)?.get(purchase)?;
        Some(bytes.and_then(crate::purchase::decode_purchase))
    }

    /// Writes the record of a member's purchase.
    pub fn insert(&mut self, member: MemberId, purchase: EventId, record: &PurchaseRecord) {
        self.scratch.clear();
        crate::purchase::encode_purchase_into(record, &mut self.scratch);
        self.records
            .entry(member)
            .or_insert_with(|| Records::Few(Box::default()))
            .insert(purchase, &self.scratch);
    }

    /// Removes every record of a member (a member without records has no entry, so that
    /// equal books compare equal).
    pub fn erase(&mut self, member: &MemberId) {
        self.records.remove(member);
    }

    /// Cuts every record short, as memory changed from outside would (tests of what the book
    /// does with records it cannot read back).
    #[cfg(test)]
    pub fn damage(&mut self) {
        for records in self.records.values_mut() {
            match records {
                Records::Few(bytes) => {
                    *bytes = bytes
                        .get(..bytes.len().saturating_sub(1))
                        .unwrap_or_default()
                        .into();
                }
                Records::Many(map) => {
                    for bytes in map.values_mut() {
                        *bytes = bytes.get(..1).unwrap_or_default().into();
                    }
                }
            }
        }
    }

    /// Members with at least one record.
    pub fn members(&self) -> usize {
        self.records.len()
    }

    /// Makes room for `members` more members.
    pub fn reserve(&mut self, members: usize) {
        self.records.reserve(members);
    }

    /// Adds the records of another book (of other members: a shard of a parallel replay).
    /// `None` if a member of both has records that no longer read: they cannot be merged
    /// without losing them.
    pub fn absorb(&mut self, other: Purchases) -> Option<()> {
        for (member, records) in other.records {
            match self.records.entry(member) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(records);
                }
                std::collections::hash_map::Entry::Occupied(mut o) => {
                    let into = o.get_mut();
                    for (id, r) in records.sorted().ok()? {
                        into.insert(EventId::new(id), r);
                    }
                }
            }
        }
        Some(())
    }
}

/// Equal when the same members have the same records, whatever their order in memory.
impl PartialEq for Purchases {
    fn eq(&self, other: &Purchases) -> bool {
        self.records.len() == other.records.len()
            && self.records.iter().all(|(member, records)| {
                other.records.get(member).is_some_and(|theirs| {
                    matches!((records.sorted(), theirs.sorted()), (Ok(a), Ok(b)) if a == b)
                })
            })
    }
}

impl Serialize for Purchases {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut entries: Vec<((&MemberId, &str), &[u8])> = Vec::new();
        for (member, records) in &self.records {
            let sorted = records.sorted().map_err(serde::ser::Error::custom)?;
            entries.extend(sorted.into_iter().map(|(id, r)| ((member, id), r)));
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::purchase::{CapUse, Receipt};
    use rust_decimal::Decimal;

    fn record(credited: i64) -> PurchaseRecord {
        PurchaseRecord {
            at: Instant::UNIX_EPOCH,
            tier: 0,
            receipt: Receipt::new(None, &[]),
            caps: CapUse::default(),
            credited,
            eligible: Decimal::ONE,
            visit: true,
            lot: Some(1),
        }
    }

    fn credited(p: &Purchases, member: &str, purchase: &str) -> Option<i64> {
        let found = p.get(&MemberId::new(member), &EventId::new(purchase))?;
        found.ok().map(|r| r.credited)
    }

    /// Up to 64 records a member, one after another; the 65th turns them into a map. Either
    /// way a record is found by its id, written again in place of the old, and the book
    /// writes the same bytes and compares equal whatever the order records came in.
    #[test]
    fn records_are_found_replaced_and_written_alike_few_or_many() {
        for n in [1_i64, 64, 65, 100] {
            let mut forward = Purchases::default();
            let mut backward = Purchases::default();
            for i in 0..n {
                forward.insert("m1".into(), EventId::new(format!("p{i}")), &record(i));
                backward.insert(
                    "m1".into(),
                    EventId::new(format!("p{}", n - 1 - i)),
                    &record(n - 1 - i),
                );
            }
            let many = matches!(
                forward.records.get(&MemberId::new("m1")),
                Some(Records::Many(_))
            );
            assert_eq!(many, n > 64, "{n} records");
            for i in 0..n {
                assert_eq!(credited(&forward, "m1", &format!("p{i}")), Some(i));
            }
            assert_eq!(credited(&forward, "m1", "p-none"), None);
            assert_eq!(credited(&forward, "m2", "p0"), None);
            assert_eq!(forward, backward);
            let json = serde_json::to_string(&forward).unwrap_or_default();
            assert_eq!(json, serde_json::to_string(&backward).unwrap_or_default());
            let back: Purchases = serde_json::from_str(&json).unwrap_or_default();
            assert_eq!(back, forward);
            // A refund writes the record again: the new one is found, the count is the same.
            forward.insert("m1".into(), EventId::new("p0"), &record(-5));
            assert_eq!(credited(&forward, "m1", "p0"), Some(-5));
            assert_ne!(forward, backward);
            let json = serde_json::to_string(&forward).unwrap_or_default();
            assert_eq!(json.matches("\"m1\"").count(), n as usize);
            forward.erase(&MemberId::new("m1"));
            assert_eq!(
                (forward.members(), credited(&forward, "m1", "p1")),
                (0, None)
            );
        }
    }

    /// Damaged records stay damaged when others are written after them: reading them fails,
    /// and so does writing the book.
    #[test]
    fn damaged_records_keep_failing() {
        let mut p = Purchases::default();
        p.insert("m1".into(), EventId::new("p1"), &record(1));
        p.damage();
        p.insert("m1".into(), EventId::new("p2"), &record(2));
        assert!(p
            .get(&MemberId::new("m1"), &EventId::new("p1"))
            .is_some_and(|r| r.is_err()));
        assert!(serde_json::to_string(&p).is_err());
    }
}

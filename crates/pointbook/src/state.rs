//! The state of a book: everything a snapshot carries and the digest hashes.

use crate::ids::{EventId, MemberId};
use crate::ledger::Totals;
use crate::member::{Member, PurchaseRecord};
use crate::outcome::Outcome;
use crate::record;
use crate::Instant;
use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeMap;

/// The hash maps of a book: keyed by ids, looked up several times per event. foldhash hashes
/// a short id in a few instructions where the standard SipHash took a twentieth of applying
/// a purchase; it is still seeded per map, so iteration order carries no meaning (outputs
/// sort).
pub(crate) type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// An applied event, for idempotency: the SHA-256 of its canonical form, and its outcome in
/// the compact binary form of [`crate::record`] (one allocation, a few dozen bytes, written
/// without formatting text). Snapshots hold the outcome as a JSON object, so the snapshot and
/// the digest are the same as if the outcome were stored as a struct.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Recorded {
    pub hash: [u8; 32],
    outcome: Box<[u8]>,
}

impl Recorded {
    /// Records an outcome.
    pub fn new(hash: [u8; 32], outcome: &Outcome) -> Recorded {
        Recorded {
            hash,
            outcome: record::encode(outcome),
        }
    }

    /// The recorded outcome.
    pub fn outcome(&self) -> Result<Outcome, record::Corrupt> {
        record::decode(&self.outcome)
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
            hash: self.hash,
            outcome,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Recorded {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RecordedIn::deserialize(d)?;
        Ok(Recorded::new(r.hash, &r.outcome))
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
    #[serde(serialize_with = "sorted")]
    pub members: Map<MemberId, Member>,
    pub totals: Totals,
    /// Redemptions held or issued per reward, for stock.
    pub reward_usage: BTreeMap<String, u64>,
    #[serde(serialize_with = "sorted")]
    pub events: Map<EventId, Recorded>,
    /// What refunds need of each purchase, by (member, purchase id). Kept outside the members
    /// so that applying an event copies only the record it touches.
    #[serde(with = "pairs")]
    pub purchases: Map<(MemberId, EventId), PurchaseRecord>,
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

/// Serializes a map with tuple keys as a sequence of `[key, value]` pairs sorted by key (JSON
/// objects need string keys).
mod pairs {
    use super::Map;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::hash::Hash;

    pub fn serialize<K: Serialize + Ord, V: Serialize, S: Serializer>(
        map: &Map<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut entries: Vec<(&K, &V)> = map.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        s.collect_seq(entries)
    }

    pub fn deserialize<'de, K, V, D>(d: D) -> Result<Map<K, V>, D::Error>
    where
        K: Deserialize<'de> + Eq + Hash,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}

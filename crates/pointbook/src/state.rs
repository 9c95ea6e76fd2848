//! The state of a book: everything a snapshot carries and the digest hashes.

use crate::ids::{EventId, MemberId};
use crate::ledger::Totals;
use crate::member::{Member, PurchaseRecord};
use crate::outcome::Outcome;
use crate::Instant;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use std::collections::{BTreeMap, HashMap};

/// An applied event, for idempotency: the SHA-256 of its canonical form, and its outcome kept
/// as compact JSON (about a quarter of the memory of the outcome's structs, one allocation
/// instead of dozens). The JSON is written as an object, so the snapshot and digest are the
/// same as if the outcome were stored as a struct.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Recorded {
    #[serde(with = "hex32")]
    pub hash: [u8; 32],
    pub outcome: Box<RawValue>,
}

impl PartialEq for Recorded {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.outcome.get() == other.outcome.get()
    }
}

impl Recorded {
    /// Records an outcome.
    pub fn new(hash: [u8; 32], outcome: &Outcome) -> Result<Recorded, serde_json::Error> {
        Ok(Recorded {
            hash,
            outcome: serde_json::value::to_raw_value(outcome)?,
        })
    }

    /// The recorded outcome.
    pub fn outcome(&self) -> Result<Outcome, serde_json::Error> {
        serde_json::from_str(self.outcome.get())
    }

    /// The same record with its outcome re-encoded compactly (after reading a snapshot,
    /// which may have been reformatted); fails if the outcome is not an outcome.
    pub fn normalized(&self) -> Result<Recorded, serde_json::Error> {
        Recorded::new(self.hash, &self.outcome()?)
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
    pub members: HashMap<MemberId, Member>,
    pub totals: Totals,
    /// Redemptions held or issued per reward, for stock.
    pub reward_usage: BTreeMap<String, u64>,
    #[serde(serialize_with = "sorted")]
    pub events: HashMap<EventId, Recorded>,
    /// What refunds need of each purchase, by (member, purchase id). Kept outside the members
    /// so that applying an event copies only the record it touches.
    #[serde(with = "pairs")]
    pub purchases: HashMap<(MemberId, EventId), PurchaseRecord>,
}

/// Writes a hash map as a JSON object sorted by key.
fn sorted<K: Ord + Serialize, V: Serialize, S: Serializer>(
    map: &HashMap<K, V>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let mut entries: Vec<(&K, &V)> = map.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    s.collect_map(entries)
}

/// Serializes a map with tuple keys as a sequence of `[key, value]` pairs sorted by key (JSON
/// objects need string keys).
mod pairs {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::HashMap;
    use std::hash::Hash;

    pub fn serialize<K: Serialize + Ord, V: Serialize, S: Serializer>(
        map: &HashMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut entries: Vec<(&K, &V)> = map.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        s.collect_seq(entries)
    }

    pub fn deserialize<'de, K, V, D>(d: D) -> Result<HashMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Eq + Hash,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}

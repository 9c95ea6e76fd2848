//! The state of a book: everything a snapshot carries and the digest hashes.

use crate::ids::{EventId, MemberId};
use crate::ledger::Totals;
use crate::member::{Member, PurchaseRecord};
use crate::outcome::Outcome;
use crate::Instant;
use serde::{Deserialize, Serialize, Serializer};
use std::collections::{BTreeMap, HashMap};

/// An applied event: the hash of its canonical form and its outcome, for idempotency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Recorded {
    pub hash: String,
    pub outcome: Outcome,
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

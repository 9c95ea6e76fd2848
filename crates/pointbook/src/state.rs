//! The state of a book: everything a snapshot carries and the digest hashes.

use crate::ids::{EventId, MemberId};
use crate::ledger::Totals;
use crate::member::{Member, PurchaseRecord};
use crate::outcome::Outcome;
use crate::Instant;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An applied event: the hash of its canonical form and its outcome, for idempotency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Recorded {
    pub hash: String,
    pub outcome: Outcome,
}

/// The state of a book. Ordered maps only, so its encoding is canonical.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct State {
    /// The latest instant of any applied event.
    pub clock: Option<Instant>,
    pub members: BTreeMap<MemberId, Member>,
    pub totals: Totals,
    /// Redemptions held or issued per reward, for stock.
    pub reward_usage: BTreeMap<String, u64>,
    pub events: BTreeMap<EventId, Recorded>,
    /// What refunds need of each purchase, by (member, purchase id). Kept outside the members
    /// so that applying an event copies only the record it touches.
    #[serde(with = "pairs")]
    pub purchases: BTreeMap<(MemberId, EventId), PurchaseRecord>,
}

/// Serializes a map with tuple keys as a sequence of `[key, value]` pairs (JSON objects need
/// string keys).
mod pairs {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        map: &BTreeMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(map.iter())
    }

    pub fn deserialize<'de, K, V, D>(d: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}

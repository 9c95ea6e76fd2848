//! A map kept as a vector sorted by key, for a member's small maps (the tier metric per window
//! or day, cap usage per rule and period, holds and redemptions): a `BTreeMap`'s first node
//! takes about 280 bytes for a single metric entry, over a kilobyte for a redemption, and most
//! members hold one or two (`benches/RESULTS.md`). Written and
//! read as a map, so a snapshot is the same as with a `BTreeMap`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::ops::RangeInclusive;

/// A small ordered map: keys unique and ascending. Lookups are binary searches; an insertion
/// moves the entries after it and grows the allocation by one entry only.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct VecMap<K, V>(Vec<(K, V)>);

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap(Vec::new())
    }
}

impl<K: Ord, V> VecMap<K, V> {
    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: std::borrow::Borrow<Q>,
    {
        self.0.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: std::borrow::Borrow<Q>,
    {
        let i = self.find(key).ok()?;
        self.0.get(i).map(|(_, v)| v)
    }

    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: std::borrow::Borrow<Q>,
    {
        let i = self.find(key).ok()?;
        self.0.get_mut(i).map(|(_, v)| v)
    }

    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: std::borrow::Borrow<Q>,
    {
        self.find(key).is_ok()
    }

    /// The value of `key`, inserted with `value()` first if missing.
    pub fn or_insert_with(&mut self, key: K, value: impl FnOnce() -> V) -> &mut V {
        let i = match self.find(&key) {
            Ok(i) => i,
            Err(i) => {
                self.0.reserve_exact(1);
                self.0.insert(i, (key, value()));
                i
            }
        };
        // `i` is the entry found or just inserted.
        &mut self.0[i].1
    }

    /// Sets `key` to `value`, returning the value it had.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => self.0.get_mut(i).map(|(_, v)| std::mem::replace(v, value)),
            Err(i) => {
                self.0.reserve_exact(1);
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
    {
        let i = self.find(key).ok()?;
        Some(self.0.remove(i).1)
    }

    /// Entries with keys in `range`, ascending.
    pub fn range(&self, range: RangeInclusive<K>) -> impl Iterator<Item = (&K, &V)> {
        let start = self.find(range.start()).unwrap_or_else(|i| i);
        self.0
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(move |(k, _)| k <= range.end())
            .map(|(k, v)| (k, v))
    }

    /// Entries, ascending.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.0.iter().map(|(k, _)| k)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl<K, V> IntoIterator for VecMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<K: Serialize, V: Serialize> Serialize for VecMap<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// Read as a `BTreeMap` reads (a key given twice keeps its last value).
impl<'de, K: Ord + Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for VecMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<K, V>::deserialize(d)?;
        Ok(VecMap(map.into_iter().collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against a `BTreeMap` given the same operations: the same answers, the same JSON.
    #[test]
    fn a_vec_map_answers_as_a_btree_map() {
        let mut v: VecMap<i64, i64> = VecMap::default();
        let mut b: BTreeMap<i64, i64> = BTreeMap::new();
        let mut x: i64 = 7;
        for step in 0..2000 {
            x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
            let key = x % 40 - 20;
            match step % 4 {
                0 => assert_eq!(v.insert(key, step), b.insert(key, step)),
                1 => assert_eq!(v.remove(&key), b.remove(&key)),
                2 => {
                    *v.or_insert_with(key, || 0) += 1;
                    *b.entry(key).or_insert(0) += 1;
                }
                _ => {
                    let got: Vec<_> = v.range(key..=key + 9).collect();
                    assert_eq!(got, b.range(key..=key + 9).collect::<Vec<_>>());
                }
            }
            assert_eq!(v.get(&key), b.get(&key));
            assert_eq!(v.contains_key(&(key + 1)), b.contains_key(&(key + 1)));
            assert_eq!(v.len(), b.len());
        }
        assert_eq!(v.iter().collect::<Vec<_>>(), b.iter().collect::<Vec<_>>());
        let json = serde_json::to_string(&v).unwrap_or_default();
        assert_eq!(json, serde_json::to_string(&b).unwrap_or_default());
        let back: VecMap<i64, i64> = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, v);
    }
}

//! A map kept as a vector sorted by key, for a member's small maps (the tier metric per window
//! or day, cap usage per rule and period, holds and redemptions): a `BTreeMap`'s first node
//! takes about 280 bytes for a single metric entry, over a kilobyte for a redemption, and most
//! members hold one or two (`benches/RESULTS.md`). A map that grows past [`LARGE`] entries (a
//! busy member's redemptions) becomes a `BTreeMap`, so that an insertion does not move them
//! all. Written and read as a map, so a snapshot is the same as with a `BTreeMap`.
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::ops::RangeInclusive;

/// Entries a map holds in a vector; one more, and it becomes a tree.
const LARGE: usize = 64;

/// An ordered map: keys unique and ascending. While small, lookups are binary searches and an
/// insertion moves the entries after it and grows the allocation by one entry only.
#[derive(Clone, Debug)]
pub(crate) enum VecMap<K, V> {
    Small(Vec<(K, V)>),
    // Boxed so that the map takes a vector's 24 bytes (a member holds four), not 32.
    #[allow(clippy::box_collection)]
    Large(Box<BTreeMap<K, V>>),
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap::Small(Vec::new())
    }
}

/// One of two iterators over the same items.
pub(crate) enum Either<A, B> {
    Small(A),
    Large(B),
}

impl<T, A: Iterator<Item = T>, B: Iterator<Item = T>> Iterator for Either<A, B> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        match self {
            Either::Small(a) => a.next(),
            Either::Large(b) => b.next(),
        }
    }
}

fn find<K: std::borrow::Borrow<Q>, V, Q: Ord + ?Sized>(
    v: &[(K, V)],
    key: &Q,
) -> Result<usize, usize> {
    v.binary_search_by(|(k, _)| k.borrow().cmp(key))
}

impl<K: Ord, V> VecMap<K, V> {
    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: std::borrow::Borrow<Q>,
    {
        match self {
            VecMap::Small(v) => v.get(find(v, key).ok()?).map(|(_, x)| x),
            VecMap::Large(t) => t.get(key),
        }
    }

    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: std::borrow::Borrow<Q>,
    {
        match self {
            VecMap::Small(v) => {
                let i = find(v, key).ok()?;
                v.get_mut(i).map(|(_, x)| x)
            }
            VecMap::Large(t) => t.get_mut(key),
        }
    }

    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: std::borrow::Borrow<Q>,
    {
        self.get(key).is_some()
    }

    /// Makes room for one more entry: a small map that is full becomes a tree.
    fn grow(&mut self) {
        if let VecMap::Small(v) = self {
            if v.len() >= LARGE {
                *self = VecMap::Large(Box::new(std::mem::take(v).into_iter().collect()));
            }
        }
    }

    /// The value of `key`, inserted with `value()` first if missing.
    pub fn or_insert_with(&mut self, key: K, value: impl FnOnce() -> V) -> &mut V {
        if !self.contains_key(&key) {
            self.grow();
        }
        match self {
            VecMap::Small(v) => {
                let i = match find(v, &key) {
                    Ok(i) => i,
                    Err(i) => {
                        v.reserve_exact(1);
                        v.insert(i, (key, value()));
                        i
                    }
                };
                // `i` is the entry found or just inserted.
                &mut v[i].1
            }
            VecMap::Large(t) => t.entry(key).or_insert_with(value),
        }
    }

    /// Sets `key` to `value`, returning the value it had.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        if let Some(old) = self.get_mut(&key) {
            return Some(std::mem::replace(old, value));
        }
        self.grow();
        match self {
            VecMap::Small(v) => {
                let i = find(v, &key).unwrap_or_else(|i| i);
                v.reserve_exact(1);
                v.insert(i, (key, value));
            }
            VecMap::Large(t) => {
                t.insert(key, value);
            }
        }
        None
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
    {
        match self {
            VecMap::Small(v) => {
                let i = find(v, key).ok()?;
                Some(v.remove(i).1)
            }
            VecMap::Large(t) => t.remove(key),
        }
    }

    /// Entries with keys in `range`, ascending.
    pub fn range(&self, range: RangeInclusive<K>) -> impl Iterator<Item = (&K, &V)> {
        match self {
            VecMap::Small(v) => {
                let start = find(v, range.start()).unwrap_or_else(|i| i);
                Either::Small(
                    v.get(start..)
                        .unwrap_or_default()
                        .iter()
                        .take_while(move |(k, _)| k <= range.end())
                        .map(|(k, v)| (k, v)),
                )
            }
            VecMap::Large(t) => Either::Large(t.range(range)),
        }
    }

    /// Entries, ascending.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        match self {
            VecMap::Small(v) => Either::Small(v.iter().map(|(k, v)| (k, v))),
            VecMap::Large(t) => Either::Large(t.iter()),
        }
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.iter().map(|(_, v)| v)
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.iter().map(|(k, _)| k)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        match self {
            VecMap::Small(v) => v.len(),
            VecMap::Large(t) => t.len(),
        }
    }
}

/// Equal when they hold the same entries, whichever form each has.
impl<K: Ord, V: PartialEq> PartialEq for VecMap<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl<K, V> IntoIterator for VecMap<K, V> {
    type Item = (K, V);
    type IntoIter = Either<std::vec::IntoIter<(K, V)>, std::collections::btree_map::IntoIter<K, V>>;
    fn into_iter(self) -> Self::IntoIter {
        match self {
            VecMap::Small(v) => Either::Small(v.into_iter()),
            VecMap::Large(t) => Either::Large(t.into_iter()),
        }
    }
}

impl<K: Ord + Serialize, V: Serialize> Serialize for VecMap<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

/// Read as a `BTreeMap` reads (a key given twice keeps its last value).
impl<'de, K: Ord + Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for VecMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<K, V>::deserialize(d)?;
        Ok(if map.len() > LARGE {
            VecMap::Large(Box::new(map))
        } else {
            VecMap::Small(map.into_iter().collect())
        })
    }
}

#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<VecMap<u64, u64>>() == 24);

#[cfg(test)]
mod tests {
    use super::*;

    /// Against a `BTreeMap` given the same operations: the same answers, the same JSON.
    #[test]
    fn a_vec_map_answers_as_a_btree_map() {
        let mut v: VecMap<i64, i64> = VecMap::default();
        let mut b: BTreeMap<i64, i64> = BTreeMap::new();
        let mut x: i64 = 7;
        for step in 0..4000 {
            x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
            // Keys from a range that grows past a small map's size after the first half.
            let spread = if step < 2000 { 40 } else { 400 };
            let key = x % spread - 20;
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
        assert!(matches!(v, VecMap::Large(_)), "the map grew into a tree");
        assert_eq!(v.iter().collect::<Vec<_>>(), b.iter().collect::<Vec<_>>());
        let json = serde_json::to_string(&v).unwrap_or_default();
        assert_eq!(json, serde_json::to_string(&b).unwrap_or_default());
        let back: VecMap<i64, i64> = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, v);
    }
}

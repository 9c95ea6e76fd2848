//! Groups of linked members: a transfer or a referral links two members, whose events must then
//! be replayed by one thread. A union-find over members, and the groups spread over threads by
//! how many events each has.

use std::collections::HashMap;
use std::hash::Hash;

/// Members (keys `K`) as nodes of a union-find, each with its events counted.
#[derive(Debug)]
pub(super) struct Groups<K> {
    index: HashMap<K, u32>,
    parent: Vec<u32>,
    events: Vec<usize>,
}

impl<K: Hash + Eq> Groups<K> {
    pub fn new() -> Groups<K> {
        Groups {
            index: HashMap::new(),
            parent: Vec::new(),
            events: Vec::new(),
        }
    }

    /// The node of member `key` (added on first sight). `None` past 2^32 members.
    pub fn node(&mut self, key: K) -> Option<u32> {
        if let Some(n) = self.index.get(&key) {
            return Some(*n);
        }
        let n = u32::try_from(self.parent.len()).ok()?;
        self.parent.push(n);
        self.events.push(0);
        self.index.insert(key, n);
        Some(n)
    }

    /// The node of a member already seen.
    pub fn find<Q>(&self, key: &Q) -> Option<u32>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.index.get(key).copied()
    }

    /// Counts one event of node `n`.
    pub fn count(&mut self, n: u32) {
        if let Some(c) = self.events.get_mut(n as usize) {
            *c += 1;
        }
    }

    /// Puts the groups of `a` and `b` together.
    pub fn link(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.root(a), self.root(b));
        if ra != rb {
            // The smaller node is the root, so that roots do not depend on the order of links.
            let (low, high) = (ra.min(rb), ra.max(rb));
            if let Some(p) = self.parent.get_mut(high as usize) {
                *p = low;
            }
        }
    }

    /// The root of `n`'s group, shortening the path on the way.
    fn root(&mut self, mut n: u32) -> u32 {
        loop {
            let Some(&p) = self.parent.get(n as usize) else {
                return n;
            };
            if p == n {
                return n;
            }
            let grand = self.parent.get(p as usize).copied().unwrap_or(p);
            if let Some(slot) = self.parent.get_mut(n as usize) {
                *slot = grand;
            }
            n = grand;
        }
    }

    /// Spreads the groups over at most `threads` shards, largest group first to the least
    /// loaded shard: the shard of every node, and how many shards there are.
    pub fn assign(&mut self, threads: usize) -> (Vec<u16>, usize) {
        let nodes = self.parent.len() as u32;
        let roots: Vec<u32> = (0..nodes).map(|n| self.root(n)).collect();
        let mut size: HashMap<u32, usize> = HashMap::new();
        for (n, r) in roots.iter().enumerate() {
            *size.entry(*r).or_default() += self.events.get(n).copied().unwrap_or(0);
        }
        let mut groups: Vec<(u32, usize)> = size.into_iter().collect();
        groups.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let shards = threads.min(groups.len()).clamp(1, usize::from(u16::MAX));
        let mut load = vec![0usize; shards];
        let mut shard_of_root: HashMap<u32, u16> = HashMap::new();
        for (g, n) in groups {
            let s = (0..shards).min_by_key(|i| (load[*i], *i)).unwrap_or(0);
            load[s] += n;
            shard_of_root.insert(g, s as u16);
        }
        let shard = roots
            .iter()
            .map(|r| shard_of_root.get(r).copied().unwrap_or(0))
            .collect();
        (shard, shards)
    }
}

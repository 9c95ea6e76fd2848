//! The invariants of SEMANTICS §10, checked on a whole book: after every step in tests, and
//! on every restored snapshot.

use super::Book;
use crate::error::{Error, Result};

impl Book {
    /// Checks the invariants of SEMANTICS §10: every account sums to zero; each member's
    /// `available`, `pending` and `held` equal its lots and holds; lots are in FIFO order;
    /// stock counts equal redemptions. A broken one is [`Error::Inconsistent`], saying what
    /// is broken.
    pub fn verify(&self) -> Result<()> {
        self.check_invariants()
            .map_err(|message| Error::Inconsistent { message })
    }

    /// Checks the invariants of SEMANTICS §10: every account sums to zero; each member's
    /// `available`, `pending` and `held` equal its lots and holds; lots are in FIFO order;
    /// stock counts equal redemptions. Returns what is broken.
    pub(crate) fn check_invariants(&self) -> std::result::Result<(), String> {
        let t = &self.state.totals;
        let mut sum = i128::from(t.issued)
            + i128::from(t.redeemed)
            + i128::from(t.expired)
            + i128::from(t.forfeited)
            + i128::from(t.forgiven);
        let mut usage = std::collections::BTreeMap::<String, u64>::new();
        for (id, m) in &self.state.members {
            sum += i128::from(m.available) + i128::from(m.pending) + i128::from(m.held);
            if &m.id != id {
                return Err(format!("member {id} is stored as {}", m.id));
            }
            let avail: i64 = m.lots.available();
            let pending: i64 = m
                .lots
                .iter()
                .filter(|l| !l.matured)
                .map(|l| l.remaining)
                .sum();
            let held_lots: i64 = m.lots.iter().map(|l| l.held).sum();
            let held: i64 = m.holds.values().map(|h| h.points).sum();
            if m.debt < 0 || m.lots.iter().any(|l| l.remaining < 0 || l.held < 0) {
                return Err(format!("member {id}: negative debt or lot"));
            }
            if m.available != avail - m.debt {
                return Err(format!(
                    "member {id}: available {} != lots {avail} - debt {}",
                    m.available, m.debt
                ));
            }
            if m.debt > 0 && avail > 0 {
                return Err(format!(
                    "member {id}: debt {} unpaid with {avail} available",
                    m.debt
                ));
            }
            if m.pending != pending {
                return Err(format!(
                    "member {id}: pending {} != lots {pending}",
                    m.pending
                ));
            }
            if m.held != held || held != held_lots {
                return Err(format!(
                    "member {id}: held {} != holds {held} != lots {held_lots}",
                    m.held
                ));
            }
            for h in m.holds.values() {
                if h.parts.iter().map(|(_, n)| n).sum::<i64>() != h.points {
                    return Err(format!("member {id}: a hold's parts do not add up"));
                }
            }
            if m.lots
                .iter()
                .zip(m.lots.iter().skip(1))
                .any(|(a, b)| a.fifo_key() > b.fifo_key())
            {
                return Err(format!("member {id}: lots out of FIFO order"));
            }
            for r in m.redemptions.values().filter(|r| r.state.counts()) {
                *usage.entry(r.reward.clone()).or_default() += 1;
            }
        }
        if sum != 0 {
            return Err(format!("accounts sum to {sum}, not 0"));
        }
        let stored: std::collections::BTreeMap<String, u64> = self
            .state
            .reward_usage
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        if stored != usage {
            return Err(format!("reward usage {stored:?} != redemptions {usage:?}"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::book::tests::book;
    use crate::error::Error;

    /// A broken invariant is the typed `Inconsistent` error, naming what is broken.
    #[test]
    fn a_broken_invariant_is_an_inconsistent_state() {
        let mut book = book();
        assert_eq!(book.verify(), Ok(()));
        for m in book.state.members.values_mut() {
            m.available += 1;
        }
        match book.verify() {
            Err(e @ Error::Inconsistent { .. }) => {
                assert_eq!(e.code(), "inconsistent_state");
                assert_eq!(e.number(), 502);
                assert!(e.to_string().contains("member m1: available"), "{e}");
            }
            other => panic!("{other:?}"),
        }
    }

    /// A book whose records no longer read back cannot be written: the snapshot and the digest
    /// say so, rather than writing empty bytes and hashing them.
    #[test]
    fn records_that_do_not_read_back_fail_the_snapshot_and_the_digest() {
        let mut book = book();
        assert!(book.snapshot().is_ok() && book.digest().is_ok());
        book.state.purchases.damage();
        for result in [book.snapshot().map(|_| ()), book.digest().map(|_| ())] {
            match result {
                Err(Error::Inconsistent { message }) => {
                    assert!(message.contains("cannot be written"), "{message}")
                }
                other => panic!("{other:?}"),
            }
        }
    }
}

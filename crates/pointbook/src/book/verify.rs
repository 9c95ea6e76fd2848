//! The invariants of docs/semantics.md §10, checked on a whole book: after every step in tests, and
//! on every restored snapshot; and the values a restored snapshot holds, each within what
//! the engine itself could have written.

use super::Book;
use crate::error::{Error, Result};
use crate::instant::{out_of_range, Instant, YEARS};
use crate::reward::RedemptionState;
use chrono::Datelike;
use std::collections::{BTreeMap, BTreeSet};

impl Book {
    /// Checks the invariants of docs/semantics.md §10: every account sums to zero; each member's
    /// `available`, `pending` and `held` equal its lots and holds; lots are in FIFO order;
    /// stock counts equal redemptions. A broken one is [`Error::Inconsistent`], saying what
    /// is broken.
    pub fn verify(&self) -> Result<()> {
        self.check_invariants()
            .map_err(|message| Error::Inconsistent { message })
    }

    /// Checks the invariants of docs/semantics.md §10: every account sums to zero; each member's
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
            // Sums in 128 bits: a restored snapshot may hold any 64-bit values.
            let wide = |n: i64| i128::from(n);
            let avail: i128 = m
                .lots
                .iter()
                .filter(|l| l.matured)
                .map(|l| wide(l.remaining))
                .sum();
            let pending: i128 = m
                .lots
                .iter()
                .filter(|l| !l.matured)
                .map(|l| wide(l.remaining))
                .sum();
            let held_lots: i128 = m.lots.iter().map(|l| wide(l.held)).sum();
            let held: i128 = m.holds.values().map(|h| wide(h.points)).sum();
            if m.debt < 0 || m.lots.iter().any(|l| l.remaining < 0 || l.held < 0) {
                return Err(format!("member {id}: negative debt or lot"));
            }
            if wide(m.available) != avail - wide(m.debt) {
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
            if wide(m.pending) != pending {
                return Err(format!(
                    "member {id}: pending {} != lots {pending}",
                    m.pending
                ));
            }
            if wide(m.held) != held || held != held_lots {
                return Err(format!(
                    "member {id}: held {} != holds {held} != lots {held_lots}",
                    m.held
                ));
            }
            for h in m.holds.values() {
                if h.parts.iter().map(|(_, n)| wide(*n)).sum::<i128>() != wide(h.points) {
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
                *usage.entry(r.reward.clone()).or_default() += r.counted();
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

impl Book {
    /// Checks that every value of a restored state is one the engine could have written:
    /// clocks and the instants of events within the years events may carry, instants derived
    /// from them not before, tiers among the program's levels, lots
    /// numbered below the member's next number and never holding more than they were
    /// credited, hold parts naming lots that hold exactly those points. A snapshot that passes
    /// gives a book that works and saves. Returns what is wrong.
    pub(crate) fn check_values(&self) -> std::result::Result<(), String> {
        // Instants events carry, and clocks they move, are within the years events may carry;
        // instants derived from them (a maturity, an expiry, a hold's end, a next birthday)
        // may fall after 9999 (a lot earned in 9999 expires in 10000), never before 1900.
        let instant = |what: &str, t: Instant| match out_of_range(t) {
            Some(e) => Err(format!("{what}: {e}")),
            None => Ok(()),
        };
        let later = |what: &str, t: Instant| match t.year() < *YEARS.start() {
            true => Err(format!(
                "{what}: instant in year {} is before {}",
                t.year(),
                YEARS.start()
            )),
            false => Ok(()),
        };
        if let Some(clock) = self.state.clock {
            instant("the book's clock", clock)?;
        }
        let levels = self.program.levels().len();
        for (id, m) in &self.state.members {
            let at = |what: &str| format!("member {id}: {what}");
            instant(&at("enrolled"), m.enrolled_at)?;
            instant(&at("clock"), m.clock)?;
            instant(&at("last activity"), m.last_activity)?;
            if let Some(b) = m.next_birthday {
                later(&at("next birthday"), b)?;
            }
            if m.clock < m.enrolled_at {
                return Err(at("clock before its enrollment"));
            }
            if m.tier >= levels.max(1) || m.tier_history.iter().any(|(_, t)| *t >= levels.max(1)) {
                return Err(at(&format!("tier beyond the program's {levels} levels")));
            }
            for (t, _) in &m.tier_history {
                later(&at("tier change"), *t)?;
            }
            if i32::try_from(m.tier_window).is_err() {
                return Err(at("tier window out of range"));
            }
            let mut seqs = BTreeSet::new();
            let mut held_in = BTreeMap::<u64, i64>::new();
            for l in m.lots.iter() {
                instant(&at("lot earned"), l.earned_at)?;
                later(&at("lot maturity"), l.matures_at)?;
                if let Some(e) = l.expires_at {
                    later(&at("lot expiry"), e)?;
                }
                let within = l
                    .remaining
                    .checked_add(l.held)
                    .is_some_and(|n| n <= l.points);
                if l.seq >= m.next_lot || !seqs.insert(l.seq) || !within {
                    return Err(at(&format!("lot {} is not one it could hold", l.seq)));
                }
                held_in.insert(l.seq, l.held);
            }
            for (rid, h) in m.holds.iter() {
                later(&at("hold expiry"), h.expires_at)?;
                if h.points <= 0 || h.parts.iter().any(|(_, n)| *n <= 0) {
                    return Err(at(&format!("hold {rid} holds no points")));
                }
                for (seq, n) in &h.parts {
                    let Some(left) = held_in.get_mut(seq) else {
                        return Err(at(&format!("hold {rid} names no lot {seq}")));
                    };
                    *left = left
                        .checked_sub(*n)
                        .ok_or_else(|| at("a hold's parts overflow"))?;
                }
            }
            if held_in.values().any(|n| *n != 0) {
                return Err(at("lots hold other points than its holds"));
            }
            let rewards = &self.program.spec().rewards;
            for (rid, r) in m.redemptions.iter() {
                instant(&at("redemption"), r.at)?;
                if !rewards.iter().any(|x| x.id == r.reward) {
                    return Err(at(&format!("redemption {rid} of no reward of the program")));
                }
                let spent: i128 = r.lots.iter().map(|s| i128::from(s.points())).sum();
                for s in &r.lots {
                    let lot = s.lot(s.points());
                    instant(&at("spent lot earned"), lot.earned_at)?;
                    later(&at("spent lot maturity"), lot.matures_at)?;
                    if let Some(e) = lot.expires_at {
                        later(&at("spent lot expiry"), e)?;
                    }
                    if s.points() <= 0 || s.points() > lot.points || lot.seq >= m.next_lot {
                        return Err(at(&format!(
                            "redemption {rid}: a lot it spent is not one it could have"
                        )));
                    }
                }
                if r.units == 0
                    || r.points < 0
                    || r.reversed < 0
                    || r.reversed > r.points
                    || (!r.lots.is_empty() && spent != i128::from(r.points))
                {
                    return Err(at(&format!("redemption {rid}: its points do not add up")));
                }
                let held = r.state == RedemptionState::Held;
                match m.holds.get(rid) {
                    Some(h) if held && h.reward == r.reward => {}
                    None if !held => {}
                    _ => return Err(at(&format!("redemption {rid} and its hold disagree"))),
                }
            }
            if let Some(rid) = m.holds.keys().find(|rid| !m.redemptions.contains_key(*rid)) {
                return Err(at(&format!("hold {rid} of no redemption")));
            }
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

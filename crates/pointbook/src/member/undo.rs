//! Changing members in place, and putting them back: the undo log of a member.
//!
//! An event changes the members it touches where they are in the book. Before a change, each
//! member remembers in its [`UndoLog`] what the change overwrites: its scalar fields as they
//! were (all of them, once, when the event first touches it), the old value of each tier-metric
//! and cap entry it changes, the length of its tier history (which only grows), each lot as it
//! was before it changed, was added or was dropped ([`crate::lot::LotLog`]), the old value of
//! each hold and redemption it changes, and a copy of its personal data if erased. If the
//! event is rejected, every touched member is put back from its log, byte for byte; if it
//! succeeds, the logs are dropped.
//!
//! This replaced copying every touched member and swapping the copies in on success: each copy
//! allocated the member, its lots and its five maps, and freed the member it replaced, for
//! every member with something due at each `advance` too.
//!
//! Every change to a member's collections goes through [`Member::lots_mut`] or is preceded by
//! one of the `save_*` methods. Debug builds (every test) check that this holds: a touched
//! member keeps a full copy of itself from before the event, and committing checks that
//! undoing the event's changes on a copy of the member gives exactly that copy back.

use super::{Member, NextDue, WindowEnd};
use crate::ids::{EventId, MemberId};
use crate::instant::Instant;
use crate::lot::{LotLog, LotsMut};
use crate::reward::{Hold, Redemption};
use crate::vec_map::VecMap;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// A member's undo log for the event being applied; empty outside a transaction (and in the
/// copies a quote or a balance works on). Not part of the member's state: never written,
/// equal whatever it holds, and not copied with the member.
#[derive(Debug, Default)]
pub(crate) struct UndoLog(Option<Box<Undo>>);

impl Clone for UndoLog {
    fn clone(&self) -> Self {
        UndoLog(None)
    }
}

impl PartialEq for UndoLog {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// What one event overwrote in one member.
#[derive(Clone, Debug)]
struct Undo {
    scalars: Scalars,
    lots: LotLog,
    holds: Entries<EventId, Hold>,
    redemptions: Entries<EventId, Redemption>,
    metric: Entries<i64, Decimal>,
    caps: Entries<String, Decimal>,
    personal: Option<Personal>,
    /// The member as it was (debug builds: checked against the log at commit).
    #[cfg(debug_assertions)]
    before: Box<Member>,
}

/// The fields of a member that are plain values, as they were.
#[derive(Clone, Copy, Debug)]
struct Scalars {
    clock: Instant,
    closed: bool,
    referral_paid: bool,
    first_purchase_done: bool,
    available: i64,
    pending: i64,
    held: i64,
    debt: i64,
    next_lot: u64,
    tier: usize,
    tier_window: i64,
    tier_changes: usize,
    next_birthday: Option<Instant>,
    last_activity: Instant,
    at_risk_window: Option<i32>,
    window_end: WindowEnd,
    due: NextDue,
}

impl Scalars {
    /// Every field of the member is named here, so that a new field must be sorted into a
    /// scalar or a collection with its own `save_*`.
    fn of(m: &Member) -> Scalars {
        let Member {
            id: _,          // never changes
            enrolled_at: _, // never changes
            clock,
            closed,
            birthday: _,    // personal
            referred_by: _, // personal
            referral_paid,
            first_purchase_done,
            attributes: _, // personal
            available,
            pending,
            held,
            debt,
            lots: _, // lots_mut
            next_lot,
            holds: _,       // save_hold
            redemptions: _, // save_redemption
            tier,
            tier_window,
            tier_history,
            metric: _, // save_metric
            caps: _,   // save_cap
            next_birthday,
            last_activity,
            at_risk_window,
            window_end,
            due,
            undo: _,
        } = m;
        Scalars {
            clock: *clock,
            closed: *closed,
            referral_paid: *referral_paid,
            first_purchase_done: *first_purchase_done,
            available: *available,
            pending: *pending,
            held: *held,
            debt: *debt,
            next_lot: *next_lot,
            tier: *tier,
            tier_window: *tier_window,
            tier_changes: tier_history.len(),
            next_birthday: *next_birthday,
            last_activity: *last_activity,
            at_risk_window: *at_risk_window,
            window_end: *window_end,
            due: *due,
        }
    }

    fn restore(self, m: &mut Member) {
        m.clock = self.clock;
        m.closed = self.closed;
        m.referral_paid = self.referral_paid;
        m.first_purchase_done = self.first_purchase_done;
        m.available = self.available;
        m.pending = self.pending;
        m.held = self.held;
        m.debt = self.debt;
        m.next_lot = self.next_lot;
        m.tier = self.tier;
        m.tier_window = self.tier_window;
        m.tier_history.truncate(self.tier_changes);
        m.next_birthday = self.next_birthday;
        m.last_activity = self.last_activity;
        m.at_risk_window = self.at_risk_window;
        m.window_end = self.window_end;
        m.due = self.due;
    }
}

/// What `forget` erases.
#[derive(Clone, Debug)]
struct Personal {
    birthday: Option<NaiveDate>,
    referred_by: Option<MemberId>,
    attributes: BTreeMap<String, String>,
}

/// The old values of the entries changed in a map.
#[derive(Clone, Debug)]
struct Entries<K, V> {
    old: Vec<(K, Option<V>)>,
}

impl<K, V> Default for Entries<K, V> {
    fn default() -> Self {
        Entries { old: Vec::new() }
    }
}

impl<K: Ord + Clone, V: Clone> Entries<K, V> {
    fn save(&mut self, map: &VecMap<K, V>, key: &K) {
        self.old.push((key.clone(), map.get(key).cloned()));
    }

    /// The oldest value of each entry is put back last.
    fn restore(self, map: &mut VecMap<K, V>) {
        for (key, value) in self.old.into_iter().rev() {
            match value {
                Some(v) => map.insert(key, v),
                None => map.remove(&key),
            };
        }
    }
}

impl Member {
    /// Starts the member's undo log for an event (nothing if one is open). Returns whether it
    /// started one.
    pub fn begin_undo(&mut self) -> bool {
        if self.undo.0.is_some() {
            return false;
        }
        self.undo.0 = Some(Box::new(Undo {
            scalars: Scalars::of(self),
            lots: LotLog::default(),
            holds: Entries::default(),
            redemptions: Entries::default(),
            metric: Entries::default(),
            caps: Entries::default(),
            personal: None,
            #[cfg(debug_assertions)]
            before: Box::new(self.clone()),
        }));
        true
    }

    /// The open lots, for changing them (each change logged).
    pub fn lots_mut(&mut self) -> LotsMut<'_> {
        LotsMut::new(&mut self.lots, self.undo.0.as_mut().map(|u| &mut u.lots))
    }

    /// Before a change to the hold of redemption `id`.
    pub fn save_hold(&mut self, id: &EventId) {
        if let Some(u) = &mut self.undo.0 {
            u.holds.save(&self.holds, id);
        }
    }

    /// Before a change to redemption `id`.
    pub fn save_redemption(&mut self, id: &EventId) {
        if let Some(u) = &mut self.undo.0 {
            u.redemptions.save(&self.redemptions, id);
        }
    }

    /// Before a change to the tier metric of window (or day) `key`.
    pub fn save_metric(&mut self, key: i64) {
        if let Some(u) = &mut self.undo.0 {
            u.metric.save(&self.metric, &key);
        }
    }

    /// Before a change to the cap usage `key`.
    pub fn save_cap(&mut self, key: &String) {
        if let Some(u) = &mut self.undo.0 {
            u.caps.save(&self.caps, key);
        }
    }

    /// Before the birthday, referrer or attributes change (erasure).
    pub fn save_personal(&mut self) {
        if let Some(u) = &mut self.undo.0 {
            if u.personal.is_none() {
                u.personal = Some(Personal {
                    birthday: self.birthday,
                    referred_by: self.referred_by.clone(),
                    attributes: self.attributes.clone(),
                });
            }
        }
    }

    /// Keeps the tier metric entries whose key passes `keep` (each removed one logged).
    pub fn retain_metric(&mut self, keep: impl Fn(i64) -> bool) {
        let gone: Vec<i64> = self.metric.keys().copied().filter(|k| !keep(*k)).collect();
        for key in gone {
            self.save_metric(key);
            self.metric.remove(&key);
        }
    }

    /// Removes every cap usage entry (each logged).
    pub fn clear_caps(&mut self) {
        let caps = std::mem::take(&mut self.caps);
        if let Some(u) = &mut self.undo.0 {
            u.caps
                .old
                .extend(caps.into_iter().map(|(k, v)| (k, Some(v))));
        }
    }

    /// Puts the member back as it was before the event and closes the log.
    pub fn roll_back(&mut self) {
        if let Some(undo) = self.undo.0.take() {
            self.restore(*undo);
        }
    }

    /// Keeps the event's changes and closes the log. Debug builds check that the log holds
    /// every change: undone on a copy, it gives back the member as it was.
    pub fn commit(&mut self) {
        let Some(undo) = self.undo.0.take() else {
            return;
        };
        #[cfg(debug_assertions)]
        {
            let before = undo.before.clone();
            let mut copy = self.clone();
            copy.restore(*undo);
            assert_eq!(
                copy, *before,
                "the undo log of member {} misses a change",
                self.id
            );
        }
        #[cfg(not(debug_assertions))]
        drop(undo);
    }

    fn restore(&mut self, undo: Undo) {
        let Undo {
            scalars,
            lots,
            holds,
            redemptions,
            metric,
            caps,
            personal,
            ..
        } = undo;
        lots.undo(&mut self.lots);
        holds.restore(&mut self.holds);
        redemptions.restore(&mut self.redemptions);
        metric.restore(&mut self.metric);
        caps.restore(&mut self.caps);
        if let Some(p) = personal {
            self.birthday = p.birthday;
            self.referred_by = p.referred_by;
            self.attributes = p.attributes;
        }
        scalars.restore(self);
    }
}

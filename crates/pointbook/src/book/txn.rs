//! Applying one event: a [`Txn`] changes the book's members in place ([`Members`], each
//! touched member keeping an undo log); the book writes the rest (purchase records, totals,
//! reward usage, the event's record) only on success, and a rejected event puts every member
//! back, so it changes nothing. The handler of each event type lives with its concept:
//! enroll and forget in [`crate::membership`], purchase in [`crate::earning`], refund in
//! [`crate::refund`], redeem, confirm and cancel in [`crate::redeem`], adjust and transfer in
//! [`crate::transfer`]; advance here.

use crate::book::members::Members;
use crate::error::{Error, Result};
use crate::event::{validate_basket, validate_event, validate_head, Event, Purchase};
use crate::ids::{EventId, MemberId};
use crate::instant::Instant;
use crate::ledger::{Journal, Totals};
use crate::program::Program;
use crate::purchase::PurchaseRecord;
use crate::purchases::Purchases;
use crate::state::State;
use std::collections::BTreeMap;

/// A transaction: the members it changes, the journal, and the writes the book makes if the
/// event succeeds. An event touches one or two members and purchase records (an `advance`
/// many members, each once), so the writes are kept in short vectors: no tree or table to
/// allocate per event.
pub(crate) struct Txn<'a> {
    pub p: &'a Program,
    /// The book's members (a quote: copies of the ones it reads).
    pub book: Members<'a>,
    /// The book's purchase records, read only (this transaction's own are `purchases`).
    pub records: &'a Purchases,
    pub j: Journal<'a>,
    /// Purchase records written by the transaction, each key once.
    pub purchases: Vec<((MemberId, EventId), PurchaseRecord)>,
    /// Members whose purchase records all go (`forget`).
    pub erased: Vec<MemberId>,
    /// A quote: nothing will be committed, so no purchase record is written.
    pub quoting: bool,
}

/// What a committed transaction leaves for the book to write.
pub(crate) struct Done<'a> {
    pub j: Journal<'a>,
    pub purchases: Vec<((MemberId, EventId), PurchaseRecord)>,
    pub erased: Vec<MemberId>,
}

impl<'a> Txn<'a> {
    /// A transaction of `event` that changes a book's members in place.
    pub fn in_place(p: &'a Program, state: &'a mut State, event: EventId) -> Self {
        let State {
            members,
            purchases,
            totals,
            reward_usage,
            ..
        } = state;
        Txn::of(
            p,
            Members::in_place(members),
            purchases,
            *totals,
            reward_usage,
            event,
        )
    }

    /// A transaction of `event` on copies of the members it touches: the book stays as it is
    /// (a quote).
    pub fn on_copies(p: &'a Program, state: &'a State, event: EventId) -> Self {
        Txn::of(
            p,
            Members::copies(&state.members),
            &state.purchases,
            state.totals,
            &state.reward_usage,
            event,
        )
    }

    fn of(
        p: &'a Program,
        book: Members<'a>,
        records: &'a Purchases,
        totals: Totals,
        reward_usage: &'a BTreeMap<String, u64>,
        event: EventId,
    ) -> Self {
        Txn {
            p,
            book,
            records,
            j: Journal::new(event, totals, reward_usage),
            purchases: Vec::new(),
            erased: Vec::new(),
            quoting: false,
        }
    }

    /// Keeps the changes to the members and hands over the rest for the book to write.
    pub fn commit(self) -> Done<'a> {
        let Txn {
            p,
            book,
            j,
            purchases,
            erased,
            ..
        } = self;
        #[cfg(debug_assertions)]
        book.check_due(p);
        #[cfg(not(debug_assertions))]
        let _ = p;
        book.commit();
        Done {
            j,
            purchases,
            erased,
        }
    }

    /// What a purchase would do, on copies of its members (a quote: nothing is committed).
    pub fn quote(&mut self, purchase: &Purchase) -> Result<()> {
        validate_head(&purchase.id, Some(&purchase.member), purchase.at)?;
        validate_basket(self.p, purchase)?;
        self.quoting = true;
        self.purchase(purchase)
    }

    /// Applies one event (already validated).
    pub fn run(&mut self, e: &Event, book_clock: Option<Instant>) -> Result<()> {
        validate_event(self.p, e)?;
        match e {
            Event::Enroll(e) => self.enroll(e, book_clock),
            Event::Purchase(e) => self.purchase(e),
            Event::Refund(e) => self.refund(e),
            Event::Redeem(e) => self.redeem(e),
            Event::Confirm(e) => self.settle(e, true),
            Event::Cancel(e) => self.settle(e, false),
            Event::Adjust(e) => self.adjust(e),
            Event::Transfer(e) => self.transfer(e),
            Event::Advance(e) => self.advance(e.at, book_clock),
            Event::Forget(e) => self.forget(e),
            Event::Reverse(e) => self.reverse(e),
        }
    }

    pub fn advance(&mut self, at: Instant, book_clock: Option<Instant>) -> Result<()> {
        let p = self.p;
        if let Some(clock) = book_clock {
            self.j.check_late(p, at, clock)?;
        }
        // Members behind the instant with something due by then are brought up to date, in
        // member order (postings and effects are written in that order).
        let due = self.book.due(p, at);
        self.book.touched.reserve(due.len());
        let j = &mut self.j;
        for id in &due {
            let m = self.book.touch(j, id)?;
            m.catch_up(p, j, at)?;
            // Caught up to `at`, its clock: `close` would find nothing more due.
            m.drop_empty_lots();
        }
        // The others only have their clocks moved, in place and without an undo log: nothing
        // can fail after this, and the event is committed once this returns.
        self.book.move_clocks(j, at)
    }
}

/// A purchase record: as this transaction wrote it, or as the book holds it (none for an
/// erased member).
pub(crate) fn purchase_record(
    records: &Purchases,
    written: &[((MemberId, EventId), PurchaseRecord)],
    erased: &[MemberId],
    member: &MemberId,
    id: &EventId,
) -> Result<Option<PurchaseRecord>> {
    if erased.contains(member) {
        return Ok(None);
    }
    match written.iter().find(|((m, p), _)| m == member && p == id) {
        Some((_, r)) => Ok(Some(r.clone())),
        None => records
            .get(member, id)
            .transpose()
            .map_err(|err| Error::InvalidSnapshot {
                message: format!("purchase record of {id}: {err}"),
            }),
    }
}

/// Writes a purchase record.
pub(crate) fn set_purchase(
    written: &mut Vec<((MemberId, EventId), PurchaseRecord)>,
    key: (MemberId, EventId),
    record: PurchaseRecord,
) {
    match written.iter_mut().find(|(k, _)| *k == key) {
        Some((_, r)) => *r = record,
        None => written.push((key, record)),
    }
}

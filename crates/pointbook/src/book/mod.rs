//! The book: the state of one program, changed only by events.

pub(crate) mod members;
mod snapshot;
pub(crate) mod txn;
mod verify;

pub use snapshot::SNAPSHOT_VERSION;

use crate::applied::{self, IdKey, Prior};
use crate::book::txn::{Done, Txn};
use crate::error::{Error, Result};
use crate::event::{Advance, Event, Purchase, Quote};
use crate::ids::{EventId, MemberId};
use crate::instant::Instant;
use crate::ledger::{Journal, Totals};
use crate::member::Member;
use crate::outcome::{Balance, LotView, Outcome, Progress, ProgressStep};
use crate::program::Program;
use crate::record;
use crate::state::{self, State};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use std::borrow::Cow;

/// The state of one program: members, lots, holds, tiers, counters.
///
/// Every change is an [`Event`] applied by [`Book::apply`], a pure, deterministic function of
/// the book and the event. A rejected event changes nothing.
///
/// ```
/// use pointbook::{Book, Event, Program, samples};
///
/// let mut book = Book::new(Program::from_toml(samples::BEAN_AND_LEAF)?);
/// book.apply(&Event::from_json(r#"{"type":"enroll","id":"e1","member":"m1","at":"2026-03-01T15:00:00Z"}"#)?)?;
/// let outcome = book.apply(&Event::from_json(r#"{"type":"purchase","id":"p1","member":"m1",
///     "at":"2026-03-14T13:30:00Z","lines":[
///       {"sku":"LATTE","category":"coffee","amount":"4.75"},
///       {"sku":"CROISSANT","category":"pastry","amount":"3.50"},
///       {"sku":"GIFTCARD","category":"gift_card","amount":"25.00"}]}"#)?)?;
/// assert_eq!(outcome.points, 11);
/// let balance = book.balance(&"m1".into())?;
/// assert_eq!((balance.available, balance.pending), (25, 11));
/// # Ok::<(), pointbook::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Book {
    program: Program,
    state: State,
}

impl Book {
    /// An empty book for a program.
    pub fn new(program: Program) -> Book {
        Book {
            program,
            state: State::default(),
        }
    }

    /// The book's program.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The latest instant of any applied event (`None` before the first).
    pub fn clock(&self) -> Option<Instant> {
        self.state.clock
    }

    /// Program-wide accounts.
    pub fn totals(&self) -> Totals {
        self.state.totals
    }

    /// Number of members ever enrolled (forgotten ones included).
    pub fn member_count(&self) -> usize {
        self.state.members.len()
    }

    /// Member ids, sorted.
    pub fn member_ids(&self) -> Vec<&MemberId> {
        let mut ids: Vec<&MemberId> = self.state.members.keys().collect();
        ids.sort_unstable();
        ids
    }

    /// Applies an event. Sending the same event again returns the original outcome marked
    /// `duplicate`; a different event with a used id is rejected with [`Error::IdConflict`].
    /// On error the book is unchanged.
    pub fn apply(&mut self, event: &Event) -> Result<Outcome> {
        let clock = self.state.clock;
        self.apply_checked_against(event, clock)
    }

    /// [`Book::apply`], with late enrollments and advances checked against `book_clock`
    /// instead of this book's clock (a shard of a parallel replay checks against the clock
    /// of the whole history).
    pub(crate) fn apply_checked_against(
        &mut self,
        event: &Event,
        book_clock: Option<Instant>,
    ) -> Result<Outcome> {
        let key = IdKey::of(event.id().as_str());
        let content = content_of(event);
        if let Some(reply) = self.reply_to_prior(event, key, content, book_clock) {
            return reply;
        }
        let mut tx = Txn::in_place(&self.program, &mut self.state, event.id().clone());
        // A rejected event: dropping the transaction puts its members back.
        tx.run(event, book_clock)?;
        let Done {
            mut j,
            purchases,
            erased,
        } = tx.commit();
        let totals = j.totals;
        // The usage the event changed, if it did (the journal otherwise only borrowed it).
        let usage = match std::mem::take(&mut j.reward_usage) {
            Cow::Owned(usage) => Some(usage),
            Cow::Borrowed(_) => None,
        };
        let outcome = outcome_of(event.id(), event.kind(), event.at(), j);
        for ((member, purchase), record) in purchases {
            self.state.purchases.insert(member, purchase, &record);
        }
        for member in &erased {
            self.state.purchases.erase(member);
        }
        self.state.totals = totals;
        if let Some(usage) = usage {
            self.state.reward_usage = usage;
        }
        self.state.clock = Some(self.state.clock.map_or(event.at(), |c| c.max(event.at())));
        let state = &mut self.state;
        let member = event.member().cloned();
        state.applied.insert(key, content, member, &outcome);
        let (members, clock) = (&state.members, state.clock);
        let tolerance = self.program.late_tolerance();
        state
            .applied
            .prune(tolerance, |m| state::clock_of(members, m, clock));
        Ok(outcome)
    }

    /// The reply to an event already applied, as this book gives it with its clock at
    /// `book_clock` (`None` if the event's id was never applied).
    pub(crate) fn reply_to_resend(
        &self,
        event: &Event,
        book_clock: Option<Instant>,
    ) -> Option<Result<Outcome>> {
        let key = IdKey::of(event.id().as_str());
        self.reply_to_prior(event, key, content_of(event), book_clock)
    }

    /// The reply to an event whose id (`key`) was applied before (docs/semantics.md §9): another
    /// event under the id is [`Error::IdConflict`]; a resend gets its original outcome, marked
    /// duplicate, while the original is within the late tolerance of its member's clock (the
    /// book's, `book_clock`, for an event of no member), and its id and points after that.
    /// `None` for an id never applied.
    fn reply_to_prior(
        &self,
        event: &Event,
        key: IdKey,
        content: u64,
        book_clock: Option<Instant>,
    ) -> Option<Result<Outcome>> {
        let older = |kept| kept_by_older_book(event, kept);
        let (seen, recorded) = match self.state.applied.prior(key, content, older)? {
            Prior::Conflict => {
                return Some(Err(Error::IdConflict {
                    event: event.id().to_string(),
                }))
            }
            Prior::Resend { seen, outcome } => (seen, outcome),
        };
        let full = recorded.filter(|(member, at, _)| {
            applied::kept(
                *at,
                state::clock_of(&self.state.members, *member, book_clock),
                self.program.late_tolerance(),
            )
        });
        let mut outcome = match full {
            Some((_, _, record)) => match record::decode(record) {
                Ok(outcome) => outcome,
                Err(e) => {
                    return Some(Err(Error::Inconsistent {
                        message: format!("recorded outcome of {}: {e}", event.id()),
                    }))
                }
            },
            None => Outcome {
                event: event.id().clone(),
                kind: Cow::Borrowed(event.kind()),
                at: event.at(),
                duplicate: false,
                points: seen.points,
                postings: Vec::new(),
                effects: Vec::new(),
                explanation: Vec::new(),
                discount: None,
            },
        };
        outcome.duplicate = true;
        Some(Ok(outcome))
    }

    /// The outcome recorded for an applied event (as first returned, not marked duplicate),
    /// while it is held in full.
    pub(crate) fn recorded_outcome(&self, id: &EventId) -> Option<Outcome> {
        self.state.applied.outcome(id.as_str())?.ok()
    }

    /// Parses and applies one JSON event.
    pub fn apply_json(&mut self, json: &str) -> Result<Outcome> {
        self.apply(&Event::from_json(json)?)
    }

    /// What a purchase would do, without doing it: what a till shows before payment.
    /// The purchase's id is not checked for reuse.
    pub fn quote(&self, purchase: &Purchase) -> Result<Outcome> {
        let mut tx = Txn::on_copies(&self.program, &self.state, purchase.id.clone());
        tx.quote(purchase)?;
        Ok(outcome_of(&purchase.id, "purchase", purchase.at, tx.j))
    }

    /// What a basket would do paid in part with a reward (a points payment, a percent off or
    /// an amount off), without doing it: "use 500 points: −$5.00, earn 7 points". The
    /// redemption comes first and its discount is taken off the lines before they earn
    /// (docs/semantics-extensions.md); the outcome carries both, and the discount. Without
    /// `pay`, [`Book::quote`].
    pub fn quote_order(&self, quote: &Quote) -> Result<Outcome> {
        let purchase = &quote.purchase;
        let Some(pay) = &quote.pay else {
            return self.quote(purchase);
        };
        let mut tx = Txn::on_copies(&self.program, &self.state, purchase.id.clone());
        tx.quote_paid(purchase, pay)?;
        Ok(outcome_of(&purchase.id, "purchase", purchase.at, tx.j))
    }

    /// Moves the clock of every member to `at` (an `advance` event with id
    /// `advance@<instant>`).
    pub fn advance(&mut self, at: Instant) -> Result<Outcome> {
        let id = format!(
            "advance@{}",
            at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        );
        self.apply(&Event::Advance(Advance {
            id: EventId::new(id),
            at,
        }))
    }

    fn member(&self, id: &MemberId) -> Result<&Member> {
        self.state
            .members
            .get(id)
            .map(|m| &**m)
            .ok_or_else(|| Error::UnknownMember {
                event: "-".into(),
                member: id.to_string(),
            })
    }

    /// A copy of a member brought up to `t` (nothing in the book changes).
    fn member_at(&self, m: &Member, t: Option<Instant>) -> Member {
        let mut m = m.clone();
        if let Some(t) = t {
            if !m.closed && t > m.clock {
                let mut j = Journal::new(
                    EventId::new("-"),
                    self.state.totals,
                    &self.state.reward_usage,
                );
                let before = m.clone();
                if m.catch_up(&self.program, &mut j, t).is_err() {
                    return before;
                }
            }
        }
        m
    }

    /// A member's balance as of the book's clock.
    pub fn balance(&self, member: &MemberId) -> Result<Balance> {
        let m = self.member_at(self.member(member)?, self.state.clock);
        Ok(self.balance_of(&m))
    }

    /// What is left of a purchase after its refunds: the sum of its lines' amounts (`None`
    /// for an unknown purchase). Analytics take a refund's money from the change in this.
    pub fn purchase_amount(&self, member: &MemberId, purchase: &EventId) -> Option<Decimal> {
        let record = self.state.purchases.get(member, purchase)?.ok()?;
        let (_, lines) = record.receipt.read().ok()?;
        Some(
            lines
                .iter()
                .fold(Decimal::ZERO, |sum, l| sum.saturating_add(l.amount)),
        )
    }

    /// Every member's balance as of the book's clock, sorted by member id.
    pub fn balances(&self) -> Vec<Balance> {
        let mut members: Vec<&Member> = self.state.members.values().map(|m| &**m).collect();
        members.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        members
            .into_iter()
            .map(|m| self.balance_of(&self.member_at(m, self.state.clock)))
            .collect()
    }

    fn balance_of(&self, m: &Member) -> Balance {
        let p = &self.program;
        Balance {
            member: m.id.clone(),
            tier: p
                .levels()
                .get(m.tier)
                .map(|l| l.id.clone())
                .unwrap_or_default(),
            available: m.available,
            pending: m.pending,
            held: m.held,
            debt: m.debt,
            lots: m
                .lots
                .iter()
                .filter(|l| l.remaining > 0)
                .map(|l| LotView {
                    points: l.remaining,
                    state: if l.matured { "available" } else { "pending" }.to_owned(),
                    earned_at: l.earned_at,
                    expires_at: m.effective_expiry(p, l),
                    source: l.source.clone(),
                })
                .collect(),
        }
    }

    /// Tier progress of a member at `at` (or the member's clock, if later): the metric in the
    /// current window, what the next level needs, and what keeps the current one. An `at`
    /// outside the years 1900 to 9999 is [`Error::InvalidOptions`].
    pub fn progress(&self, member: &MemberId, at: Instant) -> Result<Progress> {
        if let Some(why) = crate::instant::out_of_range(at) {
            return Err(Error::InvalidOptions {
                message: format!("progress at: {why}"),
            });
        }
        let m = self.member(member)?;
        let t = at.max(m.clock);
        let m = self.member_at(m, Some(t));
        let p = &self.program;
        let (metric, window_ends) = m.current_metric(p, t);
        let levels = p.levels();
        let need = |threshold: Decimal| (threshold - metric).max(Decimal::ZERO);
        Ok(Progress {
            member: m.id.clone(),
            at: t,
            tier: levels.get(m.tier).map(|l| l.id.clone()).unwrap_or_default(),
            metric,
            window_ends,
            next: levels.get(m.tier + 1).map(|l| ProgressStep {
                tier: l.id.clone(),
                needed: need(l.threshold),
            }),
            to_keep: levels
                .get(m.tier)
                .map(|l| need(l.threshold))
                .unwrap_or_default(),
        })
    }
}

impl Book {
    /// Merges books that replayed disjoint groups of members of one history (each with every
    /// `advance`): members, purchases and recorded events are unioned, totals and reward
    /// usage summed, the clock is the latest; an `advance` recorded by several books gets the
    /// outcome the whole book would have recorded (its movements in member order). Returns
    /// `None` when the books cannot be merged exactly (an event id used in two of them for
    /// different events, or advances that fared differently). `advances` holds, by id, the
    /// outcome each book got for each advance it applied.
    pub(crate) fn merge(
        program: Program,
        books: Vec<Book>,
        advances: std::collections::HashMap<EventId, Vec<Outcome>>,
    ) -> Option<Book> {
        // The largest book is the base: its tables, the largest, are not rebuilt.
        let mut books = books;
        let mut state = match (0..books.len()).max_by_key(|&i| books[i].state.applied.len()) {
            Some(largest) => books.swap_remove(largest).state,
            None => State::default(),
        };
        state
            .members
            .reserve(books.iter().map(|b| b.state.members.len()).sum());
        state
            .applied
            .reserve(books.iter().map(|b| b.state.applied.len()).sum());
        state
            .purchases
            .reserve(books.iter().map(|b| b.state.purchases.members()).sum());
        let shared: std::collections::HashSet<IdKey> =
            advances.keys().map(|id| IdKey::of(id.as_str())).collect();
        for b in books {
            let s = b.state;
            state.clock = state.clock.max(s.clock);
            state.members.extend(s.members);
            state.purchases.absorb(s.purchases)?;
            let t = &mut state.totals;
            t.issued = t.issued.checked_add(s.totals.issued)?;
            t.redeemed = t.redeemed.checked_add(s.totals.redeemed)?;
            t.expired = t.expired.checked_add(s.totals.expired)?;
            t.forfeited = t.forfeited.checked_add(s.totals.forfeited)?;
            t.forgiven = t.forgiven.checked_add(s.totals.forgiven)?;
            for (reward, n) in s.reward_usage {
                let u = state.reward_usage.entry(reward).or_insert(0);
                *u = u.checked_add(n)?;
            }
            // An id recorded by two books: an advance (it went to every one), or an id two
            // member groups used, which one book would have refused.
            state
                .applied
                .absorb(s.applied, |key| shared.contains(&key))?;
        }
        for (id, parts) in advances {
            let merged = merge_advance(parts)?;
            let key = IdKey::of(id.as_str());
            let content = state.applied.seen(key)?.content;
            state.applied.insert(key, content, None, &merged);
        }
        Some(Book { program, state })
    }
}

/// One advance's outcomes from several shards as the whole book's: movements grouped by
/// member, in member order (the order the book brings members up to date).
pub(crate) fn merge_advance(parts: Vec<Outcome>) -> Option<Outcome> {
    use crate::outcome::Account;
    fn member_of(p: &crate::Posting) -> Option<&MemberId> {
        [&p.from, &p.to].into_iter().find_map(|a| match a {
            Account::Available(m) | Account::Pending(m) | Account::Held(m) => Some(m),
            _ => None,
        })
    }
    fn runs<T>(
        items: Vec<T>,
        key: impl Fn(&T) -> Option<&MemberId>,
        out: &mut Vec<(MemberId, Vec<T>)>,
    ) -> Option<()> {
        for item in items {
            let m = key(&item)?.clone();
            match out.last_mut() {
                Some((last, v)) if *last == m => v.push(item),
                _ => out.push((m, vec![item])),
            }
        }
        Some(())
    }
    fn ordered<T>(mut all: Vec<(MemberId, Vec<T>)>) -> Vec<T> {
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all.into_iter().flat_map(|(_, v)| v).collect()
    }
    let mut parts = parts.into_iter();
    let mut merged = parts.next()?;
    let (mut postings, mut effects, mut explanation) = (Vec::new(), Vec::new(), Vec::new());
    let mut add = |o: &mut Outcome| -> Option<()> {
        runs(std::mem::take(&mut o.postings), member_of, &mut postings)?;
        runs(
            std::mem::take(&mut o.effects),
            |e| Some(e.member()),
            &mut effects,
        )?;
        runs(
            std::mem::take(&mut o.explanation),
            |l| Some(&l.member),
            &mut explanation,
        )
    };
    add(&mut merged)?;
    for mut o in parts {
        if o.event != merged.event || o.at != merged.at || o.duplicate != merged.duplicate {
            return None;
        }
        merged.points = merged.points.checked_add(o.points)?;
        add(&mut o)?;
    }
    merged.postings = ordered(postings);
    merged.effects = ordered(effects);
    merged.explanation = ordered(explanation);
    Some(merged)
}

/// The fingerprint of an event's identity form ([`Event::write_identity`],
/// [`applied::fingerprint`]).
fn content_of(event: &Event) -> u64 {
    let mut hash = Sha256::new();
    event.write_identity(&mut hash);
    applied::fingerprint(&hash.finalize())
}

/// Whether `kept` is the fingerprint a book of an earlier snapshot version kept for `event`:
/// of its canonical JSON with decimals by value (version 3), or as written (1 and 2). Asked
/// only when the fingerprint of the identity form differs from the one kept, so that a resend
/// of an event applied by such a book is still a resend.
fn kept_by_older_book(event: &Event, kept: u64) -> bool {
    let of = |write: fn(&Event, &mut Vec<u8>)| {
        let mut json = Vec::with_capacity(512);
        write(event, &mut json);
        applied::fingerprint(&Sha256::digest(&json))
    };
    kept == of(Event::write_identity_json) || kept == of(Event::write_identity_as_written)
}

fn outcome_of(event: &EventId, kind: &'static str, at: Instant, j: Journal) -> Outcome {
    Outcome {
        event: event.clone(),
        kind: Cow::Borrowed(kind),
        at,
        duplicate: false,
        points: j.points,
        postings: j.postings,
        effects: j.effects,
        explanation: j.explanation,
        discount: j.discount,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::samples::BEAN_AND_LEAF;

    /// Bean & Leaf with m1 enrolled and one purchase of 100.00: a book for unit tests.
    pub(crate) fn book() -> Book {
        let program = Program::from_toml(BEAN_AND_LEAF).unwrap_or_else(|e| panic!("{e}"));
        let mut book = Book::new(program);
        for e in [
            r#"{"type":"enroll","id":"e1","member":"m1","at":"2026-01-10T15:00:00Z"}"#,
            r#"{"type":"purchase","id":"p1","member":"m1","at":"2026-02-01T15:00:00Z","lines":[{"sku":"BEANS","category":"coffee","amount":"100.00"}]}"#,
        ] {
            book.apply_json(e).unwrap_or_else(|e| panic!("{e}"));
        }
        book
    }

    /// An event run on copies of the members it touches, as a quote runs a purchase.
    fn dry_run(book: &Book, event: &Event) -> Result<Outcome> {
        let mut tx = Txn::on_copies(&book.program, &book.state, event.id().clone());
        tx.run(event, book.state.clock)?;
        Ok(outcome_of(event.id(), event.kind(), event.at(), tx.j))
    }

    /// Every kind of event gives on copies (the way quotes run) what it gives in place, and
    /// leaves the book as it was: the bundled history, with rejected events among it.
    #[test]
    fn events_on_copies_give_what_they_give_in_place() {
        let program = Program::from_toml(BEAN_AND_LEAF).unwrap_or_else(|e| panic!("{e}"));
        let mut book = Book::new(program);
        let history = include_str!("../../../../examples/events/bean-and-leaf.jsonl");
        let more = [
            r#"{"type":"adjust","id":"x-credit","member":"m1","at":"2027-07-02T10:00:00Z","points":500,"reason":"goodwill"}"#,
            r#"{"type":"redeem","id":"x-hold","member":"m1","at":"2027-07-02T10:01:00Z","reward":"free-drink","hold":true}"#,
            r#"{"type":"cancel","id":"x-cancel","member":"m1","at":"2027-07-02T10:02:00Z","redemption":"x-hold"}"#,
        ];
        let rejected = [
            r#"{"type":"purchase","id":"x-nobody","member":"nobody","at":"2026-12-01T10:00:00Z","lines":[{"sku":"A","category":"coffee","amount":"1.00"}]}"#,
            r#"{"type":"transfer","id":"x-too-much","member":"m1","to":"m2","at":"2027-07-02T10:00:00Z","points":1000000}"#,
            r#"{"type":"enroll","id":"x-again","member":"m1","at":"2027-07-02T10:00:00Z"}"#,
        ];
        let mut kinds = std::collections::BTreeSet::new();
        let mut failures = 0;
        for line in history.lines().chain(more).chain(rejected) {
            let event = Event::from_json(line).unwrap_or_else(|e| panic!("{e}"));
            if book.state.applied.contains(event.id().as_str()) {
                continue; // a resent event: answered from its record, before any transaction
            }
            let before = book.digest();
            let dry = dry_run(&book, &event);
            assert_eq!(
                book.digest(),
                before,
                "a dry run of {} changed the book",
                event.id()
            );
            let applied = book.apply(&event);
            assert_eq!(dry, applied, "event {}", event.id());
            failures += usize::from(applied.is_err());
            kinds.insert(event.kind());
        }
        assert_eq!(
            failures,
            rejected.len() + 1,
            "the history's own p4 (4.755 USD) too"
        );
        assert_eq!(kinds.len(), 10, "every kind of event: {kinds:?}");
    }

    /// Members are changed in place: an event that panics half-way (a bug, caught by a
    /// binding) must leave them as they were, as a rejected event does.
    #[test]
    fn a_panic_while_applying_an_event_puts_its_members_back() {
        let mut book = book();
        let before = book.digest();
        // Months later: the purchase's lot has matured and the signup lot expired by then.
        let event = Event::from_json(
            r#"{"type":"purchase","id":"p2","member":"m1","at":"2027-02-01T15:00:00Z","lines":[{"sku":"BEANS","category":"coffee","amount":"10.00"}]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mut seen = None;
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut tx = Txn::in_place(&book.program, &mut book.state, event.id().clone());
            let applied = tx.run(&event, None).map(|()| tx.j.points);
            let m = tx.book.get(&"m1".into());
            seen = Some((applied, m.map(|m| (m.available, m.pending, m.lots.len()))));
            panic!("half-way through the event");
        }));
        // The event had changed the member in place: both earlier lots expired, one added.
        assert_eq!(seen, Some((Ok(10), Some((0, 10, 1)))));
        assert!(caught.is_err());
        assert_eq!(book.digest(), before);
        assert_eq!(book.verify(), Ok(()));
        // And the book goes on as if nothing had been tried.
        let outcome = book.apply(&event).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(outcome.points, 10);
    }
}

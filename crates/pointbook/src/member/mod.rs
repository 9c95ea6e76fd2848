//! A member's state: accounts, lots, holds, redemptions, tier standing, cap usage, counters;
//! and the undo log that puts back what a rejected event changed ([`undo`]).

mod undo;

use crate::event::Enroll;
use crate::ids::{EventId, MemberId};
use crate::instant::Instant;
use crate::lot::Lots;
use crate::reward::{Hold, Redemption};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
pub(crate) use undo::UndoLog;

/// One member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Member {
    pub id: MemberId,
    pub enrolled_at: Instant,
    /// The member's clock: everything due up to it has happened.
    pub clock: Instant,
    pub closed: bool,
    pub birthday: Option<NaiveDate>,
    pub referred_by: Option<MemberId>,
    pub referral_paid: bool,
    pub first_purchase_done: bool,
    pub attributes: BTreeMap<String, String>,
    /// Ledger accounts (changed only by postings).
    pub available: i64,
    pub pending: i64,
    pub held: i64,
    /// Reversals not yet covered by points.
    pub debt: i64,
    /// Open lots, kept in FIFO order.
    pub lots: Lots,
    pub next_lot: u64,
    /// Active holds by redemption id.
    pub holds: BTreeMap<EventId, Hold>,
    pub redemptions: BTreeMap<EventId, Redemption>,
    /// Tier level index.
    pub tier: usize,
    /// Window in force (calendar/anniversary), or day number of the last midnight evaluated
    /// (rolling).
    pub tier_window: i64,
    /// (instant, level) of each tier change, for late events.
    pub tier_history: Vec<(Instant, usize)>,
    /// Tier metric per window (or per local day for rolling windows).
    pub metric: BTreeMap<i64, Decimal>,
    /// Cap usage per `rule@period-start`.
    pub caps: BTreeMap<String, Decimal>,
    pub next_birthday: Option<Instant>,
    /// Last purchase or redemption (or enrollment), for inactivity expiry.
    pub last_activity: Instant,
    /// Window for which a TierAtRisk notice was raised.
    pub at_risk_window: Option<i64>,
    /// Remembered instants of the current window (derived; not state).
    #[serde(skip)]
    pub window_end: WindowEnd,
    /// What the event being applied changed, to put back if it is rejected (not state).
    #[serde(skip)]
    pub undo: UndoLog,
}

impl Member {
    /// A member as an enrollment creates it: nothing earned, the first tier, its clock at the
    /// enrollment (the tier window and next birthday are the program's to set).
    pub(crate) fn enrolled(e: &Enroll) -> Member {
        Member {
            id: e.member.clone(),
            enrolled_at: e.at,
            clock: e.at,
            closed: false,
            birthday: e.birthday,
            referred_by: e.referred_by.clone(),
            referral_paid: false,
            first_purchase_done: false,
            attributes: e.attributes.clone(),
            available: 0,
            pending: 0,
            held: 0,
            debt: 0,
            lots: Lots::default(),
            next_lot: 0,
            holds: BTreeMap::new(),
            redemptions: BTreeMap::new(),
            tier: 0,
            tier_window: 0,
            tier_history: Vec::new(),
            metric: BTreeMap::new(),
            caps: BTreeMap::new(),
            next_birthday: None,
            last_activity: e.at,
            at_risk_window: None,
            window_end: WindowEnd::default(),
            undo: UndoLog::default(),
        }
    }
}

/// The end of a member's calendar or anniversary tier window and the instant of its
/// TierAtRisk notice, remembered for the window they were computed for: each is a time-zone
/// conversion, and a member's catch-up asks for them several times per event. Not part of the
/// member's state: never written, and equal whatever it holds.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct WindowEnd {
    /// (tier window, its end, the notice instant if the program has one).
    pub cached: Option<(i64, Instant, Option<Instant>)>,
}

impl PartialEq for WindowEnd {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

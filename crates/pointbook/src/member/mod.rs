//! A member's state: accounts, lots, holds, redemptions, tier standing, cap usage, counters;
//! and the undo log that puts back what a rejected event changed ([`undo`]).

mod undo;

use crate::event::Enroll;
use crate::ids::{EventId, MemberId};
use crate::instant::Instant;
use crate::lot::Lots;
use crate::reward::{Hold, Redemption};
use crate::vec_map::VecMap;
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
    pub holds: VecMap<EventId, Hold>,
    pub redemptions: VecMap<EventId, Redemption>,
    /// Tier level index.
    pub tier: usize,
    /// Window in force (calendar/anniversary), or day number of the last midnight evaluated
    /// (rolling).
    pub tier_window: i64,
    /// (instant, level) of each tier change, for late events.
    pub tier_history: Vec<(Instant, usize)>,
    /// Tier metric per window (or per local day for rolling windows).
    pub metric: VecMap<i64, Decimal>,
    /// Cap usage per `rule@period-start`.
    pub caps: VecMap<String, Decimal>,
    pub next_birthday: Option<Instant>,
    /// Last purchase or redemption (or enrollment), for inactivity expiry.
    pub last_activity: Instant,
    /// Window for which a TierAtRisk notice was raised.
    pub at_risk_window: Option<i32>,
    /// Remembered instants of the current window (derived; not state).
    #[serde(skip)]
    pub window_end: WindowEnd,
    /// When something is next due, as the last catch-up found it (derived; not state).
    #[serde(skip)]
    pub due: NextDue,
    /// What the event being applied changed, to put back if it is rejected (not state).
    #[serde(skip)]
    pub undo: UndoLog,
}

// A member is one allocation of the book's per member: kept within 384 bytes, an allocator
// size class (benches/RESULTS.md).
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Member>() <= 384);

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
            holds: VecMap::default(),
            redemptions: VecMap::default(),
            tier: 0,
            tier_window: 0,
            tier_history: Vec::new(),
            metric: VecMap::default(),
            caps: VecMap::default(),
            next_birthday: None,
            last_activity: e.at,
            at_risk_window: None,
            window_end: WindowEnd::default(),
            due: NextDue::UNKNOWN,
            undo: UndoLog::default(),
        }
    }
}

/// The end of a member's calendar or anniversary tier window and the instant of its
/// TierAtRisk notice, remembered for the window they were computed for: each is a time-zone
/// conversion, and a member's catch-up asks for them several times per event. Both are local
/// midnights, so whole seconds are exact; an instant that is not, or a window or notice too
/// far out for the compact form, is not remembered. Not part of the member's state: never
/// written, and equal whatever it holds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WindowEnd {
    /// The end, in seconds since the epoch.
    end: i64,
    /// The tier window remembered (`i32::MIN`: none).
    window: i32,
    /// Seconds from the notice to the end (`i32::MIN`: the program has none).
    notice_before: i32,
}

impl Default for WindowEnd {
    fn default() -> Self {
        WindowEnd {
            end: 0,
            window: i32::MIN,
            notice_before: i32::MIN,
        }
    }
}

impl WindowEnd {
    /// The end and notice remembered for `window`.
    pub fn of(&self, window: i64) -> Option<(Instant, Option<Instant>)> {
        if self.window == i32::MIN || i64::from(self.window) != window {
            return None;
        }
        let end = Instant::from_timestamp(self.end, 0)?;
        let notice = match self.notice_before {
            i32::MIN => None,
            before => Some(Instant::from_timestamp(self.end - i64::from(before), 0)?),
        };
        Some((end, notice))
    }

    /// Remembers the end and notice of `window` (if they are whole seconds and fit).
    pub fn remember(&mut self, window: i64, end: Instant, notice: Option<Instant>) {
        let whole = |t: Instant| t.timestamp_subsec_nanos() == 0;
        if !whole(end) || !notice.is_none_or(whole) {
            return;
        }
        let Ok(window) = i32::try_from(window) else {
            return;
        };
        let notice_before = match notice {
            None => i32::MIN,
            Some(n) => match i32::try_from(end.timestamp() - n.timestamp()) {
                Ok(before) if before != i32::MIN => before,
                _ => return,
            },
        };
        if window != i32::MIN {
            *self = WindowEnd {
                end: end.timestamp(),
                window,
                notice_before,
            };
        }
    }
}

impl PartialEq for WindowEnd {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// When something is next due for a member (a hold lapses, a lot matures or expires, a
/// birthday, a tier boundary or notice), as its last catch-up found it, so that an `advance`
/// need not look into every member. It may be earlier than the truth (a lot emptied since),
/// never later: an event's first touch of a member forgets it, and the catch-up that ends
/// every event finds it again. Kept in whole minutes since 1900 (rounded down: earlier, never
/// later), which covers the instants an event may carry; one outside is not remembered. Not
/// part of the member's state: never written, and equal whatever it holds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NextDue(u32);

/// 1900-01-01T00:00:00Z, in seconds since the epoch.
const NEXT_DUE_BASE: i64 = -2_208_988_800;

impl NextDue {
    /// Not known: look ([`Member::next_due`]).
    pub const UNKNOWN: NextDue = NextDue(0);
    /// Nothing due at all.
    const NEVER: NextDue = NextDue(u32::MAX);

    /// Nothing due before `due` (`None`: nothing due at all).
    pub fn known(due: Option<Instant>) -> NextDue {
        let Some(t) = due else {
            return NextDue::NEVER;
        };
        let minute = (t.timestamp() - NEXT_DUE_BASE).div_euclid(60);
        match u32::try_from(minute + 1) {
            Ok(m) if m != u32::MAX => NextDue(m),
            _ => NextDue::UNKNOWN,
        }
    }

    /// The instant remembered, in seconds since the epoch (`None`: unknown or never).
    fn seconds(self) -> Option<i64> {
        match self.0 {
            0 | u32::MAX => None,
            m => Some((i64::from(m) - 1) * 60 + NEXT_DUE_BASE),
        }
    }

    /// Whether something may be due at or before `at` (`None`: not known).
    pub fn by(self, at: Instant) -> Option<bool> {
        match self.0 {
            0 => None,
            u32::MAX => Some(false),
            _ => self.seconds().map(|s| s <= at.timestamp()),
        }
    }

    /// Whether this is not later than `due`, what is truly due.
    #[cfg(debug_assertions)]
    pub fn not_later_than(self, due: Option<Instant>) -> bool {
        match (self.0, due) {
            (0, _) | (_, None) => true,
            (u32::MAX, Some(_)) => false,
            (_, Some(d)) => self.seconds().is_some_and(|s| s <= d.timestamp()),
        }
    }
}

impl Default for NextDue {
    fn default() -> Self {
        NextDue::UNKNOWN
    }
}

impl PartialEq for NextDue {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

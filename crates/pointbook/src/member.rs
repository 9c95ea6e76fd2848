//! A member's state: lots, holds, redemptions, purchases, tier standing, counters.

use crate::event::Line;
use crate::ids::{EventId, MemberId};
use crate::outcome::Reason;
use crate::record;
use crate::undo::UndoLog;
use crate::Instant;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A lot: the points of one credit, with its own maturation and expiry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Lot {
    /// Creation order within the member (the last FIFO tie-break).
    pub seq: u64,
    /// The event that credited it.
    pub source: EventId,
    /// Why it was credited.
    pub origin: Reason,
    /// Points credited.
    pub points: i64,
    /// Points still in the lot and not held.
    pub remaining: i64,
    /// Points of the lot reserved by holds.
    pub held: i64,
    /// When earned.
    pub earned_at: Instant,
    /// When it becomes available.
    pub matures_at: Instant,
    /// Whether maturation has been posted (pending → available).
    pub matured: bool,
    /// When it expires; `None` for never (or the member-wide inactivity deadline).
    pub expires_at: Option<Instant>,
}

impl Lot {
    /// The FIFO order: soonest expiry first (never last), then earliest earned, then creation.
    pub fn fifo_key(&self) -> (bool, Option<Instant>, Instant, u64) {
        (
            self.expires_at.is_none(),
            self.expires_at,
            self.earned_at,
            self.seq,
        )
    }
}

/// A member's open lots, in FIFO order. Read through `Deref`; changed only by
/// [`Member::insert_lot`] and [`Member::lots_mut`], which logs them for undoing first.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Lots(pub(crate) Vec<Lot>);

/// A copy has room for one more lot: copies are made to work on (a quote, a balance), and a
/// purchase adds a lot, which would otherwise move the whole copy into a new allocation.
impl Clone for Lots {
    fn clone(&self) -> Self {
        let mut lots = Vec::with_capacity(self.0.len() + 1);
        lots.extend_from_slice(&self.0);
        Lots(lots)
    }
}

impl std::ops::Deref for Lots {
    type Target = Vec<Lot>;
    fn deref(&self) -> &Vec<Lot> {
        &self.0
    }
}

/// A hold: points reserved for a redemption, remembered per lot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Hold {
    /// Reward id.
    pub reward: String,
    /// Points held.
    pub points: i64,
    /// When the hold lapses.
    pub expires_at: Instant,
    /// (lot seq, points) taken from each lot.
    pub parts: Vec<(u64, i64)>,
}

/// State of a redemption.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RedemptionState {
    Held,
    Issued,
    Cancelled,
    Expired,
    Forfeited,
}

impl RedemptionState {
    /// Whether it counts toward limits and stock.
    pub fn counts(self) -> bool {
        matches!(self, RedemptionState::Held | RedemptionState::Issued)
    }

    /// Wire name.
    pub fn name(self) -> &'static str {
        match self {
            RedemptionState::Held => "held",
            RedemptionState::Issued => "issued",
            RedemptionState::Cancelled => "cancelled",
            RedemptionState::Expired => "expired",
            RedemptionState::Forfeited => "forfeited",
        }
    }
}

/// A redemption of the member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Redemption {
    pub reward: String,
    pub at: Instant,
    pub state: RedemptionState,
}

/// A purchase's channel and lines as they stand after refunds, kept compactly
/// ([`crate::record::encode_receipt`]): one allocation instead of two strings per line.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Receipt(pub(crate) Box<[u8]>);

impl Receipt {
    /// The receipt of a channel and lines.
    pub fn new(channel: Option<&str>, lines: &[Line]) -> Receipt {
        Receipt(record::encode_receipt(channel, lines))
    }

    /// The channel and the lines.
    pub fn read(&self) -> Result<(Option<&str>, Vec<Line>), record::Corrupt> {
        record::decode_receipt(&self.0)
    }
}

/// A purchase's standing under capped rules: the cap left per rule before it, and its
/// contribution per rule as it stands. Most purchases meet no capped rule: they hold nothing
/// here but an empty pointer, not two maps (a purchase record is kept per purchase).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct CapUse(Option<Box<[BTreeMap<String, Decimal>; 2]>>);

/// The cap usage of a purchase that met no capped rule.
static NO_CAPS: BTreeMap<String, Decimal> = BTreeMap::new();

impl CapUse {
    /// The usage of cap left and contribution per rule.
    pub fn new(left: BTreeMap<String, Decimal>, used: BTreeMap<String, Decimal>) -> CapUse {
        if left.is_empty() && used.is_empty() {
            CapUse(None)
        } else {
            CapUse(Some(Box::new([left, used])))
        }
    }

    /// Cap left per rule before the purchase.
    pub fn left(&self) -> &BTreeMap<String, Decimal> {
        self.0.as_ref().map_or(&NO_CAPS, |c| &c[0])
    }

    /// Contribution per rule, as it stands.
    pub fn used(&self) -> &BTreeMap<String, Decimal> {
        self.0.as_ref().map_or(&NO_CAPS, |c| &c[1])
    }

    /// The same cap left, with a new contribution (after a refund).
    pub fn with_used(self, used: BTreeMap<String, Decimal>) -> CapUse {
        let left = self.0.map(|c| {
            let [left, _] = *c;
            left
        });
        CapUse::new(left.unwrap_or_default(), used)
    }
}

/// What a refund needs to recompute a purchase's earn. Written in snapshots with the channel
/// and lines as fields of their own, as [`PurchaseRecordWire`].
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(from = "PurchaseRecordWire")]
pub(crate) struct PurchaseRecord {
    pub at: Instant,
    /// Tier index at the purchase.
    pub tier: usize,
    /// Channel and lines as they stand after refunds.
    pub receipt: Receipt,
    /// Cap left before the purchase and contribution (as it stands) per capped rule.
    pub caps: CapUse,
    /// Points the purchase credits, as it stands.
    pub credited: i64,
    /// Eligible spend, as it stands.
    pub eligible: Decimal,
    /// Whether it counts as a visit.
    pub visit: bool,
    /// The lot it created.
    pub lot: Option<u64>,
}

/// A purchase record as snapshots hold it.
#[derive(Serialize, Deserialize)]
pub(crate) struct PurchaseRecordWire {
    at: Instant,
    tier: usize,
    channel: Option<String>,
    lines: Vec<Line>,
    cap_left: BTreeMap<String, Decimal>,
    cap_used: BTreeMap<String, Decimal>,
    credited: i64,
    eligible: Decimal,
    visit: bool,
    lot: Option<u64>,
}

impl From<PurchaseRecordWire> for PurchaseRecord {
    fn from(w: PurchaseRecordWire) -> Self {
        PurchaseRecord {
            at: w.at,
            tier: w.tier,
            receipt: Receipt::new(w.channel.as_deref(), &w.lines),
            caps: CapUse::new(w.cap_left, w.cap_used),
            credited: w.credited,
            eligible: w.eligible,
            visit: w.visit,
            lot: w.lot,
        }
    }
}

impl Serialize for PurchaseRecord {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (channel, lines) = self.receipt.read().map_err(serde::ser::Error::custom)?;
        PurchaseRecordWire {
            at: self.at,
            tier: self.tier,
            channel: channel.map(str::to_owned),
            lines,
            cap_left: self.caps.left().clone(),
            cap_used: self.caps.used().clone(),
            credited: self.credited,
            eligible: self.eligible,
            visit: self.visit,
            lot: self.lot,
        }
        .serialize(s)
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
    /// The tier in force at `t` (for late events): from the change history.
    pub fn tier_at(&self, t: Instant) -> usize {
        let mut tier = 0;
        for (at, level) in &self.tier_history {
            if *at <= t {
                tier = *level;
            } else {
                break;
            }
        }
        tier
    }

    /// Inserts a new lot (numbered `next_lot` or later) at its FIFO place. Undoing the event
    /// removes it by its number, so the lots need no copy.
    pub fn insert_lot(&mut self, lot: Lot) {
        let key = lot.fifo_key();
        let i = self.lots.partition_point(|l| l.fifo_key() <= key);
        // Room for this lot only: a member's lots live as long as the book.
        self.lots.0.reserve_exact(1);
        self.lots.0.insert(i, lot);
    }

    /// A lot by its sequence number, for changing it.
    pub fn lot_mut(&mut self, seq: u64) -> Option<&mut Lot> {
        self.lots_mut().iter_mut().find(|l| l.seq == seq)
    }

    /// Points in matured lots, not held.
    pub fn lots_available(&self) -> i64 {
        self.lots
            .iter()
            .filter(|l| l.matured)
            .map(|l| l.remaining)
            .sum()
    }
}

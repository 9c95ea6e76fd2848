//! Deterministic voucher codes: a keyed hash of the redemption id (docs/semantics.md §7).

use crate::ids::EventId;
use crate::instant::Instant;
use crate::lot::Lot;
use crate::outcome::Reason;
use hmac::{Hmac, Mac};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The voucher code of a redemption: HMAC-SHA256(secret, redemption id), first 80 bits in
/// Crockford base32, grouped `XXXX-XXXX-XXXX-XXXX`. A replay issues the same codes; without
/// the secret nobody can forge one.
pub(crate) fn voucher_code(secret: &str, redemption: &str) -> String {
    let mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes());
    let digest = match mac {
        Ok(mut mac) => {
            mac.update(redemption.as_bytes());
            mac.finalize().into_bytes()
        }
        // HMAC accepts keys of any length; this arm is unreachable.
        Err(_) => return String::new(),
    };
    let mut bits: u128 = 0;
    for b in digest.iter().take(10) {
        bits = (bits << 8) | u128::from(*b);
    }
    let mut out = String::with_capacity(19);
    for i in 0..16 {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        let shift = 75 - 5 * i;
        let idx = ((bits >> shift) & 31) as usize;
        out.push(char::from(ALPHABET[idx]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_deterministic_and_keyed() {
        let a = voucher_code("s3cret", "x1");
        assert_eq!(a, voucher_code("s3cret", "x1"));
        assert_ne!(a, voucher_code("s3cret", "x2"));
        assert_ne!(a, voucher_code("other", "x1"));
        assert_eq!(a.len(), 19);
        assert!(a.chars().all(|c| c == '-' || ALPHABET.contains(&(c as u8))));
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
    /// Units of the reward held, counted by its limit and stock (free items may be several).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub units: u32,
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

fn is_zero(n: &i64) -> bool {
    *n == 0
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
    /// Given back in whole by reversals (docs/semantics.md §13).
    Reversed,
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
            RedemptionState::Reversed => "reversed",
        }
    }
}

/// A redemption of the member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Redemption {
    pub reward: String,
    pub at: Instant,
    pub state: RedemptionState,
    /// Units of the reward, counted by its limit and stock.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub units: u32,
    /// Points spent (or held). Redemptions recorded before reversals existed have 0 here and
    /// no lots: nothing of them can be given back.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub points: i64,
    /// Points given back by reversals so far.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reversed: i64,
    /// The lots the points came from, in the order they were taken, each as it was then:
    /// a reversal puts points back into them, or, once they are gone, puts them back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lots: Vec<Spent>,
    /// The money the reward takes off the order, where its kind has one.
    #[serde(
        default,
        with = "crate::money::opt_decimal_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub discount: Option<Decimal>,
    /// The purchase the redemption paid for: its refund gives back a share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase: Option<EventId>,
}

/// Points spent from one lot, with what it takes to put the lot back once it is gone: its
/// number, source, origin, credit and instants. Written as an array, not an object: a
/// redemption of a busy member's small lots names many.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Spent(
    /// The lot's number.
    pub u64,
    /// Points taken from it.
    pub i64,
    /// The lot's credit.
    pub i64,
    /// Its source event.
    pub EventId,
    /// Why it was credited.
    pub Reason,
    /// When it was earned.
    pub Instant,
    /// When it matured.
    pub Instant,
    /// When it expires.
    pub Option<Instant>,
);

impl Spent {
    /// `points` taken from `lot`.
    pub fn of(lot: &Lot, points: i64) -> Spent {
        Spent(
            lot.seq,
            points,
            lot.points,
            lot.source.clone(),
            lot.origin,
            lot.earned_at,
            lot.matures_at,
            lot.expires_at,
        )
    }

    /// Points taken.
    pub fn points(&self) -> i64 {
        self.1
    }

    /// The lot again, holding `remaining` points, matured.
    pub fn lot(&self, remaining: i64) -> Lot {
        Lot {
            seq: self.0,
            source: self.3.clone(),
            origin: self.4,
            points: self.2,
            remaining,
            held: 0,
            earned_at: self.5,
            matures_at: self.6,
            matured: true,
            expires_at: self.7,
        }
    }
}

impl Redemption {
    /// Points still spent: not given back.
    pub fn left(&self) -> i64 {
        self.points - self.reversed
    }

    /// The units a redemption counts toward its reward's limit and stock while it counts.
    pub fn counted(&self) -> u64 {
        if self.state.counts() {
            u64::from(self.units)
        } else {
            0
        }
    }
}

//! Deterministic voucher codes: a keyed hash of the redemption id (docs/semantics.md §7).

use crate::instant::Instant;
use hmac::{Hmac, Mac};
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

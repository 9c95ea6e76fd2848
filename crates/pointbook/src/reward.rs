//! Deterministic voucher codes: a keyed hash of the redemption id (SEMANTICS §7).

use hmac::{Hmac, Mac};
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

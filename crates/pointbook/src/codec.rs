//! The compact binary form the book keeps its records in (outcomes for idempotency, purchase
//! records for refunds): integers as LEB128 varints (signed ones zigzagged), text as length
//! and UTF-8 bytes, instants as seconds relative to a base and nanoseconds, decimals as a byte
//! of sign and scale then the magnitude of the mantissa as a varint, a member id as text once
//! and then by number while it is among the last few written. Canonical (equal values, equal
//! bytes) and read back exactly; what cannot be read back is [`Corrupt`].

use crate::ids::MemberId;
use crate::instant::Instant;
use rust_decimal::Decimal;
use std::borrow::Cow;

/// Why bytes could not be read back as an outcome (only a bug in this module could cause it).
#[derive(Debug)]
pub(crate) struct Corrupt(pub &'static str);

impl std::fmt::Display for Corrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "corrupt outcome record: {}", self.0)
    }
}

/// How many of the member ids written last an outcome's encoding refers back to.
pub(crate) const RECENT_MEMBERS: usize = 4;

/// The member ids a writer wrote last (its side of [`Reader::members`]): the last
/// [`RECENT_MEMBERS`] of them in a ring, and how many it wrote in all, which numbers them.
#[derive(Default)]
pub(crate) struct RecentMembers<'a> {
    ring: [Option<&'a MemberId>; RECENT_MEMBERS],
    written: usize,
}

impl<'a> RecentMembers<'a> {
    /// The number (from 0, among all written) of `m` if it is among the last few.
    fn find(&self, m: &MemberId) -> Option<usize> {
        let first = self.written.saturating_sub(RECENT_MEMBERS);
        (first..self.written)
            .rev()
            .find(|&i| self.ring.get(i % RECENT_MEMBERS).copied().flatten() == Some(m))
    }

    fn push(&mut self, m: &'a MemberId) {
        if let Some(slot) = self.ring.get_mut(self.written % RECENT_MEMBERS) {
            *slot = Some(m);
        }
        self.written += 1;
    }
}

/// How many bytes [`Writer::unsigned`] writes for `v`.
pub(crate) fn varint_len(v: u64) -> usize {
    (64 - v.leading_zeros() as usize).div_ceil(7).max(1)
}

pub(crate) struct Writer<'a> {
    pub out: Vec<u8>,
    /// Member ids already written, by number.
    pub members: RecentMembers<'a>,
    /// The outcome's instant, which the others are written relative to.
    pub base: Instant,
}

impl Writer<'_> {
    /// A writer of `capacity` bytes whose instants are relative to `base`.
    pub fn new(capacity: usize, base: Instant) -> Self {
        Writer {
            out: Vec::with_capacity(capacity),
            members: RecentMembers::default(),
            base,
        }
    }
}

impl<'a> Writer<'a> {
    pub fn unsigned(&mut self, v: u64) {
        self.varint(u128::from(v));
    }

    /// LEB128: seven bits a byte, the high bit set on every byte but the last.
    pub fn varint(&mut self, mut v: u128) {
        while v >= 0x80 {
            self.out.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.out.push(v as u8);
    }

    pub fn signed(&mut self, v: i64) {
        self.unsigned(((v << 1) ^ (v >> 63)) as u64);
    }

    /// A decimal: a byte of sign (high bit) and scale, then the mantissa's magnitude as a
    /// varint (a money amount in two or three bytes where `rust_decimal`'s own form takes 16).
    pub fn decimal(&mut self, d: &Decimal) {
        self.out
            .push(u8::from(d.is_sign_negative()) << 7 | (d.scale() as u8 & 0x7f));
        self.varint(d.mantissa().unsigned_abs());
    }

    /// A name: its number (1-based) among the `known` ones, or 0 and the text.
    pub fn known(&mut self, name: &str, known: &[&str]) {
        match known.iter().position(|k| *k == name) {
            Some(i) => self.unsigned(i as u64 + 1),
            None => {
                self.out.push(0);
                self.text(name);
            }
        }
    }

    pub fn text(&mut self, s: &str) {
        self.unsigned(s.len() as u64);
        self.out.extend_from_slice(s.as_bytes());
    }

    pub fn instant(&mut self, t: Instant) {
        self.signed(t.timestamp().wrapping_sub(self.base.timestamp()));
        self.unsigned(u64::from(t.timestamp_subsec_nanos()));
    }

    /// A member id: its number (1-based) if it is among the last few written, else 0 and the
    /// text. Looking back only a few keeps an advance's outcome, which names every member,
    /// linear; its movements come grouped by member, so the few are enough.
    pub fn member(&mut self, m: &'a MemberId) {
        match self.members.find(m) {
            Some(i) => self.unsigned(i as u64 + 1),
            None => {
                self.out.push(0);
                self.text(m.as_str());
                self.members.push(m);
            }
        }
    }
}

pub(crate) struct Reader<'b> {
    pub bytes: &'b [u8],
    pub members: Vec<MemberId>,
    pub base: Instant,
}

impl<'b> Reader<'b> {
    /// A reader of `bytes` whose instants are relative to `base`.
    pub fn new(bytes: &'b [u8], base: Instant) -> Self {
        Reader {
            bytes,
            members: Vec::new(),
            base,
        }
    }
}

impl<'b> Reader<'b> {
    pub fn take(&mut self, n: usize) -> Result<&'b [u8], Corrupt> {
        if self.bytes.len() < n {
            return Err(Corrupt("truncated"));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    pub fn byte(&mut self) -> Result<u8, Corrupt> {
        Ok(self.take(1)?[0])
    }

    pub fn unsigned(&mut self) -> Result<u64, Corrupt> {
        u64::try_from(self.varint(64)?).map_err(|_| Corrupt("varint too long"))
    }

    /// A varint of at most `bits` bits (rounded up to whole bytes of seven).
    pub fn varint(&mut self, bits: u32) -> Result<u128, Corrupt> {
        let mut v = 0u128;
        for shift in (0..bits).step_by(7) {
            let b = self.byte()?;
            v |= u128::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(Corrupt("varint too long"))
    }

    pub fn signed(&mut self) -> Result<i64, Corrupt> {
        let v = self.unsigned()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    pub fn count(&mut self) -> Result<usize, Corrupt> {
        let n = usize::try_from(self.unsigned()?).map_err(|_| Corrupt("count"))?;
        // Every element takes at least one byte: a larger count is corrupt, not a huge Vec.
        if n > self.bytes.len() {
            return Err(Corrupt("count"));
        }
        Ok(n)
    }

    pub fn decimal(&mut self) -> Result<Decimal, Corrupt> {
        let head = self.byte()?;
        // A 96-bit mantissa: fourteen bytes of seven bits.
        let mantissa = i128::try_from(self.varint(96)?).map_err(|_| Corrupt("decimal"))?;
        let mut d = Decimal::try_from_i128_with_scale(mantissa, u32::from(head & 0x7f))
            .map_err(|_| Corrupt("decimal"))?;
        d.set_sign_negative(head & 0x80 != 0);
        Ok(d)
    }

    /// A name written by [`Writer::known`]: shared if it is one of `known`.
    pub fn known(&mut self, known: &[&'static str]) -> Result<Cow<'static, str>, Corrupt> {
        match self.unsigned()? {
            0 => Ok(Cow::Owned(self.text()?.to_owned())),
            i => usize::try_from(i - 1)
                .ok()
                .and_then(|i| known.get(i))
                .map(|k| Cow::Borrowed(*k))
                .ok_or(Corrupt("name")),
        }
    }

    pub fn nanos(&mut self) -> Result<u32, Corrupt> {
        u32::try_from(self.unsigned()?).map_err(|_| Corrupt("nanoseconds"))
    }

    /// Bytes written by [`Writer::text`], as they are.
    pub fn bytes(&mut self) -> Result<&'b [u8], Corrupt> {
        let n = usize::try_from(self.unsigned()?).map_err(|_| Corrupt("length"))?;
        self.take(n)
    }

    pub fn text(&mut self) -> Result<&'b str, Corrupt> {
        std::str::from_utf8(self.bytes()?).map_err(|_| Corrupt("text"))
    }

    pub fn instant(&mut self) -> Result<Instant, Corrupt> {
        let secs = self
            .base
            .timestamp()
            .checked_add(self.signed()?)
            .ok_or(Corrupt("instant"))?;
        let nanos = self.nanos()?;
        Instant::from_timestamp(secs, nanos).ok_or(Corrupt("instant"))
    }

    pub fn member(&mut self) -> Result<MemberId, Corrupt> {
        match self.unsigned()? {
            0 => {
                let m = MemberId::new(self.text()?);
                self.members.push(m.clone());
                Ok(m)
            }
            i => usize::try_from(i - 1)
                .ok()
                .and_then(|i| self.members.get(i))
                .cloned()
                .ok_or(Corrupt("member reference")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `varint_len` is what `unsigned` writes, at every length's edges.
    #[test]
    fn varint_len_is_what_is_written() {
        let mut edges = vec![0, u64::MAX];
        for bits in (7..64).step_by(7) {
            edges.extend([(1u64 << bits) - 1, 1u64 << bits]);
        }
        for v in edges {
            let mut w = Writer::new(0, Instant::UNIX_EPOCH);
            w.unsigned(v);
            assert_eq!(varint_len(v), w.out.len(), "{v}");
        }
    }
}

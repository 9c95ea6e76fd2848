//! A compact binary form of an [`Outcome`], for the idempotency store: every applied event keeps
//! its outcome so that a resend returns it, and writing JSON for each one was a fifth of the
//! time of applying a purchase. The form is private to the book (snapshots still hold the
//! outcome as JSON), canonical (equal outcomes, equal bytes) and read back exactly.
//!
//! Layout: integers as LEB128 varints (signed ones zigzagged), text as length and UTF-8 bytes,
//! instants as seconds and nanoseconds (those of postings and effects relative to the
//! outcome's own), a member id written as text once and then referred to by number while it
//! is among the last few written, decimals as a byte of sign and scale then the magnitude of
//! the mantissa as a varint, the usual names (event types, explanation kinds) by number.

use crate::event::Line;
use crate::ids::{EventId, MemberId};
use crate::member::{CapUse, PurchaseRecord, Receipt};
use crate::outcome::{Account, BonusKind, Effect, ExplanationLine, Outcome, Posting, Reason};
use crate::points::Points;
use crate::Instant;
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Why bytes could not be read back as an outcome (only a bug in this module could cause it).
#[derive(Debug)]
pub(crate) struct Corrupt(&'static str);

impl std::fmt::Display for Corrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "corrupt outcome record: {}", self.0)
    }
}

const REASONS: [Reason; 12] = [
    Reason::Earn,
    Reason::Bonus,
    Reason::Mature,
    Reason::Expire,
    Reason::Reversal,
    Reason::Hold,
    Reason::Release,
    Reason::Redeem,
    Reason::Adjust,
    Reason::Transfer,
    Reason::Forfeit,
    Reason::Forgive,
];

const BONUSES: [BonusKind; 5] = [
    BonusKind::Signup,
    BonusKind::Birthday,
    BonusKind::FirstPurchase,
    BonusKind::Referrer,
    BonusKind::Referee,
];

/// How many of the member ids written last an outcome's encoding refers back to.
const RECENT_MEMBERS: usize = 4;

/// Encodes an outcome after `prefix`: bytes the caller keeps in the same allocation.
pub(crate) fn encode(prefix: &[u8], o: &Outcome) -> Box<[u8]> {
    let mut out =
        Vec::with_capacity(prefix.len() + 96 + 40 * (o.postings.len() + o.explanation.len()));
    out.extend_from_slice(prefix);
    let mut w = Writer {
        out,
        members: Vec::new(),
        base: o.at,
    };
    w.text(o.event.as_str());
    w.known(&o.kind, crate::event::KINDS);
    w.signed(o.at.timestamp());
    w.unsigned(u64::from(o.at.timestamp_subsec_nanos()));
    w.out.push(u8::from(o.duplicate));
    w.signed(o.points);
    w.unsigned(o.postings.len() as u64);
    for p in &o.postings {
        w.instant(p.at);
        w.account(&p.from);
        w.account(&p.to);
        w.signed(p.points.get());
        w.out.push(reason_code(p.reason));
    }
    w.unsigned(o.effects.len() as u64);
    for e in &o.effects {
        w.effect(e);
    }
    w.unsigned(o.explanation.len() as u64);
    for l in &o.explanation {
        w.member(&l.member);
        w.known(&l.kind, ExplanationLine::KINDS);
        match &l.name {
            Some(name) => {
                w.out.push(1);
                w.text(name);
            }
            None => w.out.push(0),
        }
        w.decimal(&l.points);
    }
    w.out.into_boxed_slice()
}

/// The text an encoding begins with: an outcome's event id.
pub(crate) fn leading_text(bytes: &[u8]) -> Result<&str, Corrupt> {
    Reader {
        bytes,
        members: Vec::new(),
        base: Instant::UNIX_EPOCH,
    }
    .text()
}

/// Reads an outcome back.
pub(crate) fn decode(bytes: &[u8]) -> Result<Outcome, Corrupt> {
    let mut r = Reader {
        bytes,
        members: Vec::new(),
        base: Instant::UNIX_EPOCH,
    };
    let event = EventId::new(r.text()?);
    let kind = r.known(crate::event::KINDS)?;
    let secs = r.signed()?;
    let nanos = r.nanos()?;
    let at = Instant::from_timestamp(secs, nanos).ok_or(Corrupt("instant"))?;
    r.base = at;
    let duplicate = r.byte()? != 0;
    let points = r.signed()?;
    let n = r.count()?;
    let mut postings = Vec::with_capacity(n);
    for _ in 0..n {
        postings.push(Posting {
            at: r.instant()?,
            from: r.account()?,
            to: r.account()?,
            points: Points::new(r.signed()?),
            reason: *REASONS
                .get(usize::from(r.byte()?))
                .ok_or(Corrupt("reason"))?,
        });
    }
    let n = r.count()?;
    let mut effects = Vec::with_capacity(n);
    for _ in 0..n {
        effects.push(r.effect()?);
    }
    let n = r.count()?;
    let mut explanation = Vec::with_capacity(n);
    for _ in 0..n {
        let member = r.member()?;
        let kind = r.known(ExplanationLine::KINDS)?;
        let name = match r.byte()? {
            0 => None,
            _ => Some(r.text()?.to_owned()),
        };
        explanation.push(ExplanationLine {
            member,
            kind,
            name,
            points: r.decimal()?,
        });
    }
    if !r.bytes.is_empty() {
        return Err(Corrupt("trailing bytes"));
    }
    Ok(Outcome {
        event,
        kind,
        at,
        duplicate,
        points,
        postings,
        effects,
        explanation,
    })
}

/// Encodes a purchase's channel and lines (what a refund needs of them) in one allocation,
/// instead of two strings per line.
pub(crate) fn encode_receipt(channel: Option<&str>, lines: &[Line]) -> Box<[u8]> {
    let mut w = Writer {
        out: Vec::with_capacity(8 + lines.len() * 40),
        members: Vec::new(),
        base: Instant::UNIX_EPOCH,
    };
    match channel {
        Some(c) => {
            w.out.push(1);
            w.text(c);
        }
        None => w.out.push(0),
    }
    w.unsigned(lines.len() as u64);
    for l in lines {
        w.text(&l.sku);
        w.text(&l.category);
        w.decimal(&l.amount);
        w.unsigned(u64::from(l.quantity));
    }
    w.out.into_boxed_slice()
}

/// Encodes a purchase record in one allocation: its fields, its cap usage (two empty maps for
/// most purchases, two bytes), then its receipt's bytes.
pub(crate) fn encode_purchase(r: &PurchaseRecord) -> Box<[u8]> {
    let mut w = Writer {
        out: Vec::with_capacity(32 + r.receipt.0.len()),
        members: Vec::new(),
        base: Instant::UNIX_EPOCH,
    };
    w.instant(r.at);
    w.unsigned(r.tier as u64);
    w.signed(r.credited);
    w.decimal(&r.eligible);
    w.out.push(u8::from(r.visit));
    match r.lot {
        Some(seq) => {
            w.out.push(1);
            w.unsigned(seq);
        }
        None => w.out.push(0),
    }
    for caps in [r.caps.left(), r.caps.used()] {
        w.unsigned(caps.len() as u64);
        for (rule, amount) in caps {
            w.text(rule);
            w.decimal(amount);
        }
    }
    w.out.extend_from_slice(&r.receipt.0);
    w.out.into_boxed_slice()
}

/// Reads a purchase record back.
pub(crate) fn decode_purchase(bytes: &[u8]) -> Result<PurchaseRecord, Corrupt> {
    let mut r = Reader {
        bytes,
        members: Vec::new(),
        base: Instant::UNIX_EPOCH,
    };
    let at = r.instant()?;
    let tier = usize::try_from(r.unsigned()?).map_err(|_| Corrupt("tier"))?;
    let credited = r.signed()?;
    let eligible = r.decimal()?;
    let visit = r.byte()? != 0;
    let lot = match r.byte()? {
        0 => None,
        _ => Some(r.unsigned()?),
    };
    let mut caps = [BTreeMap::new(), BTreeMap::new()];
    for map in &mut caps {
        for _ in 0..r.count()? {
            let rule = r.text()?.to_owned();
            map.insert(rule, r.decimal()?);
        }
    }
    let [left, used] = caps;
    decode_receipt(r.bytes)?;
    Ok(PurchaseRecord {
        at,
        tier,
        receipt: Receipt(r.bytes.into()),
        caps: CapUse::new(left, used),
        credited,
        eligible,
        visit,
        lot,
    })
}

/// Reads a purchase's channel and lines back.
pub(crate) fn decode_receipt(bytes: &[u8]) -> Result<(Option<&str>, Vec<Line>), Corrupt> {
    let mut r = Reader {
        bytes,
        members: Vec::new(),
        base: Instant::UNIX_EPOCH,
    };
    let channel = match r.byte()? {
        0 => None,
        _ => Some(r.text()?),
    };
    let n = r.count()?;
    let mut lines = Vec::with_capacity(n);
    for _ in 0..n {
        lines.push(Line {
            sku: r.text()?.to_owned(),
            category: r.text()?.to_owned(),
            amount: r.decimal()?,
            quantity: u32::try_from(r.unsigned()?).map_err(|_| Corrupt("quantity"))?,
        });
    }
    if !r.bytes.is_empty() {
        return Err(Corrupt("trailing bytes"));
    }
    Ok((channel, lines))
}

fn reason_code(reason: Reason) -> u8 {
    REASONS.iter().position(|r| *r == reason).unwrap_or(0) as u8
}

fn bonus_code(bonus: BonusKind) -> u8 {
    BONUSES.iter().position(|b| *b == bonus).unwrap_or(0) as u8
}

struct Writer<'a> {
    out: Vec<u8>,
    /// Member ids already written, by number.
    members: Vec<&'a MemberId>,
    /// The outcome's instant, which the others are written relative to.
    base: Instant,
}

impl<'a> Writer<'a> {
    fn unsigned(&mut self, v: u64) {
        self.varint(u128::from(v));
    }

    /// LEB128: seven bits a byte, the high bit set on every byte but the last.
    fn varint(&mut self, mut v: u128) {
        while v >= 0x80 {
            self.out.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.out.push(v as u8);
    }

    fn signed(&mut self, v: i64) {
        self.unsigned(((v << 1) ^ (v >> 63)) as u64);
    }

    /// A decimal: a byte of sign (high bit) and scale, then the mantissa's magnitude as a
    /// varint (a money amount in two or three bytes where `rust_decimal`'s own form takes 16).
    fn decimal(&mut self, d: &Decimal) {
        self.out
            .push(u8::from(d.is_sign_negative()) << 7 | (d.scale() as u8 & 0x7f));
        self.varint(d.mantissa().unsigned_abs());
    }

    /// A name: its number (1-based) among the `known` ones, or 0 and the text.
    fn known(&mut self, name: &str, known: &[&str]) {
        match known.iter().position(|k| *k == name) {
            Some(i) => self.unsigned(i as u64 + 1),
            None => {
                self.out.push(0);
                self.text(name);
            }
        }
    }

    fn text(&mut self, s: &str) {
        self.unsigned(s.len() as u64);
        self.out.extend_from_slice(s.as_bytes());
    }

    fn instant(&mut self, t: Instant) {
        self.signed(t.timestamp().wrapping_sub(self.base.timestamp()));
        self.unsigned(u64::from(t.timestamp_subsec_nanos()));
    }

    /// A member id: its number (1-based) if it is among the last few written, else 0 and the
    /// text. Looking back only a few keeps an advance's outcome, which names every member,
    /// linear; its movements come grouped by member, so the few are enough.
    fn member(&mut self, m: &'a MemberId) {
        let recent = self.members.len().saturating_sub(RECENT_MEMBERS);
        let found = self.members[recent..].iter().rposition(|k| *k == m);
        match found {
            Some(i) => self.unsigned((recent + i) as u64 + 1),
            None => {
                self.out.push(0);
                self.text(m.as_str());
                self.members.push(m);
            }
        }
    }

    fn account(&mut self, a: &'a Account) {
        let (tag, member) = match a {
            Account::Issued => (0, None),
            Account::Redeemed => (1, None),
            Account::Expired => (2, None),
            Account::Forfeited => (3, None),
            Account::Forgiven => (4, None),
            Account::Available(m) => (5, Some(m)),
            Account::Pending(m) => (6, Some(m)),
            Account::Held(m) => (7, Some(m)),
        };
        self.out.push(tag);
        if let Some(m) = member {
            self.member(m);
        }
    }

    fn effect(&mut self, e: &'a Effect) {
        match e {
            Effect::TierChanged {
                member,
                from,
                to,
                at,
            } => {
                self.out.push(0);
                self.member(member);
                self.text(from);
                self.text(to);
                self.instant(*at);
            }
            Effect::TierAtRisk {
                member,
                tier,
                falls_to,
                window_ends,
                at,
            } => {
                self.out.push(1);
                self.member(member);
                self.text(tier);
                self.text(falls_to);
                self.instant(*window_ends);
                self.instant(*at);
            }
            Effect::PointsExpired {
                member,
                points,
                source,
                at,
            } => {
                self.out.push(2);
                self.member(member);
                self.signed(points.get());
                self.text(source.as_str());
                self.instant(*at);
            }
            Effect::RewardIssued {
                member,
                reward,
                redemption,
                code,
                at,
            } => {
                self.out.push(3);
                self.member(member);
                self.text(reward);
                self.text(redemption.as_str());
                self.text(code);
                self.instant(*at);
            }
            Effect::BonusAwarded {
                member,
                bonus,
                points,
                at,
            } => {
                self.out.push(4);
                self.member(member);
                self.out.push(bonus_code(*bonus));
                self.signed(points.get());
                self.instant(*at);
            }
            Effect::HoldExpired {
                member,
                redemption,
                points,
                at,
            } => {
                self.out.push(5);
                self.member(member);
                self.text(redemption.as_str());
                self.signed(points.get());
                self.instant(*at);
            }
            Effect::PointsForfeited { member, points, at } => {
                self.out.push(6);
                self.member(member);
                self.signed(points.get());
                self.instant(*at);
            }
            Effect::PointsForgiven { member, points, at } => {
                self.out.push(7);
                self.member(member);
                self.signed(points.get());
                self.instant(*at);
            }
        }
    }
}

struct Reader<'b> {
    bytes: &'b [u8],
    members: Vec<MemberId>,
    base: Instant,
}

impl<'b> Reader<'b> {
    fn take(&mut self, n: usize) -> Result<&'b [u8], Corrupt> {
        if self.bytes.len() < n {
            return Err(Corrupt("truncated"));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, Corrupt> {
        Ok(self.take(1)?[0])
    }

    fn unsigned(&mut self) -> Result<u64, Corrupt> {
        u64::try_from(self.varint(64)?).map_err(|_| Corrupt("varint too long"))
    }

    /// A varint of at most `bits` bits (rounded up to whole bytes of seven).
    fn varint(&mut self, bits: u32) -> Result<u128, Corrupt> {
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

    fn signed(&mut self) -> Result<i64, Corrupt> {
        let v = self.unsigned()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    fn count(&mut self) -> Result<usize, Corrupt> {
        let n = usize::try_from(self.unsigned()?).map_err(|_| Corrupt("count"))?;
        // Every element takes at least one byte: a larger count is corrupt, not a huge Vec.
        if n > self.bytes.len() {
            return Err(Corrupt("count"));
        }
        Ok(n)
    }

    fn decimal(&mut self) -> Result<Decimal, Corrupt> {
        let head = self.byte()?;
        // A 96-bit mantissa: fourteen bytes of seven bits.
        let mantissa = i128::try_from(self.varint(96)?).map_err(|_| Corrupt("decimal"))?;
        let mut d = Decimal::try_from_i128_with_scale(mantissa, u32::from(head & 0x7f))
            .map_err(|_| Corrupt("decimal"))?;
        d.set_sign_negative(head & 0x80 != 0);
        Ok(d)
    }

    /// A name written by [`Writer::known`]: shared if it is one of `known`.
    fn known(&mut self, known: &[&'static str]) -> Result<Cow<'static, str>, Corrupt> {
        match self.unsigned()? {
            0 => Ok(Cow::Owned(self.text()?.to_owned())),
            i => usize::try_from(i - 1)
                .ok()
                .and_then(|i| known.get(i))
                .map(|k| Cow::Borrowed(*k))
                .ok_or(Corrupt("name")),
        }
    }

    fn nanos(&mut self) -> Result<u32, Corrupt> {
        u32::try_from(self.unsigned()?).map_err(|_| Corrupt("nanoseconds"))
    }

    fn text(&mut self) -> Result<&'b str, Corrupt> {
        let n = usize::try_from(self.unsigned()?).map_err(|_| Corrupt("length"))?;
        std::str::from_utf8(self.take(n)?).map_err(|_| Corrupt("text"))
    }

    fn instant(&mut self) -> Result<Instant, Corrupt> {
        let secs = self
            .base
            .timestamp()
            .checked_add(self.signed()?)
            .ok_or(Corrupt("instant"))?;
        let nanos = self.nanos()?;
        Instant::from_timestamp(secs, nanos).ok_or(Corrupt("instant"))
    }

    fn member(&mut self) -> Result<MemberId, Corrupt> {
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

    fn account(&mut self) -> Result<Account, Corrupt> {
        Ok(match self.byte()? {
            0 => Account::Issued,
            1 => Account::Redeemed,
            2 => Account::Expired,
            3 => Account::Forfeited,
            4 => Account::Forgiven,
            5 => Account::Available(self.member()?),
            6 => Account::Pending(self.member()?),
            7 => Account::Held(self.member()?),
            _ => return Err(Corrupt("account")),
        })
    }

    fn points(&mut self) -> Result<Points, Corrupt> {
        Ok(Points::new(self.signed()?))
    }

    fn effect(&mut self) -> Result<Effect, Corrupt> {
        Ok(match self.byte()? {
            0 => Effect::TierChanged {
                member: self.member()?,
                from: self.text()?.to_owned(),
                to: self.text()?.to_owned(),
                at: self.instant()?,
            },
            1 => Effect::TierAtRisk {
                member: self.member()?,
                tier: self.text()?.to_owned(),
                falls_to: self.text()?.to_owned(),
                window_ends: self.instant()?,
                at: self.instant()?,
            },
            2 => Effect::PointsExpired {
                member: self.member()?,
                points: self.points()?,
                source: EventId::new(self.text()?),
                at: self.instant()?,
            },
            3 => Effect::RewardIssued {
                member: self.member()?,
                reward: self.text()?.to_owned(),
                redemption: EventId::new(self.text()?),
                code: self.text()?.to_owned(),
                at: self.instant()?,
            },
            4 => Effect::BonusAwarded {
                member: self.member()?,
                bonus: *BONUSES
                    .get(usize::from(self.byte()?))
                    .ok_or(Corrupt("bonus"))?,
                points: self.points()?,
                at: self.instant()?,
            },
            5 => Effect::HoldExpired {
                member: self.member()?,
                redemption: EventId::new(self.text()?),
                points: self.points()?,
                at: self.instant()?,
            },
            6 => Effect::PointsForfeited {
                member: self.member()?,
                points: self.points()?,
                at: self.instant()?,
            },
            7 => Effect::PointsForgiven {
                member: self.member()?,
                points: self.points()?,
                at: self.instant()?,
            },
            _ => return Err(Corrupt("effect")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64, nanos: u32) -> Instant {
        Instant::from_timestamp(secs, nanos).unwrap_or_default()
    }

    /// Every effect, account, reason and bonus kind, repeated and unicode members, sub-second
    /// and earlier instants, negative and scaled decimals: read back equal.
    #[test]
    fn every_shape_reads_back_equal() -> Result<(), Corrupt> {
        let m = MemberId::new("m-ü");
        let n = MemberId::new("m2");
        let base = at(1_780_000_000, 250_000_000);
        let accounts = [
            Account::Issued,
            Account::Redeemed,
            Account::Expired,
            Account::Forfeited,
            Account::Forgiven,
            Account::Available(m.clone()),
            Account::Pending(n.clone()),
            Account::Held(m.clone()),
        ];
        let postings = REASONS
            .iter()
            .enumerate()
            .map(|(i, reason)| Posting {
                at: at(1_780_000_000 - 86_400 * i as i64, 0),
                from: accounts[i % accounts.len()].clone(),
                to: accounts[(i + 5) % accounts.len()].clone(),
                points: Points::new(1 << (3 * i)),
                reason: *reason,
            })
            .collect();
        let mut effects = vec![
            Effect::TierChanged {
                member: m.clone(),
                from: "base".into(),
                to: "gold".into(),
                at: base,
            },
            Effect::TierAtRisk {
                member: n.clone(),
                tier: "gold".into(),
                falls_to: "".into(),
                window_ends: at(1_800_000_000, 0),
                at: base,
            },
            Effect::PointsExpired {
                member: m.clone(),
                points: Points::new(i64::MAX),
                source: EventId::new("p1"),
                at: at(1_700_000_000, 999_999_999),
            },
            Effect::RewardIssued {
                member: m.clone(),
                reward: "coffee".into(),
                redemption: EventId::new("r1"),
                code: "ABC-123".into(),
                at: base,
            },
            Effect::HoldExpired {
                member: n.clone(),
                redemption: EventId::new("r2"),
                points: Points::new(-5),
                at: base,
            },
            Effect::PointsForfeited {
                member: m.clone(),
                points: Points::new(i64::MIN),
                at: base,
            },
            Effect::PointsForgiven {
                member: n.clone(),
                points: Points::new(0),
                at: base,
            },
        ];
        effects.extend(BONUSES.iter().map(|b| Effect::BonusAwarded {
            member: m.clone(),
            bonus: *b,
            points: Points::new(50),
            at: base,
        }));
        let explanation = vec![
            ExplanationLine {
                member: m.clone(),
                kind: "base".into(),
                name: None,
                points: Decimal::new(-123_456, 4),
            },
            ExplanationLine {
                member: n.clone(),
                kind: "rule".into(),
                name: Some("double-pastry".into()),
                points: Decimal::MAX,
            },
            ExplanationLine {
                member: n.clone(),
                kind: "a kind of its own".into(),
                name: Some(String::new()),
                points: Decimal::MIN,
            },
        ];
        let outcome = Outcome {
            event: EventId::new("évènement"),
            kind: "purchase".into(),
            at: base,
            duplicate: false,
            points: -42,
            postings,
            effects,
            explanation,
        };
        let bytes = encode(&[], &outcome);
        assert_eq!(decode(&bytes)?, outcome);
        assert_eq!(encode(&[], &decode(&bytes)?), bytes, "canonical");
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "truncated at {cut}");
        }
        Ok(())
    }

    /// Decimals read back with the same sign, scale and mantissa (so the same text): every
    /// scale, negative zero, the largest and smallest, one past a varint byte.
    #[test]
    fn decimals_read_back_exactly() -> Result<(), Corrupt> {
        let mut all = vec![
            Decimal::MAX,
            Decimal::MIN,
            Decimal::ZERO,
            Decimal::new(-0, 2),
        ];
        let mut negative_zero = Decimal::new(0, 3);
        negative_zero.set_sign_negative(true);
        all.push(negative_zero);
        for scale in 0..=28 {
            for mantissa in [1, 127, 128, 16_383, 16_384, -475, i64::MAX, i64::MIN + 1] {
                all.push(Decimal::new(mantissa, scale));
            }
        }
        for d in all {
            let mut w = Writer {
                out: Vec::new(),
                members: Vec::new(),
                base: Instant::UNIX_EPOCH,
            };
            w.decimal(&d);
            let mut r = Reader {
                bytes: &w.out,
                members: Vec::new(),
                base: Instant::UNIX_EPOCH,
            };
            let back = r.decimal()?;
            assert_eq!(back.serialize(), d.serialize(), "{d}");
            assert_eq!(back.to_string(), d.to_string());
            assert!(r.bytes.is_empty());
        }
        Ok(())
    }

    /// A purchase record reads back equal, with and without cap usage and a lot; cut short,
    /// it is refused.
    #[test]
    fn purchase_records_read_back_equal() -> Result<(), Corrupt> {
        let lines = [Line {
            sku: "LATTE".into(),
            category: "coffee".into(),
            amount: Decimal::new(475, 2),
            quantity: 2,
        }];
        let caps = |n: i64| BTreeMap::from([("double-weekend".to_owned(), Decimal::new(n, 1))]);
        for (lot, caps) in [
            (None, CapUse::default()),
            (Some(0), CapUse::new(caps(2000), caps(35))),
            (Some(u64::MAX), CapUse::new(BTreeMap::new(), caps(-1))),
        ] {
            let record = PurchaseRecord {
                at: at(1_780_000_000, 5),
                tier: 2,
                receipt: Receipt::new(Some("app"), &lines),
                caps,
                credited: -9,
                eligible: Decimal::new(950, 2),
                visit: lot.is_some(),
                lot,
            };
            let bytes = encode_purchase(&record);
            assert_eq!(decode_purchase(&bytes)?, record);
            assert_eq!(&*encode_purchase(&decode_purchase(&bytes)?), &*bytes);
            for cut in 0..bytes.len() {
                assert!(
                    decode_purchase(&bytes[..cut]).is_err(),
                    "truncated at {cut}"
                );
            }
        }
        Ok(())
    }

    /// Members named again after others (as in an advance's outcome) are written again when
    /// they have fallen out of the recent few, and read back as the same ids.
    #[test]
    fn members_far_apart_read_back_equal() -> Result<(), Corrupt> {
        let base = at(1_780_000_000, 0);
        let ids: Vec<MemberId> = (0..3 * RECENT_MEMBERS)
            .map(|i| MemberId::new(format!("m{}", i % (RECENT_MEMBERS + 2))))
            .collect();
        let outcome = Outcome {
            event: EventId::new("advance@2026"),
            kind: "advance".into(),
            at: base,
            duplicate: false,
            points: 0,
            postings: ids
                .iter()
                .map(|m| Posting {
                    at: base,
                    from: Account::Pending(m.clone()),
                    to: Account::Available(m.clone()),
                    points: Points::new(3),
                    reason: Reason::Mature,
                })
                .collect(),
            effects: Vec::new(),
            explanation: Vec::new(),
        };
        assert_eq!(decode(&encode(&[], &outcome))?, outcome);
        Ok(())
    }

    /// A receipt reads back as the channel and lines it was made of; cut short, it is refused.
    #[test]
    fn receipts_read_back_equal() -> Result<(), Corrupt> {
        let lines = vec![
            Line {
                sku: "LATTE".into(),
                category: "coffee".into(),
                amount: Decimal::new(475, 2),
                quantity: 1,
            },
            Line {
                sku: "thé-vert".into(),
                category: "".into(),
                amount: Decimal::new(-0, 3),
                quantity: u32::MAX,
            },
        ];
        for channel in [None, Some("app"), Some("")] {
            let bytes = encode_receipt(channel, &lines);
            assert_eq!(decode_receipt(&bytes)?, (channel, lines.clone()));
            for cut in 0..bytes.len() {
                assert!(decode_receipt(&bytes[..cut]).is_err(), "cut at {cut}");
            }
        }
        Ok(())
    }
}

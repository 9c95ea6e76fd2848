//! A compact binary form of an [`Outcome`], for the applied events ([`crate::applied`]): each
//! event keeps its outcome while a resend may still ask for it, and writing JSON for each one
//! was a fifth of the time of applying a purchase. The form is private to the book (snapshots still hold the
//! outcome as JSON), canonical (equal outcomes, equal bytes) and read back exactly.
//!
//! Layout: the primitives of [`crate::codec`], instants of postings and effects relative to
//! the outcome's own, the usual names (event types, explanation kinds) by number.

use crate::codec::{Corrupt, Reader, Writer};
use crate::ids::EventId;
use crate::instant::Instant;
use crate::outcome::{Account, BonusKind, Effect, ExplanationLine, Outcome, Posting, Reason};
use crate::points::Points;

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

/// Encodes an outcome.
pub(crate) fn encode(o: &Outcome) -> Box<[u8]> {
    let out = Vec::with_capacity(96 + 40 * (o.postings.len() + o.explanation.len()));
    let mut w = Writer {
        out,
        members: Default::default(),
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
    match &o.discount {
        Some(d) => {
            w.out.push(1);
            w.decimal(d);
        }
        None => w.out.push(0),
    }
    w.out.into_boxed_slice()
}

/// The text an encoding begins with: an outcome's event id.
pub(crate) fn leading_id(bytes: &[u8]) -> Result<&[u8], Corrupt> {
    Reader::new(bytes, Instant::UNIX_EPOCH).bytes()
}

/// Reads an outcome back.
pub(crate) fn decode(bytes: &[u8]) -> Result<Outcome, Corrupt> {
    let mut r = Reader::new(bytes, Instant::UNIX_EPOCH);
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
    let discount = match r.byte()? {
        0 => None,
        _ => Some(r.decimal()?),
    };
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
        discount,
    })
}

fn reason_code(reason: Reason) -> u8 {
    REASONS.iter().position(|r| *r == reason).unwrap_or(0) as u8
}

fn bonus_code(bonus: BonusKind) -> u8 {
    BONUSES.iter().position(|b| *b == bonus).unwrap_or(0) as u8
}

/// The parts of an outcome that only outcomes have.
impl<'a> Writer<'a> {
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
            Effect::RewardReversed {
                member,
                reward,
                redemption,
                points,
                whole,
                at,
            } => {
                self.out.push(8);
                self.member(member);
                self.text(reward);
                self.text(redemption.as_str());
                self.signed(points.get());
                self.out.push(u8::from(*whole));
                self.instant(*at);
            }
        }
    }
}

impl Reader<'_> {
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
            8 => Effect::RewardReversed {
                member: self.member()?,
                reward: self.text()?.to_owned(),
                redemption: EventId::new(self.text()?),
                points: self.points()?,
                whole: self.byte()? != 0,
                at: self.instant()?,
            },
            _ => return Err(Corrupt("effect")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::RECENT_MEMBERS;
    use crate::ids::MemberId;
    use rust_decimal::Decimal;

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
            Effect::RewardReversed {
                member: m.clone(),
                reward: "free-drink".into(),
                redemption: EventId::new("x1"),
                points: Points::new(120),
                whole: true,
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
            discount: Some(Decimal::new(1_250, 2)),
        };
        let bytes = encode(&outcome);
        assert_eq!(decode(&bytes)?, outcome);
        assert_eq!(encode(&decode(&bytes)?), bytes, "canonical");
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
                members: Default::default(),
                base: Instant::UNIX_EPOCH,
            };
            w.decimal(&d);
            let mut r = Reader::new(&w.out, Instant::UNIX_EPOCH);
            let back = r.decimal()?;
            assert_eq!(back.serialize(), d.serialize(), "{d}");
            assert_eq!(back.to_string(), d.to_string());
            assert!(r.bytes.is_empty());
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
            discount: None,
        };
        assert_eq!(decode(&encode(&outcome))?, outcome);
        Ok(())
    }
}

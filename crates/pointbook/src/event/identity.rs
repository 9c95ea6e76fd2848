//! The identity of an event (docs/semantics.md §9): what two sends of one event share, as bytes that
//! are hashed into the fingerprint a book keeps of every applied event.
//!
//! Values, not text: decimals by value (`"4.750"` is `"4.75"`), instants as the moment they
//! name (any UTC offset, any number of zero fractional digits), and every field in a fixed
//! order whatever the order it was sent in. Each field is written with its length or its
//! fixed size, so no two events write the same bytes. Structs are taken apart field by field,
//! so a field added to an event does not compile until it is written here too.
//!
//! Books before snapshot version 4 kept the fingerprint of the canonical JSON instead
//! ([`Event::write_identity_json`]); restoring one, a book asks for that form only when the
//! fingerprint of this one differs from the one kept.

use super::{
    Adjust, Advance, Enroll, Event, Forget, Line, Purchase, Redeem, Refund, RefundLine, Reverse,
    Settle, Transfer,
};
use crate::instant::Instant;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

/// Where an identity form is written: a buffer, or straight into a hash.
pub(crate) trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl Sink for Sha256 {
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

impl Event {
    /// Writes the event's identity form into `out`.
    pub(crate) fn write_identity(&self, out: &mut impl Sink) {
        let mut w = Identity(out);
        // The kind, as a number of its own: one byte that also says how the rest reads.
        w.byte(match self {
            Event::Enroll(_) => 1,
            Event::Purchase(_) => 2,
            Event::Refund(_) => 3,
            Event::Redeem(_) => 4,
            Event::Confirm(_) => 5,
            Event::Cancel(_) => 6,
            Event::Adjust(_) => 7,
            Event::Transfer(_) => 8,
            Event::Advance(_) => 9,
            Event::Forget(_) => 10,
            Event::Reverse(_) => 11,
        });
        match self {
            Event::Enroll(Enroll {
                id,
                member,
                at,
                birthday,
                referred_by,
                attributes,
            }) => {
                w.head(id.as_str(), Some(member.as_str()), at);
                w.option(birthday.as_ref(), |w, d| w.date(d));
                w.option(referred_by.as_ref(), |w, r| w.text(r.as_str()));
                w.count(attributes.len());
                for (k, v) in attributes {
                    w.text(k);
                    w.text(v);
                }
            }
            Event::Purchase(Purchase {
                id,
                member,
                at,
                channel,
                lines,
            }) => {
                w.head(id.as_str(), Some(member.as_str()), at);
                w.option(channel.as_ref(), |w, c| w.text(c));
                w.lines(lines);
            }
            Event::Refund(Refund {
                id,
                member,
                at,
                purchase,
                lines,
            }) => {
                w.head(id.as_str(), Some(member.as_str()), at);
                w.text(purchase.as_str());
                w.count(lines.len());
                for RefundLine {
                    sku,
                    amount,
                    quantity,
                } in lines
                {
                    w.text(sku);
                    w.option(amount.as_ref(), |w, a| w.decimal(a));
                    w.option(quantity.as_ref(), |w, q| w.bytes(&q.to_le_bytes()));
                }
            }
            Event::Redeem(Redeem {
                id,
                member,
                at,
                reward,
                hold,
                points,
                order_total,
                lines,
                quantity,
                purchase,
            }) => {
                w.head(id.as_str(), Some(member.as_str()), at);
                w.text(reward);
                w.byte(u8::from(*hold));
                // The fields of docs/semantics.md §13 follow only when present, each after a
                // tag of its own: a redeem without them has the identity it always had, so
                // its resends from before them are still known.
                if let Some(n) = points {
                    w.byte(1);
                    w.bytes(&n.to_le_bytes());
                }
                if let Some(t) = order_total {
                    w.byte(2);
                    w.decimal(t);
                }
                if !lines.is_empty() {
                    w.byte(3);
                    w.lines(lines);
                }
                if let Some(q) = quantity {
                    w.byte(4);
                    w.bytes(&q.to_le_bytes());
                }
                if let Some(p) = purchase {
                    w.byte(5);
                    w.text(p.as_str());
                }
            }
            Event::Confirm(settle) | Event::Cancel(settle) => {
                let Settle {
                    id,
                    member,
                    at,
                    redemption,
                } = settle;
                w.head(id.as_str(), Some(member.as_str()), at);
                w.text(redemption.as_str());
            }
            Event::Adjust(Adjust {
                id,
                member,
                at,
                points,
                reason,
                allow_negative,
            }) => {
                w.head(id.as_str(), Some(member.as_str()), at);
                w.bytes(&points.to_le_bytes());
                w.text(reason);
                w.byte(u8::from(*allow_negative));
            }
            Event::Transfer(Transfer {
                id,
                member,
                to,
                at,
                points,
            }) => {
                w.head(id.as_str(), Some(member.as_str()), at);
                w.text(to.as_str());
                w.bytes(&points.to_le_bytes());
            }
            Event::Reverse(Reverse {
                id,
                member,
                at,
                redemption,
                points,
            }) => {
                w.head(id.as_str(), Some(member.as_str()), at);
                w.text(redemption.as_str());
                w.option(points.as_ref(), |w, n| w.bytes(&n.to_le_bytes()));
            }
            Event::Advance(Advance { id, at }) => w.head(id.as_str(), None, at),
            Event::Forget(Forget { id, member, at }) => {
                w.head(id.as_str(), Some(member.as_str()), at);
            }
        }
    }
}

/// Writes an identity form into a sink.
struct Identity<'a, S>(&'a mut S);

impl<S: Sink> Identity<'_, S> {
    fn byte(&mut self, b: u8) {
        self.0.put(&[b]);
    }

    fn bytes(&mut self, b: &[u8]) {
        self.0.put(b);
    }

    /// A length or a number of items.
    fn count(&mut self, n: usize) {
        self.bytes(&(n as u64).to_le_bytes());
    }

    fn text(&mut self, s: &str) {
        self.count(s.len());
        self.bytes(s.as_bytes());
    }

    /// What every event has: its id, its member if it has one, its instant.
    fn head(&mut self, id: &str, member: Option<&str>, at: &Instant) {
        self.text(id);
        self.option(member, |w, m| w.text(m));
        self.instant(at);
    }

    /// Basket lines: their number, then each line's fields.
    fn lines(&mut self, lines: &[Line]) {
        self.count(lines.len());
        for Line {
            sku,
            category,
            amount,
            quantity,
        } in lines
        {
            self.text(sku);
            self.text(category);
            self.decimal(amount);
            self.bytes(&quantity.to_le_bytes());
        }
    }

    fn instant(&mut self, t: &Instant) {
        self.bytes(&t.timestamp().to_le_bytes());
        self.bytes(&t.timestamp_subsec_nanos().to_le_bytes());
    }

    fn date(&mut self, d: &NaiveDate) {
        self.bytes(&d.num_days_from_ce().to_le_bytes());
    }

    /// A decimal by value: the sign, scale and mantissa of its normal form (no trailing zero,
    /// and a zero never negative), so that zero is one value whatever its scale and sign.
    fn decimal(&mut self, d: &Decimal) {
        let n = d.normalize();
        self.byte(u8::from(n.is_sign_negative()));
        self.bytes(&n.scale().to_le_bytes());
        self.bytes(&n.mantissa().unsigned_abs().to_le_bytes());
    }

    fn option<T: ?Sized>(&mut self, value: Option<&T>, write: impl FnOnce(&mut Self, &T)) {
        match value {
            None => self.byte(0),
            Some(v) => {
                self.byte(1);
                write(self, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Event;

    fn identity(json: &str) -> Vec<u8> {
        let mut out = Vec::new();
        Event::from_json(json)
            .unwrap_or_else(|e| panic!("{e}: {json}"))
            .write_identity(&mut out);
        out
    }

    /// One event, sent in every way the wire allows: its identity does not move. Any change of
    /// a value moves it.
    #[test]
    fn the_identity_is_of_values_not_of_text() {
        let base = r#"{"type":"purchase","id":"p1","member":"m1","at":"2026-03-14T13:30:00Z","lines":[{"sku":"LATTE","category":"coffee","amount":"4.75"}]}"#;
        let same = [
            r#"{"type":"purchase","id":"p1","member":"m1","at":"2026-03-14T13:30:00Z","lines":[{"sku":"LATTE","category":"coffee","amount":"4.750","quantity":1}]}"#,
            r#"{"member":"m1","type":"purchase","at":"2026-03-14T14:30:00.000+01:00","id":"p1","lines":[{"amount":"4.75","sku":"LATTE","category":"coffee"}]}"#,
        ];
        for s in same {
            assert_eq!(identity(s), identity(base), "{s}");
        }
        let other = [
            base.replace("4.75", "4.76"),
            base.replace("\"m1\"", "\"m2\""),
            base.replace("13:30:00Z", "13:30:01Z"),
            base.replace("LATTE", "LATT"),
            base.replace("\"coffee\"", "\"coffe\""),
            base.replace("\"p1\"", "\"p2\""),
            base.replace(r#""lines""#, r#""channel":"app","lines""#),
            base.replace(r#""4.75"}"#, r#""4.75","quantity":2}"#),
        ];
        for o in &other {
            assert_ne!(identity(o), identity(base), "{o}");
        }
        // A text's length is written with it: moving a character between two fields is
        // another event.
        assert_ne!(
            identity(&base.replace(
                r#""sku":"LATTE","category":"coffee""#,
                r#""sku":"LATTEc","category":"offee""#
            )),
            identity(base)
        );
    }

    /// Zero is one value, whatever the scale or sign it is written with.
    #[test]
    fn zero_amounts_are_one_value() {
        let refund = |amount: &str| {
            identity(&format!(
                r#"{{"type":"refund","id":"r1","member":"m1","at":"2026-03-14T13:30:00Z","purchase":"p1","lines":[{{"sku":"LATTE","amount":"{amount}"}}]}}"#
            ))
        };
        assert_eq!(refund("0"), refund("0.00"));
        assert_eq!(refund("-0.00"), refund("0"));
        assert_ne!(refund("0.01"), refund("0"));
    }
}

//! The canonical JSON of an event: compact, fields in declaration order, `type` first,
//! byte for byte what `serde_json` writes for [`Event`]'s `Serialize`, written straight into
//! one buffer (serde's machinery, one small write at a time, cost a fifth of applying a
//! purchase when every event was hashed through this text). A property test holds it to
//! `serde_json`'s output. Books of snapshot versions up to 3 kept fingerprints of this text;
//! later ones keep those of [`Event::write_identity`].

use super::{Event, Line, RefundLine};
use crate::instant::Instant;
use crate::money;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

impl Event {
    /// The event as compact JSON: its canonical form, which its hash is taken of.
    ///
    /// ```
    /// use pointbook::Event;
    /// let text = r#"{"type":"advance","id":"t1","at":"2027-06-01T04:00:00Z"}"#;
    /// assert_eq!(Event::from_json(text)?.to_json(), text);
    /// # Ok::<(), pointbook::Error>(())
    /// ```
    pub fn to_json(&self) -> String {
        let mut json = Vec::with_capacity(256);
        write_event(self, &mut json, Decimals::AsWritten);
        // Built from `str`s and ASCII only.
        String::from_utf8(json).unwrap_or_default()
    }

    /// The identity form of books written in snapshot version 3 (before
    /// [`Event::write_identity`]): the canonical JSON with every decimal written by value
    /// (`"4.750"` as `"4.75"`).
    pub(crate) fn write_identity_json(&self, out: &mut Vec<u8>) {
        write_event(self, out, Decimals::ByValue);
    }

    /// The identity form of books written before decimals were written by value (snapshot
    /// versions 1 and 2): the canonical JSON as is ([`Event::to_json`]).
    pub(crate) fn write_identity_as_written(&self, out: &mut Vec<u8>) {
        write_event(self, out, Decimals::AsWritten);
    }
}

/// How a decimal is written: as given (its scale kept), or by value (trailing zeros dropped).
#[derive(Clone, Copy, PartialEq)]
enum Decimals {
    AsWritten,
    ByValue,
}

/// Writes `e`'s canonical JSON at the end of `out`.
fn write_event(e: &Event, out: &mut Vec<u8>, decimals: Decimals) {
    let mut w = Writer(out, decimals);
    w.raw(b"{\"type\":\"");
    w.raw(e.kind().as_bytes());
    w.raw(b"\"");
    match e {
        Event::Enroll(x) => {
            w.str_field("id", x.id.as_str());
            w.str_field("member", x.member.as_str());
            w.instant_field("at", &x.at);
            if let Some(b) = &x.birthday {
                w.key("birthday");
                w.serde(b);
            }
            if let Some(r) = &x.referred_by {
                w.str_field("referred_by", r.as_str());
            }
            if !x.attributes.is_empty() {
                w.key("attributes");
                w.attributes(&x.attributes);
            }
        }
        Event::Purchase(x) => {
            w.str_field("id", x.id.as_str());
            w.str_field("member", x.member.as_str());
            w.instant_field("at", &x.at);
            if let Some(c) = &x.channel {
                w.str_field("channel", c);
            }
            w.key("lines");
            w.list(&x.lines, Writer::line);
        }
        Event::Refund(x) => {
            w.str_field("id", x.id.as_str());
            w.str_field("member", x.member.as_str());
            w.instant_field("at", &x.at);
            w.str_field("purchase", x.purchase.as_str());
            w.key("lines");
            w.list(&x.lines, Writer::refund_line);
        }
        Event::Redeem(x) => {
            w.str_field("id", x.id.as_str());
            w.str_field("member", x.member.as_str());
            w.instant_field("at", &x.at);
            w.str_field("reward", &x.reward);
            w.key("hold");
            w.raw(if x.hold { b"true" } else { b"false" });
            if let Some(n) = x.points {
                w.key("points");
                w.int(n);
            }
            if let Some(t) = &x.order_total {
                w.key("order_total");
                w.decimal(t);
            }
            if !x.lines.is_empty() {
                w.key("lines");
                w.list(&x.lines, Writer::line);
            }
            if let Some(q) = x.quantity {
                w.key("quantity");
                w.int(i64::from(q));
            }
            if let Some(p) = &x.purchase {
                w.str_field("purchase", p.as_str());
            }
        }
        Event::Reverse(x) => {
            w.str_field("id", x.id.as_str());
            w.str_field("member", x.member.as_str());
            w.instant_field("at", &x.at);
            w.str_field("redemption", x.redemption.as_str());
            if let Some(n) = x.points {
                w.key("points");
                w.int(n);
            }
        }
        Event::Confirm(x) | Event::Cancel(x) => {
            w.str_field("id", x.id.as_str());
            w.str_field("member", x.member.as_str());
            w.instant_field("at", &x.at);
            w.str_field("redemption", x.redemption.as_str());
        }
        Event::Adjust(x) => {
            w.str_field("id", x.id.as_str());
            w.str_field("member", x.member.as_str());
            w.instant_field("at", &x.at);
            w.key("points");
            w.int(x.points);
            w.str_field("reason", &x.reason);
            if x.allow_negative {
                w.raw(b",\"allow_negative\":true");
            }
        }
        Event::Transfer(x) => {
            w.str_field("id", x.id.as_str());
            w.str_field("member", x.member.as_str());
            w.str_field("to", x.to.as_str());
            w.instant_field("at", &x.at);
            w.key("points");
            w.int(x.points);
        }
        Event::Advance(x) => {
            w.str_field("id", x.id.as_str());
            w.instant_field("at", &x.at);
        }
        Event::Forget(x) => {
            w.str_field("id", x.id.as_str());
            w.str_field("member", x.member.as_str());
            w.instant_field("at", &x.at);
        }
    }
    w.raw(b"}");
}

/// Appends JSON to a buffer.
struct Writer<'a>(&'a mut Vec<u8>, Decimals);

impl Writer<'_> {
    fn raw(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    /// `,"name":` (every key here follows the `type` field or an element, and needs no escape).
    fn key(&mut self, name: &str) {
        self.raw(b",\"");
        self.raw(name.as_bytes());
        self.raw(b"\":");
    }

    fn str_field(&mut self, name: &str, value: &str) {
        self.key(name);
        self.string(value);
    }

    fn instant_field(&mut self, name: &str, t: &Instant) {
        self.key(name);
        let start = self.0.len();
        self.raw(b"\"");
        if crate::instant::write_rfc3339(t, self.0) {
            self.raw(b"\"");
        } else {
            self.0.truncate(start);
            self.serde(t);
        }
    }

    fn decimal(&mut self, d: &Decimal) {
        self.raw(b"\"");
        match self.1 {
            Decimals::AsWritten => money::write_decimal_to(d, self.0),
            Decimals::ByValue => money::write_decimal_to(&d.normalize(), self.0),
        }
        self.raw(b"\"");
    }

    fn int(&mut self, n: i64) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut m = n.unsigned_abs();
        loop {
            at -= 1;
            digits[at] = b'0' + (m % 10) as u8;
            m /= 10;
            if m == 0 {
                break;
            }
        }
        if n < 0 {
            self.raw(b"-");
        }
        self.raw(&digits[at..]);
    }

    /// A rare value (a birthday, an instant outside years 0–9999) through `serde_json` itself.
    fn serde<T: serde::Serialize>(&mut self, value: &T) {
        // Writing into a vector cannot fail, and these types always serialize.
        let _ = serde_json::to_writer(&mut *self.0, value);
    }

    /// A JSON string, escaped as `serde_json` escapes: `"`, `\` and control characters only,
    /// the usual ones by letter and the rest as `\u00XX` in lower-case hex.
    fn string(&mut self, s: &str) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.raw(b"\"");
        let bytes = s.as_bytes();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let short = match b {
                b'"' => b'"',
                b'\\' => b'\\',
                b'\n' => b'n',
                b'\r' => b'r',
                b'\t' => b't',
                0x08 => b'b',
                0x0c => b'f',
                0x00..=0x1f => b'u',
                _ => continue,
            };
            self.raw(&bytes[start..i]);
            if short == b'u' {
                self.raw(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0xf)],
                ]);
            } else {
                self.raw(&[b'\\', short]);
            }
            start = i + 1;
        }
        self.raw(&bytes[start..]);
        self.raw(b"\"");
    }

    fn list<T>(&mut self, items: &[T], mut each: impl FnMut(&mut Self, &T)) {
        self.raw(b"[");
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.raw(b",");
            }
            each(self, item);
        }
        self.raw(b"]");
    }

    fn line(&mut self, l: &Line) {
        self.raw(b"{\"sku\":");
        self.string(&l.sku);
        self.str_field("category", &l.category);
        self.key("amount");
        self.decimal(&l.amount);
        self.key("quantity");
        self.int(i64::from(l.quantity));
        self.raw(b"}");
    }

    fn refund_line(&mut self, l: &RefundLine) {
        self.raw(b"{\"sku\":");
        self.string(&l.sku);
        if let Some(a) = &l.amount {
            self.key("amount");
            self.decimal(a);
        }
        if let Some(q) = l.quantity {
            self.key("quantity");
            self.int(i64::from(q));
        }
        self.raw(b"}");
    }

    fn attributes(&mut self, attributes: &BTreeMap<String, String>) {
        self.raw(b"{");
        for (i, (k, v)) in attributes.iter().enumerate() {
            if i > 0 {
                self.raw(b",");
            }
            self.string(k);
            self.raw(b":");
            self.string(v);
        }
        self.raw(b"}");
    }
}

//! Instants: a point in time, UTC, RFC 3339 on the wire; and how they are written fast.
//!
//! Instants are written fast. Every event is hashed through its JSON form and every outcome is
//! written as JSON, so formatting instants was a large share of applying an event; chrono
//! formats through `core::fmt`. This writes the common case (years 0–9999, no leap second)
//! directly, byte for byte as chrono does (RFC 3339, `Z`, fraction in 3, 6 or 9 digits only
//! when non-zero), and leaves every other instant to chrono.

use chrono::{Datelike, Timelike};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instant: UTC, RFC 3339 on the wire.
pub type Instant = chrono::DateTime<chrono::Utc>;

/// The years an instant given to a book may fall in: events, and the instants of queries
/// (progress, an analysis's `as_of`). Outside them, catching a member up or cutting periods
/// would run for centuries of months.
pub(crate) const YEARS: std::ops::RangeInclusive<i32> = 1900..=9999;

/// Why `t` is not an instant a book takes (see [`YEARS`]).
pub(crate) fn out_of_range(t: Instant) -> Option<String> {
    let year = t.year();
    (!YEARS.contains(&year)).then(|| {
        format!(
            "instant in year {year} is outside {}..={}",
            YEARS.start(),
            YEARS.end()
        )
    })
}

/// The longest instant written here: `9999-12-31T23:59:59.999999999Z`.
const LONGEST: usize = 30;

/// A fixed buffer being filled.
struct Buf {
    bytes: [u8; LONGEST],
    len: usize,
}

impl Buf {
    fn byte(&mut self, b: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    /// `value` in `width` decimal digits, zero-padded.
    fn digits(&mut self, value: u32, width: u32) {
        for i in (0..width).rev() {
            self.byte(b'0' + (value / 10u32.pow(i) % 10) as u8);
        }
    }
}

/// Writes `t` as chrono's serde does; `None` when chrono must do it.
fn format(t: &Instant) -> Option<Buf> {
    let (date, time) = (t.date_naive(), t.time());
    let year = u32::try_from(date.year()).ok().filter(|y| *y <= 9999)?;
    let nanos = time.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    let mut b = Buf {
        bytes: [0; LONGEST],
        len: 0,
    };
    b.digits(year, 4);
    b.byte(b'-');
    b.digits(date.month(), 2);
    b.byte(b'-');
    b.digits(date.day(), 2);
    b.byte(b'T');
    b.digits(time.hour(), 2);
    b.byte(b':');
    b.digits(time.minute(), 2);
    b.byte(b':');
    b.digits(time.second(), 2);
    if nanos != 0 {
        b.byte(b'.');
        if nanos % 1_000_000 == 0 {
            b.digits(nanos / 1_000_000, 3);
        } else if nanos % 1_000 == 0 {
            b.digits(nanos / 1_000, 6);
        } else {
            b.digits(nanos, 9);
        }
    }
    b.byte(b'Z');
    Some(b)
}

/// Appends `t` as chrono's serde writes it (without the quotes); `false`, having written
/// nothing, when chrono must write it.
pub(crate) fn write_rfc3339(t: &Instant, out: &mut Vec<u8>) -> bool {
    match format(t) {
        Some(b) => {
            out.extend_from_slice(b.bytes.get(..b.len).unwrap_or_default());
            true
        }
        None => false,
    }
}

/// For `#[serde(with = "crate::instant::rfc3339")]` on an [`Instant`] field.
pub(crate) mod rfc3339 {
    use super::*;

    /// Writes the instant as chrono would, faster.
    pub fn serialize<S: Serializer>(t: &Instant, s: S) -> Result<S::Ok, S::Error> {
        let formatted = format(t);
        match formatted
            .as_ref()
            .and_then(|b| std::str::from_utf8(b.bytes.get(..b.len)?).ok())
        {
            Some(text) => s.serialize_str(text),
            None => t.serialize(s),
        }
    }

    /// Reads an instant as chrono does.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Instant, D::Error> {
        Instant::deserialize(d)
    }
}

//! Events: the only way a book changes, in the JSON wire format of docs/semantics.md §12.

use crate::error::{Error, Result};
use crate::ids::{EventId, MemberId};
use crate::instant::Instant;
use crate::money::{decimal_string, opt_decimal_string};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod canonical;
mod identity;
mod validate;

pub(crate) use validate::{validate_basket, validate_event, validate_head};

/// An event. Unknown fields are rejected, so a typo never passes silently.
///
/// Read with `type` first (as Pointbook writes events), an event is parsed in one pass with
/// no intermediate tree; `type` elsewhere in the object is accepted too, at the cost of one.
///
/// ```
/// use pointbook::Event;
/// let e = Event::from_json(r#"{"type":"advance","id":"t1","at":"2027-06-01T04:00:00Z"}"#)?;
/// assert_eq!(e.id().as_str(), "t1");
/// assert!(Event::from_json(r#"{"type":"advance","id":"t1","at":"2027-06-01T04:00:00Z","x":1}"#).is_err());
/// # Ok::<(), pointbook::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A member joins.
    Enroll(Enroll),
    /// A member buys.
    Purchase(Purchase),
    /// A member returns (part of) a purchase.
    Refund(Refund),
    /// A member redeems a reward (at once, or as a hold).
    Redeem(Redeem),
    /// A held redemption is confirmed.
    Confirm(Settle),
    /// A held redemption is cancelled.
    Cancel(Settle),
    /// An issued redemption is given back, in whole or in part.
    Reverse(Reverse),
    /// An operator adjusts a member's points.
    Adjust(Adjust),
    /// A member transfers points to another.
    Transfer(Transfer),
    /// The book's clock moves forward for every member.
    Advance(Advance),
    /// A member's personal data is erased and the account closed.
    Forget(Forget),
}

/// Enrollment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enroll {
    /// Event id.
    pub id: EventId,
    /// New member.
    pub member: MemberId,
    /// Instant.
    #[serde(with = "crate::instant::rfc3339")]
    pub at: Instant,
    /// Birthday, for the birthday bonus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthday: Option<NaiveDate>,
    /// The member who referred this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referred_by: Option<MemberId>,
    /// Free-form personal attributes, erased by `forget`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

/// A purchase.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Purchase {
    /// Event id.
    pub id: EventId,
    /// Buyer.
    pub member: MemberId,
    /// Instant.
    #[serde(with = "crate::instant::rfc3339")]
    pub at: Instant,
    /// Sales channel (`store`, `app`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Basket lines.
    pub lines: Vec<Line>,
}

/// A basket line: what the customer paid for it, after discounts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// SKU.
    pub sku: String,
    /// Category.
    #[serde(default)]
    pub category: String,
    /// Amount paid (a decimal string).
    #[serde(with = "decimal_string")]
    pub amount: Decimal,
    /// Units (default 1).
    #[serde(default = "one")]
    pub quantity: u32,
}

fn one() -> u32 {
    1
}

/// A refund of lines of an earlier purchase.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refund {
    /// Event id.
    pub id: EventId,
    /// The buyer.
    pub member: MemberId,
    /// Instant.
    #[serde(with = "crate::instant::rfc3339")]
    pub at: Instant,
    /// The purchase's event id.
    pub purchase: EventId,
    /// Refunded lines.
    pub lines: Vec<RefundLine>,
}

/// A refunded line: by SKU, for an amount (default: all that is left of it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundLine {
    /// SKU of the purchase line(s).
    pub sku: String,
    /// Amount refunded; all that is left when absent.
    #[serde(
        default,
        with = "opt_decimal_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub amount: Option<Decimal>,
    /// Units returned; all units when the whole amount is refunded, none otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
}

/// A redemption.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Redeem {
    /// Event id, which also names the redemption.
    pub id: EventId,
    /// Member.
    pub member: MemberId,
    /// Instant.
    #[serde(with = "crate::instant::rfc3339")]
    pub at: Instant,
    /// Reward id.
    pub reward: String,
    /// Reserve only (two-phase); default false.
    #[serde(default)]
    pub hold: bool,
    /// Points to pay with (a points payment only): a positive multiple of its step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<i64>,
    /// The order's total, for a points payment's share and a percent off.
    #[serde(
        default,
        with = "opt_decimal_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub order_total: Option<Decimal>,
    /// The order's lines, for a percent off of some categories or SKUs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<Line>,
    /// Free items wanted (a free item only); default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    /// The purchase the redemption pays for, which may arrive later: its refund gives back a
    /// share of the points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase: Option<EventId>,
}

/// A reversal of an issued redemption: its points go back to the lots they came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reverse {
    /// Event id.
    pub id: EventId,
    /// Member.
    pub member: MemberId,
    /// Instant.
    #[serde(with = "crate::instant::rfc3339")]
    pub at: Instant,
    /// The redeem event's id.
    pub redemption: EventId,
    /// Points to give back; all that is left of the redemption when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<i64>,
}

/// Confirmation or cancellation of a held redemption.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settle {
    /// Event id.
    pub id: EventId,
    /// Member.
    pub member: MemberId,
    /// Instant.
    #[serde(with = "crate::instant::rfc3339")]
    pub at: Instant,
    /// The redeem event's id.
    pub redemption: EventId,
}

/// A manual adjustment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adjust {
    /// Event id.
    pub id: EventId,
    /// Member.
    pub member: MemberId,
    /// Instant.
    #[serde(with = "crate::instant::rfc3339")]
    pub at: Instant,
    /// Points: positive credits, negative debits.
    pub points: i64,
    /// Reason code.
    pub reason: String,
    /// Let a debit leave a debt instead of being rejected.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_negative: bool,
}

/// A transfer between members.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// Event id.
    pub id: EventId,
    /// Sender.
    pub member: MemberId,
    /// Receiver.
    pub to: MemberId,
    /// Instant.
    #[serde(with = "crate::instant::rfc3339")]
    pub at: Instant,
    /// Points.
    pub points: i64,
}

/// A clock tick for every member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Advance {
    /// Event id.
    pub id: EventId,
    /// New clock.
    #[serde(with = "crate::instant::rfc3339")]
    pub at: Instant,
}

/// Erasure of a member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Forget {
    /// Event id.
    pub id: EventId,
    /// Member.
    pub member: MemberId,
    /// Instant.
    #[serde(with = "crate::instant::rfc3339")]
    pub at: Instant,
}

/// The wire names of the event types, in [`Event`]'s order.
pub(crate) const KINDS: &[&str] = &[
    "enroll", "purchase", "refund", "redeem", "confirm", "cancel", "adjust", "transfer", "advance",
    "forget", "reverse",
];

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_map(EventVisitor)
    }
}

struct EventVisitor;

/// A key of an event object: `type`, or another (kept only when `type` is not first).
enum Key {
    Type,
    Other(String),
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct KeyVisitor;
        impl serde::de::Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Key, E> {
                Ok(match v {
                    "type" => Key::Type,
                    other => Key::Other(other.to_owned()),
                })
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

/// An event type's wire name, read as one of [`KINDS`] without copying it.
struct Kind(&'static str);

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct KindVisitor;
        impl serde::de::Visitor<'_> for KindVisitor {
            type Value = Kind;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an event type")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Kind, E> {
                KINDS
                    .iter()
                    .find(|k| **k == v)
                    .map(|k| Kind(k))
                    .ok_or_else(|| E::unknown_variant(v, KINDS))
            }
        }
        d.deserialize_str(KindVisitor)
    }
}

/// The rest of an event object, once its type is known, as that type's fields.
fn event_of<'de, D: serde::Deserializer<'de>>(
    kind: &str,
    d: D,
) -> std::result::Result<Event, D::Error> {
    Ok(match kind {
        "enroll" => Event::Enroll(Enroll::deserialize(d)?),
        "purchase" => Event::Purchase(Purchase::deserialize(d)?),
        "refund" => Event::Refund(Refund::deserialize(d)?),
        "redeem" => Event::Redeem(Redeem::deserialize(d)?),
        "confirm" => Event::Confirm(Settle::deserialize(d)?),
        "cancel" => Event::Cancel(Settle::deserialize(d)?),
        "adjust" => Event::Adjust(Adjust::deserialize(d)?),
        "transfer" => Event::Transfer(Transfer::deserialize(d)?),
        "advance" => Event::Advance(Advance::deserialize(d)?),
        "forget" => Event::Forget(Forget::deserialize(d)?),
        "reverse" => Event::Reverse(Reverse::deserialize(d)?),
        other => return Err(serde::de::Error::unknown_variant(other, KINDS)),
    })
}

impl<'de> serde::de::Visitor<'de> for EventVisitor {
    type Value = Event;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an event (an object with a \"type\")")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Event, A::Error> {
        use serde::de::value::MapAccessDeserializer;
        use serde::de::Error as _;
        // The usual case: `type` first, the rest read straight into the event's own struct.
        let first = match map.next_key::<Key>()? {
            Some(Key::Type) => {
                let Kind(kind) = map.next_value()?;
                return event_of(kind, MapAccessDeserializer::new(map));
            }
            Some(Key::Other(key)) => key,
            None => return Err(A::Error::missing_field("type")),
        };
        // `type` later: keep the fields until it comes.
        let mut fields = serde_json::Map::new();
        let value: serde_json::Value = map.next_value()?;
        fields.insert(first, value);
        let mut kind = None;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Type if kind.is_some() => return Err(A::Error::duplicate_field("type")),
                Key::Type => kind = Some(map.next_value::<Kind>()?.0),
                Key::Other(key) if fields.contains_key(&key) => {
                    return Err(A::Error::custom(format!("duplicate field `{key}`")));
                }
                Key::Other(key) => {
                    let value: serde_json::Value = map.next_value()?;
                    fields.insert(key, value);
                }
            }
        }
        let kind = kind.ok_or_else(|| A::Error::missing_field("type"))?;
        event_of(kind, serde_json::Value::Object(fields)).map_err(A::Error::custom)
    }
}

impl Purchase {
    /// Parses a purchase to quote: the wire form, where `"type": "purchase"` may be left out.
    ///
    /// ```
    /// let p = pointbook::event::Purchase::from_json(r#"{"id":"q","member":"m1",
    ///     "at":"2026-03-14T13:30:00Z","lines":[{"sku":"A","amount":"1.00"}]}"#)?;
    /// assert_eq!(p.lines.len(), 1);
    /// assert!(pointbook::event::Purchase::from_json(r#"{"type":"refund","id":"r"}"#).is_err());
    /// // `pay` belongs to a quote (`Quote::from_json`), not to a purchase.
    /// assert!(pointbook::event::Purchase::from_json(r#"{"id":"q","member":"m1",
    ///     "at":"2026-03-14T13:30:00Z","lines":[{"sku":"A","amount":"1.00"}],"pay":{"reward":"r"}}"#).is_err());
    /// # Ok::<(), pointbook::Error>(())
    /// ```
    pub fn from_json(text: &str) -> Result<Purchase> {
        Ok(Quote::from_json_with(text, false)?.purchase)
    }
}

/// A basket to quote (what a till shows before the customer pays), optionally paid in part
/// with a reward that takes money off: a points payment, a percent off or an amount off
/// (docs/semantics.md §13).
#[derive(Clone, Debug, PartialEq)]
pub struct Quote {
    /// The purchase, in its wire form.
    pub purchase: Purchase,
    /// The reward paying part of it, if any.
    pub pay: Option<Pay>,
}

/// The reward a quoted basket is paid with in part.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pay {
    /// Reward id.
    pub reward: String,
    /// Points to pay with (a points payment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<i64>,
}

impl Quote {
    /// Parses a quote: a purchase in its wire form (`"type": "purchase"` may be left out) with
    /// an optional `"pay": {"reward", "points"}`.
    ///
    /// ```
    /// let q = pointbook::event::Quote::from_json(r#"{"id":"q","member":"m1",
    ///     "at":"2026-03-14T13:30:00Z","lines":[{"sku":"A","amount":"12.40"}],
    ///     "pay":{"reward":"pay-with-points","points":500}}"#)?;
    /// assert_eq!(q.pay.map(|p| p.points), Some(Some(500)));
    /// # Ok::<(), pointbook::Error>(())
    /// ```
    pub fn from_json(text: &str) -> Result<Quote> {
        Quote::from_json_with(text, true)
    }

    /// A quote's purchase, and its `pay` when `with_pay` (else `pay` is an unknown field).
    fn from_json_with(text: &str, with_pay: bool) -> Result<Quote> {
        let bad = |event: String, message: String| Error::InvalidEvent { event, message };
        let mut value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| bad("?".into(), e.to_string()))?;
        let id = value
            .get("id")
            .and_then(|i| i.as_str())
            .unwrap_or("?")
            .to_owned();
        let mut pay = None;
        if let Some(obj) = value.as_object_mut() {
            match obj.remove("type") {
                None => {}
                Some(t) if t == "purchase" => {}
                Some(t) => return Err(bad(id, format!("a quote needs a purchase, not {t}"))),
            }
            let given = if with_pay { obj.remove("pay") } else { None };
            match given {
                None | Some(serde_json::Value::Null) => {}
                Some(p) => {
                    pay = Some(
                        serde_json::from_value::<Pay>(p)
                            .map_err(|e| bad(id.clone(), format!("pay: {e}")))?,
                    )
                }
            }
        }
        let purchase = serde_json::from_value(value).map_err(|e| bad(id, e.to_string()))?;
        Ok(Quote { purchase, pay })
    }
}

impl Event {
    /// Parses one event from JSON, with an error that names the event and the field.
    pub fn from_json(text: &str) -> Result<Event> {
        serde_json::from_str(text).map_err(|e| {
            let id = serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_owned))
                .unwrap_or_else(|| "?".to_owned());
            Error::InvalidEvent {
                event: id,
                message: e.to_string(),
            }
        })
    }

    /// The event's id.
    pub fn id(&self) -> &EventId {
        match self {
            Event::Enroll(e) => &e.id,
            Event::Purchase(e) => &e.id,
            Event::Refund(e) => &e.id,
            Event::Redeem(e) => &e.id,
            Event::Confirm(e) | Event::Cancel(e) => &e.id,
            Event::Adjust(e) => &e.id,
            Event::Transfer(e) => &e.id,
            Event::Advance(e) => &e.id,
            Event::Forget(e) => &e.id,
            Event::Reverse(e) => &e.id,
        }
    }

    /// The event's instant.
    pub fn at(&self) -> Instant {
        match self {
            Event::Enroll(e) => e.at,
            Event::Purchase(e) => e.at,
            Event::Refund(e) => e.at,
            Event::Redeem(e) => e.at,
            Event::Confirm(e) | Event::Cancel(e) => e.at,
            Event::Adjust(e) => e.at,
            Event::Transfer(e) => e.at,
            Event::Advance(e) => e.at,
            Event::Forget(e) => e.at,
            Event::Reverse(e) => e.at,
        }
    }

    /// The member the event is about (`None` for `advance`).
    pub fn member(&self) -> Option<&MemberId> {
        match self {
            Event::Enroll(e) => Some(&e.member),
            Event::Purchase(e) => Some(&e.member),
            Event::Refund(e) => Some(&e.member),
            Event::Redeem(e) => Some(&e.member),
            Event::Confirm(e) | Event::Cancel(e) => Some(&e.member),
            Event::Adjust(e) => Some(&e.member),
            Event::Transfer(e) => Some(&e.member),
            Event::Advance(_) => None,
            Event::Forget(e) => Some(&e.member),
            Event::Reverse(e) => Some(&e.member),
        }
    }

    /// The wire name of the event's type (`"purchase"`).
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Enroll(_) => "enroll",
            Event::Purchase(_) => "purchase",
            Event::Refund(_) => "refund",
            Event::Redeem(_) => "redeem",
            Event::Confirm(_) => "confirm",
            Event::Cancel(_) => "cancel",
            Event::Adjust(_) => "adjust",
            Event::Transfer(_) => "transfer",
            Event::Advance(_) => "advance",
            Event::Forget(_) => "forget",
            Event::Reverse(_) => "reverse",
        }
    }
}

//! Purchase records (docs/semantics.md §5): what a refund needs of a purchase, kept compactly.

use crate::codec::{Corrupt, Reader, Writer};
use crate::event::Line;
use crate::instant::Instant;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A purchase's channel and lines as they stand after refunds, kept compactly
/// ([`encode_receipt`]): one allocation instead of two strings per line.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Receipt(pub(crate) Box<[u8]>);

impl Receipt {
    /// The receipt of a channel and lines.
    pub fn new(channel: Option<&str>, lines: &[Line]) -> Receipt {
        Receipt(encode_receipt(channel, lines))
    }

    /// The channel and the lines.
    pub fn read(&self) -> Result<(Option<&str>, Vec<Line>), Corrupt> {
        decode_receipt(&self.0)
    }
}

/// A purchase's standing under capped rules: the cap left per rule before it, and its
/// contribution per rule as it stands. Most purchases meet no capped rule: they hold nothing
/// here but an empty pointer, not two maps (a purchase record is kept per purchase).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct CapUse(Option<Box<[BTreeMap<String, Decimal>; 2]>>);

/// The cap usage of a purchase that met no capped rule.
static NO_CAPS: BTreeMap<String, Decimal> = BTreeMap::new();

impl CapUse {
    /// The usage of cap left and contribution per rule.
    pub fn new(left: BTreeMap<String, Decimal>, used: BTreeMap<String, Decimal>) -> CapUse {
        if left.is_empty() && used.is_empty() {
            CapUse(None)
        } else {
            CapUse(Some(Box::new([left, used])))
        }
    }

    /// Cap left per rule before the purchase.
    pub fn left(&self) -> &BTreeMap<String, Decimal> {
        self.0.as_ref().map_or(&NO_CAPS, |c| &c[0])
    }

    /// Contribution per rule, as it stands.
    pub fn used(&self) -> &BTreeMap<String, Decimal> {
        self.0.as_ref().map_or(&NO_CAPS, |c| &c[1])
    }

    /// The same cap left, with a new contribution (after a refund).
    pub fn with_used(self, used: BTreeMap<String, Decimal>) -> CapUse {
        let left = self.0.map(|c| {
            let [left, _] = *c;
            left
        });
        CapUse::new(left.unwrap_or_default(), used)
    }
}

/// What a refund needs to recompute a purchase's earn. Written in snapshots with the channel
/// and lines as fields of their own, as [`PurchaseRecordWire`].
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(from = "PurchaseRecordWire")]
pub(crate) struct PurchaseRecord {
    pub at: Instant,
    /// Tier index at the purchase.
    pub tier: usize,
    /// Channel and lines as they stand after refunds.
    pub receipt: Receipt,
    /// Cap left before the purchase and contribution (as it stands) per capped rule.
    pub caps: CapUse,
    /// Points the purchase credits, as it stands.
    pub credited: i64,
    /// Eligible spend, as it stands.
    pub eligible: Decimal,
    /// Whether it counts as a visit.
    pub visit: bool,
    /// The lot it created.
    pub lot: Option<u64>,
}

/// A purchase record as snapshots hold it.
#[derive(Serialize, Deserialize)]
pub(crate) struct PurchaseRecordWire {
    at: Instant,
    tier: usize,
    channel: Option<String>,
    lines: Vec<Line>,
    cap_left: BTreeMap<String, Decimal>,
    cap_used: BTreeMap<String, Decimal>,
    credited: i64,
    eligible: Decimal,
    visit: bool,
    lot: Option<u64>,
}

impl From<PurchaseRecordWire> for PurchaseRecord {
    fn from(w: PurchaseRecordWire) -> Self {
        PurchaseRecord {
            at: w.at,
            tier: w.tier,
            receipt: Receipt::new(w.channel.as_deref(), &w.lines),
            caps: CapUse::new(w.cap_left, w.cap_used),
            credited: w.credited,
            eligible: w.eligible,
            visit: w.visit,
            lot: w.lot,
        }
    }
}

impl Serialize for PurchaseRecord {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (channel, lines) = self.receipt.read().map_err(serde::ser::Error::custom)?;
        PurchaseRecordWire {
            at: self.at,
            tier: self.tier,
            channel: channel.map(str::to_owned),
            lines,
            cap_left: self.caps.left().clone(),
            cap_used: self.caps.used().clone(),
            credited: self.credited,
            eligible: self.eligible,
            visit: self.visit,
            lot: self.lot,
        }
        .serialize(s)
    }
}

/// Encodes a purchase's channel and lines (what a refund needs of them) in one allocation,
/// instead of two strings per line.
pub(crate) fn encode_receipt(channel: Option<&str>, lines: &[Line]) -> Box<[u8]> {
    let mut w = Writer::new(8 + lines.len() * 40, Instant::UNIX_EPOCH);
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

/// [`encode_purchase_into`] as bytes of their own (tests).
#[cfg(test)]
pub(crate) fn encode_purchase(r: &PurchaseRecord) -> Box<[u8]> {
    let mut out = Vec::new();
    encode_purchase_into(r, &mut out);
    out.into_boxed_slice()
}

/// Encodes a purchase record after `out`'s bytes: its fields, its cap usage (two empty maps
/// for most purchases, two bytes), then its receipt's bytes.
pub(crate) fn encode_purchase_into(r: &PurchaseRecord, out: &mut Vec<u8>) {
    let mut w = Writer::new(0, Instant::UNIX_EPOCH);
    w.out = std::mem::take(out);
    w.out.reserve(32 + r.receipt.0.len());
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
    *out = w.out;
}

/// Reads a purchase record back.
pub(crate) fn decode_purchase(bytes: &[u8]) -> Result<PurchaseRecord, Corrupt> {
    let mut r = Reader::new(bytes, Instant::UNIX_EPOCH);
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
    let mut r = Reader::new(bytes, Instant::UNIX_EPOCH);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64, nanos: u32) -> Instant {
        Instant::from_timestamp(secs, nanos).unwrap_or_default()
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

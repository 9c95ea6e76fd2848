//! Arrow rows to events. One column per wire field (docs/semantics.md §12); purchase and refund lines
//! are a list of structs `{sku, category, amount, quantity}`. Strings may be any Arrow string
//! type (utf8, large, view, dictionary); amounts strings or decimals (never floats); `at`
//! timezone-aware timestamps or RFC 3339 strings; `birthday` dates or strings. A value in a
//! column that does not belong to the row's event type is rejected, as the JSON wire rejects an
//! unknown field.

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, TimestampMicrosecondType};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray, StructArray,
};
use arrow_cast::cast;
use arrow_schema::{DataType, TimeUnit};
use chrono::NaiveDate;
use pointbook::event::{
    Adjust, Advance, Enroll, Forget, Line, Purchase, Redeem, Refund, RefundLine, Reverse, Settle,
    Transfer,
};
use pointbook::{Error, Event, EventId, Instant, MemberId};
use std::collections::BTreeMap;

/// The string columns of `EVENT_SCHEMA`.
pub(crate) const TEXT: &[&str] = &[
    "type",
    "id",
    "member",
    "channel",
    "purchase",
    "reward",
    "redemption",
    "reason",
    "to",
    "referred_by",
    "order_total",
];
const ALL: &[&str] = &[
    "type",
    "id",
    "member",
    "at",
    "channel",
    "lines",
    "purchase",
    "reward",
    "hold",
    "redemption",
    "points",
    "reason",
    "allow_negative",
    "to",
    "birthday",
    "referred_by",
    "order_total",
    "quantity",
];

fn allowed(kind: &str) -> &'static [&'static str] {
    match kind {
        "enroll" => &["birthday", "referred_by"],
        "purchase" => &["channel", "lines"],
        "refund" => &["purchase", "lines"],
        "redeem" => &[
            "reward",
            "hold",
            "points",
            "order_total",
            "lines",
            "quantity",
            "purchase",
        ],
        "confirm" | "cancel" => &["redemption"],
        "reverse" => &["redemption", "points"],
        "adjust" => &["points", "reason", "allow_negative"],
        "transfer" => &["to", "points"],
        _ => &[],
    }
}

/// Whole numbers from an integer column, or from a float column whose values are all whole
/// (pandas turns integers with gaps into floats); a fractional value is refused, never cut.
fn whole_numbers(col: &ArrayRef, name: &str) -> Result<Int64Array, String> {
    if !col.data_type().is_floating() {
        let c = cast(col, &DataType::Int64).map_err(|e| format!("column {name}: {e}"))?;
        return Ok(c.as_primitive::<arrow_array::types::Int64Type>().clone());
    }
    let c = cast(col, &DataType::Float64).map_err(|e| format!("column {name}: {e}"))?;
    let f = c.as_primitive::<arrow_array::types::Float64Type>();
    (0..f.len())
        .map(|i| {
            if f.is_null(i) {
                return Ok(None);
            }
            let v = f.value(i);
            if v.is_finite() && v.fract() == 0.0 && v.abs() <= 9_007_199_254_740_992.0 {
                Ok(Some(v as i64))
            } else {
                Err(format!("column {name}: {v} is not a whole number"))
            }
        })
        .collect()
}

fn to_utf8(col: &ArrayRef, name: &str) -> Result<StringArray, String> {
    if col.data_type().is_floating() {
        return Err(format!(
            "column {name}: {} is a binary float; use strings or decimals",
            col.data_type()
        ));
    }
    let c = cast(col, &DataType::Utf8).map_err(|e| format!("column {name}: {e}"))?;
    Ok(c.as_string::<i32>().clone())
}

enum At {
    Micros(Vec<Option<i64>>),
    Text(StringArray),
}

enum Birthday {
    Dates(Vec<Option<i32>>),
    Text(StringArray),
}

struct Lines {
    offsets: Vec<usize>,
    valid: Vec<bool>,
    sku: StringArray,
    category: Option<StringArray>,
    amount: Option<StringArray>,
    quantity: Option<Int64Array>,
}

struct Columns {
    n: usize,
    text: BTreeMap<&'static str, StringArray>,
    /// Per column, which rows hold a value (logical nulls: a `Null`-typed column holds none).
    present: BTreeMap<&'static str, Option<arrow_buffer::NullBuffer>>,
    at: Option<At>,
    birthday: Option<Birthday>,
    points: Option<Int64Array>,
    quantity: Option<Int64Array>,
    hold: Option<BooleanArray>,
    allow_negative: Option<BooleanArray>,
    lines: Option<Lines>,
}

fn lines(col: &ArrayRef) -> Result<Lines, String> {
    let (offsets, values, nulls): (Vec<usize>, ArrayRef, Vec<bool>) = match col.data_type() {
        DataType::List(_) => {
            let l = col.as_list::<i32>();
            (
                l.value_offsets().iter().map(|o| *o as usize).collect(),
                l.values().clone(),
                (0..l.len()).map(|i| l.is_valid(i)).collect(),
            )
        }
        DataType::LargeList(_) => {
            let l = col.as_list::<i64>();
            (
                l.value_offsets().iter().map(|o| *o as usize).collect(),
                l.values().clone(),
                (0..l.len()).map(|i| l.is_valid(i)).collect(),
            )
        }
        other => {
            return Err(format!(
                "column lines: expected a list of structs, found {other}"
            ))
        }
    };
    let DataType::Struct(_) = values.data_type() else {
        return Err(format!(
            "column lines: expected a list of structs, found a list of {}",
            values.data_type()
        ));
    };
    let s: &StructArray = values.as_struct();
    let child = |name: &str| s.column_by_name(name).cloned();
    for f in s.fields() {
        if !["sku", "category", "amount", "quantity"].contains(&f.name().as_str()) {
            return Err(format!("column lines: unknown field {}", f.name()));
        }
    }
    let sku = child("sku").ok_or("column lines: every line needs a sku")?;
    let quantity = child("quantity")
        .map(|q| whole_numbers(&q, "lines.quantity"))
        .transpose()?;
    Ok(Lines {
        offsets,
        valid: nulls,
        sku: to_utf8(&sku, "lines.sku")?,
        category: child("category")
            .map(|c| to_utf8(&c, "lines.category"))
            .transpose()?,
        amount: child("amount")
            .map(|c| to_utf8(&c, "lines.amount"))
            .transpose()?,
        quantity,
    })
}

fn columns(batch: &RecordBatch) -> Result<Columns, String> {
    let schema = batch.schema();
    for f in schema.fields() {
        if !ALL.contains(&f.name().as_str()) {
            return Err(format!(
                "unknown column {} (columns are the wire fields: {})",
                f.name(),
                ALL.join(", ")
            ));
        }
    }
    let get = |name: &str| batch.column_by_name(name).cloned();
    let mut cols = Columns {
        n: batch.num_rows(),
        text: BTreeMap::new(),
        present: BTreeMap::new(),
        at: None,
        birthday: None,
        points: None,
        quantity: None,
        hold: None,
        allow_negative: None,
        lines: None,
    };
    for name in ALL {
        if let Some(c) = get(name) {
            cols.present.insert(name, c.logical_nulls());
        }
    }
    for name in TEXT {
        if let Some(c) = get(name) {
            cols.text.insert(name, to_utf8(&c, name)?);
        }
    }
    if let Some(c) = get("at") {
        cols.at = Some(match c.data_type() {
            DataType::Timestamp(_, None) => {
                return Err("column at: timezone-naive timestamps are ambiguous; use timezone-aware (UTC) timestamps or RFC 3339 strings".into())
            }
            DataType::Timestamp(_, Some(tz)) => {
                let c = cast(&c, &DataType::Timestamp(TimeUnit::Microsecond, Some(tz.clone())))
                    .map_err(|e| format!("column at: {e}"))?;
                let a = c.as_primitive::<TimestampMicrosecondType>();
                At::Micros((0..a.len()).map(|i| a.is_valid(i).then(|| a.value(i))).collect())
            }
            _ => At::Text(to_utf8(&c, "at")?),
        });
    }
    if let Some(c) = get("birthday") {
        cols.birthday = Some(match c.data_type() {
            DataType::Date32 | DataType::Date64 => {
                let c = cast(&c, &DataType::Date32).map_err(|e| format!("column birthday: {e}"))?;
                let a = c.as_primitive::<Date32Type>();
                Birthday::Dates(
                    (0..a.len())
                        .map(|i| a.is_valid(i).then(|| a.value(i)))
                        .collect(),
                )
            }
            _ => Birthday::Text(to_utf8(&c, "birthday")?),
        });
    }
    if let Some(c) = get("points") {
        cols.points = Some(whole_numbers(&c, "points")?);
    }
    if let Some(c) = get("quantity") {
        cols.quantity = Some(whole_numbers(&c, "quantity")?);
    }
    for (name, slot) in [
        ("hold", &mut cols.hold),
        ("allow_negative", &mut cols.allow_negative),
    ] {
        if let Some(c) = get(name) {
            let c = cast(&c, &DataType::Boolean).map_err(|e| format!("column {name}: {e}"))?;
            *slot = Some(c.as_boolean().clone());
        }
    }
    if let Some(c) = get("lines") {
        cols.lines = Some(lines(&c)?);
    }
    Ok(cols)
}

/// The events of a batch: one result per row (a row that cannot be read is an error for that
/// row only). Fails as a whole only when the table itself is unusable (unknown column, a
/// column of an impossible type).
pub fn events(batch: &RecordBatch) -> Result<Vec<Result<Event, Error>>, String> {
    let cols = columns(batch)?;
    Ok(read(&cols, 0..cols.n))
}

/// The events of a batch given to `each` a slice of [`ROWS_PER_SLICE`] rows at a time, so only
/// a slice's events are held at once. The batch is checked as a whole first: when it is
/// unusable (as for [`events`]) nothing is given. Returns the rows read.
pub fn each_slice(
    batch: &RecordBatch,
    mut each: impl FnMut(Vec<Result<Event, Error>>),
) -> Result<usize, String> {
    let cols = columns(batch)?;
    for start in (0..cols.n).step_by(ROWS_PER_SLICE) {
        each(read(&cols, start..(start + ROWS_PER_SLICE).min(cols.n)));
    }
    Ok(cols.n)
}

/// Rows read at a time by [`each_slice`].
const ROWS_PER_SLICE: usize = 65_536;

/// The events of some rows, in order. Rows are independent: a long range is read on every
/// core, in contiguous runs, and the runs joined in order.
fn read(cols: &Columns, rows: std::ops::Range<usize>) -> Vec<Result<Event, Error>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let run = rows.len().div_ceil(threads).max(ROWS_PER_THREAD);
    if run >= rows.len() {
        return rows.map(|i| row(cols, i)).collect();
    }
    let (len, end) = (rows.len(), rows.end);
    std::thread::scope(|s| {
        let handles: Vec<_> = rows
            .step_by(run)
            .map(|start| {
                s.spawn(move || {
                    (start..(start + run).min(end))
                        .map(|i| row(cols, i))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut events = Vec::with_capacity(len);
        for h in handles {
            // Reading a row does not panic; were it to, the panic goes on to the caller (the
            // binding raises it as an exception) rather than rows missing.
            events.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        events
    })
}

/// Below this many rows per thread, a batch is read on one thread.
const ROWS_PER_THREAD: usize = 16_384;

fn text<'a>(cols: &'a Columns, name: &str, i: usize) -> Option<&'a str> {
    cols.text
        .get(name)
        .and_then(|a| a.is_valid(i).then(|| a.value(i)))
}

fn row(cols: &Columns, i: usize) -> Result<Event, Error> {
    let id = text(cols, "id", i).unwrap_or("?").to_owned();
    let bad = |message: String| Error::InvalidEvent {
        event: id.clone(),
        message,
    };
    let kind = text(cols, "type", i).ok_or_else(|| bad("type is missing".into()))?;
    if text(cols, "id", i).is_none() {
        return Err(bad("id is missing".into()));
    }
    let extra = allowed(kind);
    for (name, nulls) in &cols.present {
        let base = ["type", "id", "at"].contains(name) || (*name == "member" && kind != "advance");
        let has_value = nulls.as_ref().is_none_or(|n| n.is_valid(i));
        if has_value && !base && !extra.contains(name) {
            return Err(bad(format!(
                "field {name} does not belong to a {kind} event"
            )));
        }
    }
    let need = |name: &str| text(cols, name, i).ok_or_else(|| bad(format!("{name} is missing")));
    let at: Instant = match &cols.at {
        Some(At::Micros(v)) => v[i]
            .and_then(chrono::DateTime::from_timestamp_micros)
            .ok_or_else(|| bad("at is missing".into()))?,
        Some(At::Text(a)) if a.is_valid(i) => a
            .value(i)
            .parse::<chrono::DateTime<chrono::FixedOffset>>()
            .map_err(|e| bad(format!("at \"{}\": {e}", a.value(i))))?
            .to_utc(),
        _ => return Err(bad("at is missing".into())),
    };
    let id = EventId::new(id.clone());
    let member = || need("member").map(MemberId::new);
    let points = || {
        cols.points
            .as_ref()
            .and_then(|p| p.is_valid(i).then(|| p.value(i)))
            .ok_or_else(|| bad("points is missing".into()))
    };
    let flag =
        |col: &Option<BooleanArray>| col.as_ref().is_some_and(|c| c.is_valid(i) && c.value(i));
    Ok(match kind {
        "enroll" => Event::Enroll(Enroll {
            member: member()?,
            at,
            birthday: match &cols.birthday {
                Some(Birthday::Dates(d)) => d[i].and_then(|days| {
                    NaiveDate::from_ymd_opt(1970, 1, 1)
                        .and_then(|e| e.checked_add_signed(chrono::Duration::days(i64::from(days))))
                }),
                Some(Birthday::Text(a)) if a.is_valid(i) => Some(
                    a.value(i)
                        .parse()
                        .map_err(|e| bad(format!("birthday \"{}\": {e}", a.value(i))))?,
                ),
                _ => None,
            },
            referred_by: text(cols, "referred_by", i).map(MemberId::new),
            attributes: BTreeMap::new(),
            id,
        }),
        "purchase" => Event::Purchase(Purchase {
            member: member()?,
            at,
            channel: text(cols, "channel", i).map(str::to_owned),
            lines: purchase_lines(cols, i).map_err(bad)?,
            id,
        }),
        "refund" => Event::Refund(Refund {
            member: member()?,
            at,
            purchase: EventId::new(need("purchase")?),
            lines: refund_lines(cols, i).map_err(bad)?,
            id,
        }),
        "redeem" => Event::Redeem(Redeem {
            member: member()?,
            at,
            reward: need("reward")?.to_owned(),
            hold: flag(&cols.hold),
            points: cols
                .points
                .as_ref()
                .and_then(|p| p.is_valid(i).then(|| p.value(i))),
            order_total: text(cols, "order_total", i)
                .map(|t| {
                    pointbook::money::parse_decimal(t).map_err(|e| bad(format!("order_total: {e}")))
                })
                .transpose()?,
            lines: match cols.lines.as_ref().is_some_and(|l| l.valid[i]) {
                true => purchase_lines(cols, i).map_err(bad)?,
                false => Vec::new(),
            },
            quantity: match cols.quantity.as_ref().filter(|q| q.is_valid(i)) {
                None => None,
                Some(q) => Some(
                    u32::try_from(q.value(i))
                        .map_err(|_| bad(format!("quantity {} is out of range", q.value(i))))?,
                ),
            },
            purchase: text(cols, "purchase", i).map(EventId::new),
            id,
        }),
        "reverse" => Event::Reverse(Reverse {
            member: member()?,
            at,
            redemption: EventId::new(need("redemption")?),
            points: cols
                .points
                .as_ref()
                .and_then(|p| p.is_valid(i).then(|| p.value(i))),
            id,
        }),
        "confirm" | "cancel" => {
            let s = Settle {
                member: member()?,
                at,
                redemption: EventId::new(need("redemption")?),
                id,
            };
            if kind == "confirm" {
                Event::Confirm(s)
            } else {
                Event::Cancel(s)
            }
        }
        "adjust" => Event::Adjust(Adjust {
            member: member()?,
            at,
            points: points()?,
            reason: need("reason")?.to_owned(),
            allow_negative: flag(&cols.allow_negative),
            id,
        }),
        "transfer" => Event::Transfer(Transfer {
            member: member()?,
            to: MemberId::new(need("to")?),
            at,
            points: points()?,
            id,
        }),
        "advance" => Event::Advance(Advance { id, at }),
        "forget" => Event::Forget(Forget {
            member: member()?,
            at,
            id,
        }),
        other => return Err(bad(format!("unknown event type \"{other}\""))),
    })
}

fn line_range(cols: &Columns, i: usize) -> Result<(&Lines, std::ops::Range<usize>), String> {
    let l = cols.lines.as_ref().ok_or("lines is missing")?;
    if !l.valid[i] {
        return Err("lines is missing".into());
    }
    Ok((l, l.offsets[i]..l.offsets[i + 1]))
}

fn value(a: &Option<StringArray>, j: usize) -> Option<&str> {
    a.as_ref().and_then(|a| a.is_valid(j).then(|| a.value(j)))
}

fn quantity(l: &Lines, j: usize, line: usize) -> Result<Option<u32>, String> {
    match l.quantity.as_ref().filter(|q| q.is_valid(j)) {
        None => Ok(None),
        Some(q) => u32::try_from(q.value(j))
            .map(Some)
            .map_err(|_| format!("line {line}: quantity {} is out of range", q.value(j))),
    }
}

fn amount(text: &str, line: usize) -> Result<rust_decimal::Decimal, String> {
    pointbook::money::parse_decimal(text).map_err(|e| format!("line {line}: {e}"))
}

fn purchase_lines(cols: &Columns, i: usize) -> Result<Vec<Line>, String> {
    let (l, range) = line_range(cols, i)?;
    range
        .enumerate()
        .map(|(k, j)| {
            let n = k + 1;
            let sku = (l.sku.is_valid(j)).then(|| l.sku.value(j));
            Ok(Line {
                sku: sku.ok_or(format!("line {n}: sku is missing"))?.to_owned(),
                category: value(&l.category, j).unwrap_or("").to_owned(),
                amount: amount(
                    value(&l.amount, j).ok_or(format!("line {n}: amount is missing"))?,
                    n,
                )?,
                quantity: quantity(l, j, n)?.unwrap_or(1),
            })
        })
        .collect()
}

fn refund_lines(cols: &Columns, i: usize) -> Result<Vec<RefundLine>, String> {
    let (l, range) = line_range(cols, i)?;
    range
        .enumerate()
        .map(|(k, j)| {
            let n = k + 1;
            if value(&l.category, j).is_some() {
                return Err(format!("line {n}: a refund line has no category"));
            }
            let sku = (l.sku.is_valid(j)).then(|| l.sku.value(j));
            Ok(RefundLine {
                sku: sku.ok_or(format!("line {n}: sku is missing"))?.to_owned(),
                amount: value(&l.amount, j).map(|a| amount(a, n)).transpose()?,
                quantity: quantity(l, j, n)?,
            })
        })
        .collect()
}

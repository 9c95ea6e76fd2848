//! Events to an Arrow table of `pointbook.EVENT_SCHEMA` (the inverse of `arrow_events.rs`):
//! how `pointbook.generate` hands a synthetic history to Python without a Python object per
//! event. Each event goes through its wire form (§12), so a column holds exactly what the
//! JSON would (a field the wire leaves out is null).

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Int64Builder, ListBuilder, StringBuilder, StructBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Fields, Schema, TimeUnit};
use pointbook::Event;
use serde_json::{Map, Value};
use std::sync::Arc;

/// The fields of a purchase or refund line, as in `EVENT_SCHEMA`.
fn line_fields() -> Fields {
    Fields::from(vec![
        Field::new("sku", DataType::Utf8, true),
        Field::new("category", DataType::Utf8, true),
        Field::new("amount", DataType::Utf8, true),
        Field::new("quantity", DataType::Int64, true),
    ])
}

/// The string columns every event has.
const REQUIRED: [&str; 2] = ["type", "id"];

fn bad(what: &str, event: &Map<String, Value>) -> ArrowError {
    ArrowError::InvalidArgumentError(format!(
        "event {}: {what}",
        event.get("id").and_then(Value::as_str).unwrap_or("?")
    ))
}

/// The columns being built.
struct Columns {
    text: Vec<(&'static str, StringBuilder)>,
    at: TimestampMicrosecondBuilder,
    lines: ListBuilder<StructBuilder>,
    hold: BooleanBuilder,
    points: Int64Builder,
    quantity: Int64Builder,
    allow_negative: BooleanBuilder,
    birthday: Date32Builder,
}

impl Columns {
    fn new(rows: usize) -> Columns {
        let strings = |name: &&'static str| (*name, StringBuilder::with_capacity(rows, rows * 8));
        let item = Field::new("item", DataType::Struct(line_fields()), true);
        Columns {
            text: crate::arrow_events::TEXT.iter().map(strings).collect(),
            at: TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC"),
            lines: ListBuilder::new(StructBuilder::from_fields(line_fields(), rows))
                .with_field(Arc::new(item)),
            hold: BooleanBuilder::with_capacity(rows),
            points: Int64Builder::with_capacity(rows),
            quantity: Int64Builder::with_capacity(rows),
            allow_negative: BooleanBuilder::with_capacity(rows),
            birthday: Date32Builder::with_capacity(rows),
        }
    }

    fn push(&mut self, e: &Map<String, Value>) -> Result<(), ArrowError> {
        for (name, builder) in &mut self.text {
            match e.get(*name).and_then(Value::as_str) {
                Some(s) => builder.append_value(s),
                None if REQUIRED.contains(name) => return Err(bad(&format!("no {name}"), e)),
                None => builder.append_null(),
            }
        }
        let at = e
            .get("at")
            .and_then(Value::as_str)
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .ok_or_else(|| bad("no instant", e))?;
        self.at.append_value(at.timestamp_micros());
        match e.get("lines").and_then(Value::as_array) {
            Some(lines) => {
                for line in lines {
                    let s = self.lines.values();
                    for (i, key) in ["sku", "category", "amount"].into_iter().enumerate() {
                        let b = s
                            .field_builder::<StringBuilder>(i)
                            .ok_or_else(|| bad("line builder", e))?;
                        b.append_option(line.get(key).and_then(Value::as_str));
                    }
                    let q = s
                        .field_builder::<Int64Builder>(3)
                        .ok_or_else(|| bad("line builder", e))?;
                    q.append_option(line.get("quantity").and_then(Value::as_i64));
                    s.append(true);
                }
                self.lines.append(true);
            }
            None => self.lines.append(false),
        }
        self.hold
            .append_option(e.get("hold").and_then(Value::as_bool));
        self.points
            .append_option(e.get("points").and_then(Value::as_i64));
        self.quantity
            .append_option(e.get("quantity").and_then(Value::as_i64));
        self.allow_negative
            .append_option(e.get("allow_negative").and_then(Value::as_bool));
        let epoch = chrono::NaiveDate::default();
        let birthday = match e.get("birthday").and_then(Value::as_str) {
            Some(text) => {
                let d = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .map_err(|_| bad("birthday", e))?;
                let days = i32::try_from((d - epoch).num_days()).map_err(|_| bad("birthday", e))?;
                Some(days)
            }
            None => None,
        };
        self.birthday.append_option(birthday);
        Ok(())
    }

    /// The record batch, columns in `EVENT_SCHEMA`'s order.
    fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        let mut text: Vec<(&str, ArrayRef)> = self
            .text
            .iter_mut()
            .map(|(name, b)| (*name, Arc::new(b.finish()) as ArrayRef))
            .collect();
        let mut take = |name: &str| -> Result<ArrayRef, ArrowError> {
            let i = text
                .iter()
                .position(|(n, _)| *n == name)
                .ok_or_else(|| ArrowError::SchemaError(name.to_owned()))?;
            Ok(text.swap_remove(i).1)
        };
        let utf8 = |name: &str| Field::new(name, DataType::Utf8, true);
        let columns: Vec<(Field, ArrayRef)> = vec![
            (utf8("type"), take("type")?),
            (utf8("id"), take("id")?),
            (utf8("member"), take("member")?),
            (
                Field::new(
                    "at",
                    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                    true,
                ),
                Arc::new(self.at.finish()),
            ),
            (utf8("channel"), take("channel")?),
            {
                let lines = self.lines.finish();
                (
                    Field::new("lines", lines.data_type().clone(), true),
                    Arc::new(lines),
                )
            },
            (utf8("purchase"), take("purchase")?),
            (utf8("reward"), take("reward")?),
            (
                Field::new("hold", DataType::Boolean, true),
                Arc::new(self.hold.finish()),
            ),
            (utf8("redemption"), take("redemption")?),
            (
                Field::new("points", DataType::Int64, true),
                Arc::new(self.points.finish()),
            ),
            (utf8("reason"), take("reason")?),
            (
                Field::new("allow_negative", DataType::Boolean, true),
                Arc::new(self.allow_negative.finish()),
            ),
            (utf8("to"), take("to")?),
            (
                Field::new("birthday", DataType::Date32, true),
                Arc::new(self.birthday.finish()),
            ),
            (utf8("referred_by"), take("referred_by")?),
            (utf8("order_total"), take("order_total")?),
            (
                Field::new("quantity", DataType::Int64, true),
                Arc::new(self.quantity.finish()),
            ),
        ];
        let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = columns.into_iter().unzip();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
    }
}

/// The events as one record batch of `EVENT_SCHEMA`, in order.
pub fn events_batch(events: &[Event]) -> Result<RecordBatch, ArrowError> {
    let mut columns = Columns::new(events.len());
    for event in events {
        let wire =
            serde_json::to_value(event).map_err(|e| ArrowError::ExternalError(Box::new(e)))?;
        let Value::Object(fields) = wire else {
            return Err(ArrowError::InvalidArgumentError(
                "an event's wire form is not an object".into(),
            ));
        };
        columns.push(&fields)?;
    }
    columns.finish()
}

//! Checking an event's shape against the program before it is applied: ids, instants,
//! amounts in the currency, quantities.

use crate::error::{Error, Result};
use crate::event::{Event, Purchase};
use crate::ids::{EventId, MemberId};
use crate::instant::Instant;
use crate::money;
use crate::program::Program;
use chrono::Datelike;
use rust_decimal::Decimal;

/// Checks an event's shape against the program: amounts, quantities, ids, instants.
pub(crate) fn validate_event(p: &Program, e: &Event) -> Result<()> {
    let bad = |message: String| Error::InvalidEvent {
        event: e.id().to_string(),
        message,
    };
    validate_head(e.id(), e.member(), e.at())?;
    match e {
        Event::Purchase(x) => validate_basket(p, x)?,
        Event::Refund(x) => {
            if x.lines.is_empty() {
                return Err(bad("a refund needs at least one line".into()));
            }
            for (i, l) in x.lines.iter().enumerate() {
                if let Some(a) = l.amount {
                    check_line_amount(p, &x.id, i + 1, a)?;
                }
            }
        }
        Event::Redeem(x) => {
            if x.points.is_some_and(|n| n <= 0) {
                return Err(bad("`points` of a redeem must be positive".into()));
            }
            if x.quantity == Some(0) {
                return Err(bad("`quantity` must be at least 1".into()));
            }
            if let Some(t) = x.order_total {
                money::check_amount(t, &p.spec().currency, p.minor_units())
                    .map_err(|m| bad(format!("order_total: {m}")))?;
            }
            for (i, l) in x.lines.iter().enumerate() {
                check_line_amount(p, &x.id, i + 1, l.amount)?;
                if l.quantity == 0 {
                    return Err(bad(format!("line {}: quantity must be at least 1", i + 1)));
                }
            }
        }
        Event::Reverse(x) if x.points.is_some_and(|n| n <= 0) => {
            return Err(bad("`points` of a reversal must be positive".into()))
        }
        Event::Adjust(x) if x.points == 0 => return Err(bad("an adjustment of 0 points".into())),
        Event::Transfer(x) if x.points <= 0 => {
            return Err(bad(format!("cannot transfer {} points", x.points)))
        }
        Event::Enroll(x) => {
            if let Some(b) = x.birthday {
                if b.year() < 1900 || b > e.at().date_naive() {
                    return Err(bad(format!("birthday {b} is not a plausible date")));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// What every event needs: an id, a member id if it names one, an instant in 1900–9999.
pub(crate) fn validate_head(id: &EventId, member: Option<&MemberId>, at: Instant) -> Result<()> {
    let bad = |message: String| Error::InvalidEvent {
        event: id.to_string(),
        message,
    };
    if id.as_str().is_empty() {
        return Err(bad("id must not be empty".into()));
    }
    if member.is_some_and(|m| m.as_str().is_empty()) {
        return Err(bad("member must not be empty".into()));
    }
    match crate::instant::out_of_range(at) {
        Some(why) => Err(bad(why)),
        None => Ok(()),
    }
}

/// A purchase's lines: at least one, amounts valid in the currency, quantities at least 1.
pub(crate) fn validate_basket(p: &Program, x: &Purchase) -> Result<()> {
    if x.lines.is_empty() {
        return Err(Error::InvalidEvent {
            event: x.id.to_string(),
            message: "a purchase needs at least one line".into(),
        });
    }
    for (i, l) in x.lines.iter().enumerate() {
        check_line_amount(p, &x.id, i + 1, l.amount)?;
        if l.quantity == 0 {
            return Err(Error::InvalidEvent {
                event: x.id.to_string(),
                message: format!("line {}: quantity must be at least 1", i + 1),
            });
        }
    }
    Ok(())
}

/// A line's amount in the program's currency. The message is built only for a bad amount:
/// this runs for every line of every purchase.
pub(crate) fn check_line_amount(
    p: &Program,
    event: &EventId,
    line: usize,
    amount: Decimal,
) -> Result<()> {
    money::check_amount(amount, &p.spec().currency, p.minor_units()).map_err(|m| {
        Error::InvalidEvent {
            event: event.to_string(),
            message: format!("line {line}: {m}"),
        }
    })
}

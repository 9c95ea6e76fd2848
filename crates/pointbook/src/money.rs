//! Exact decimal amounts: parsing, currency minor units, lenient program decimals.

use rust_decimal::Decimal;
use serde::{de, Deserialize, Deserializer, Serializer};

/// Minor units (decimal places) of an ISO 4217 currency code. Codes not listed have 2.
pub fn minor_units(currency: &str) -> u32 {
    const ZERO: &[&str] = &[
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
        "VUV", "XAF", "XOF", "XPF",
    ];
    const THREE: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
    const FOUR: &[&str] = &["CLF", "UYW"];
    if ZERO.contains(&currency) {
        0
    } else if THREE.contains(&currency) {
        3
    } else if FOUR.contains(&currency) {
        4
    } else {
        2
    }
}

/// Checks that `amount` is a valid money amount in a currency with `minor` decimal places:
/// not negative, and no more decimal places than the currency has (trailing zeros aside).
pub fn check_amount(amount: Decimal, currency: &str, minor: u32) -> Result<(), String> {
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err(format!("amount \"{amount}\" is negative"));
    }
    if amount.normalize().scale() > minor {
        return Err(format!(
            "amount \"{amount}\" has more decimals than {currency} allows"
        ));
    }
    Ok(())
}

/// The longest decimal text: a sign, 29 digits, a point and a leading `0`.
const LONGEST_DECIMAL: usize = 32;

/// Writes `d` into `buf` exactly as its `Display` does (every digit of its scale, `-` for any
/// negative value, negative zero included) without going through `core::fmt`, which was a
/// large share of hashing an event. Returns the text.
fn write_decimal<'b>(d: &Decimal, buf: &'b mut [u8; LONGEST_DECIMAL]) -> Option<&'b str> {
    let scale = usize::try_from(d.scale()).ok()?;
    let mut mantissa = d.mantissa().unsigned_abs();
    let mut at = LONGEST_DECIMAL;
    let mut put = |b: u8, at: &mut usize| -> Option<()> {
        *at = at.checked_sub(1)?;
        *buf.get_mut(*at)? = b;
        Some(())
    };
    let mut written = 0;
    while mantissa > 0 || written <= scale {
        if written == scale && scale > 0 {
            put(b'.', &mut at)?;
        }
        put(b'0' + (mantissa % 10) as u8, &mut at)?;
        mantissa /= 10;
        written += 1;
    }
    if d.is_sign_negative() {
        put(b'-', &mut at)?;
    }
    std::str::from_utf8(buf.get(at..)?).ok()
}

/// Appends `d` as its `Display` writes it.
pub(crate) fn write_decimal_to(d: &Decimal, out: &mut Vec<u8>) {
    let mut buf = [0u8; LONGEST_DECIMAL];
    match write_decimal(d, &mut buf) {
        Some(text) => out.extend_from_slice(text.as_bytes()),
        None => out.extend_from_slice(d.to_string().as_bytes()),
    }
}

/// Writes a decimal as a string, as its `Display` would.
fn serialize_decimal<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; LONGEST_DECIMAL];
    match write_decimal(d, &mut buf) {
        Some(text) => s.serialize_str(text),
        None => s.collect_str(d),
    }
}

/// Serde helpers for amounts that travel as strings (`"4.75"`), never as binary floats.
pub mod decimal_string {
    use super::*;

    /// Writes the decimal as a string.
    pub fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        serialize_decimal(d, s)
    }

    /// Reads a decimal from a string only.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Decimal;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a decimal amount as a string, e.g. \"4.75\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
                parse_decimal(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

/// Serde helpers for optional string amounts.
pub mod opt_decimal_string {
    use super::*;

    /// Writes the decimal as a string, or nothing.
    pub fn serialize<S: Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => serialize_decimal(d, s),
            None => s.serialize_none(),
        }
    }

    /// Reads an optional decimal from a string only.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        #[derive(Deserialize)]
        struct W(#[serde(with = "super::decimal_string")] Decimal);
        Ok(Option::<W>::deserialize(d)?.map(|w| w.0))
    }
}

/// Serde helpers for decimals in program files: a string (`"0.01"`) or an integer (`100`),
/// never a float, whose binary value is not the decimal the author wrote.
pub mod lenient_decimal {
    use super::*;

    pub use super::decimal_string::serialize;

    /// Reads a decimal from a string or an integer.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Decimal;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a decimal as a string (\"0.01\") or an integer")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
                parse_decimal(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
                Ok(Decimal::from(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
                Ok(Decimal::from(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
                Err(E::custom(format!(
                    "{v} is a binary float; write decimals as strings, e.g. \"{v}\""
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// Serde helpers for optional program decimals (string or integer).
pub mod opt_lenient_decimal {
    pub use super::opt_decimal_string::serialize;
    use super::*;

    /// Reads an optional decimal from a string or an integer.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        #[derive(Deserialize)]
        struct W(#[serde(with = "super::lenient_decimal")] Decimal);
        Ok(Option::<W>::deserialize(d)?.map(|w| w.0))
    }
}

/// Parses a decimal exactly (`"4.75"`), with a message that quotes the input. A value that
/// cannot be held exactly (more than 28 decimal places that are not all zeros, or too large)
/// is an error, never rounded: `"4.750000000000000000000000000001"` is not 4.75.
pub fn parse_decimal(text: &str) -> Result<Decimal, String> {
    let t = text.trim();
    if t.is_empty() || t != text || t.contains(['e', 'E', '_']) {
        return Err(format!("not a decimal: \"{text}\""));
    }
    if let Ok(d) = Decimal::from_str_exact(t) {
        return Ok(d);
    }
    // Trailing zeros past the 28 places a decimal holds change nothing: drop them and retry.
    let digits = t.trim_start_matches(['-', '+']);
    let well_formed = !digits.is_empty()
        && digits.bytes().filter(|b| *b == b'.').count() <= 1
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if well_formed {
        if let Some(short) = t.contains('.').then(|| t.trim_end_matches('0')) {
            let short = short.strip_suffix('.').unwrap_or(short);
            if let Ok(d) = Decimal::from_str_exact(short) {
                return Ok(d);
            }
        }
        return Err(format!(
            "\"{text}\" cannot be held exactly (at most 28 decimal places and 29 digits)"
        ));
    }
    Err(format!("not a decimal: \"{text}\""))
}

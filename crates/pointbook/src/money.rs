//! Exact decimal amounts: parsing, currency minor units, lenient program decimals.

use rust_decimal::Decimal;
use serde::{de, Deserialize, Deserializer, Serializer};
use std::str::FromStr;

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

/// Serde helpers for amounts that travel as strings (`"4.75"`), never as binary floats.
pub mod decimal_string {
    use super::*;

    /// Writes the decimal as a string.
    pub fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(d)
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
            Some(d) => s.collect_str(d),
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

/// Parses a decimal exactly (`"4.75"`), with a message that quotes the input.
pub fn parse_decimal(text: &str) -> Result<Decimal, String> {
    let t = text.trim();
    if t.is_empty() || t != text || t.contains(['e', 'E', '_']) {
        return Err(format!("not a decimal: \"{text}\""));
    }
    Decimal::from_str_exact(t)
        .or_else(|_| Decimal::from_str(t))
        .map_err(|_| format!("not a decimal: \"{text}\""))
}

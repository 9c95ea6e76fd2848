//! Programs: the file format ([`ProgramSpec`]) and the validated [`Program`].
//!
//! A program loads from TOML or JSON. Unknown fields are rejected, decimals are written as
//! strings or integers (never floats), and contradictions are caught at load with the path
//! of the offending field.

mod spec;
mod validate;

pub use spec::{
    BonusSpec, CapSpec, Downgrade, EarningSpec, ExpiryPolicy, LevelSpec, LimitSpec, MaturationSpec,
    ProgramSpec, ReferralSpec, RefundSpec, RewardKind, RewardSpec, Rounding, RuleSpec, Shortfall,
    TierMetric, TierSpec, TierWindow, TransferSpec,
};
use validate::{invalid, validate};

use crate::calendar::Calendar;
use crate::error::{Error, Result};
use crate::money;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

/// A validated program: built only by its loaders, so every `Program` is consistent.
///
/// ```
/// let program = pointbook::Program::from_toml(r#"
///     name = "Tiny"
///     currency = "USD"
///     time_zone = "Europe/Paris"
///     point_value = "0.01"
///     [earning]
///     base_rate = 1
/// "#)?;
/// assert_eq!(program.levels()[0].id, "member");
/// # Ok::<(), pointbook::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Program {
    spec: ProgramSpec,
    calendar: Calendar,
    minor_units: u32,
    levels: Vec<LevelSpec>,
    metric: TierMetric,
    window: TierWindow,
    fingerprint: String,
}

impl Program {
    /// Loads a program from TOML.
    pub fn from_toml(text: &str) -> Result<Program> {
        let de = toml::Deserializer::new(text);
        let spec: ProgramSpec = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            Error::InvalidProgram {
                path: if path == "." { "program".into() } else { path },
                message: inner.message().trim().to_string(),
            }
        })?;
        Program::from_spec(spec)
    }

    /// Loads a program from JSON.
    pub fn from_json(text: &str) -> Result<Program> {
        let mut de = serde_json::Deserializer::from_str(text);
        let spec: ProgramSpec = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let mut message = inner.to_string();
            // The path already says where; drop serde_json's " at line 1 column 412".
            let position = format!(" at line {} column {}", inner.line(), inner.column());
            if path != "." && message.ends_with(&position) {
                message.truncate(message.len() - position.len());
            }
            Error::InvalidProgram {
                path: if path == "." { "program".into() } else { path },
                message,
            }
        })?;
        Program::from_spec(spec)
    }

    /// Loads a program from JSON (text starting with `{`) or TOML (anything else).
    pub fn parse(text: &str) -> Result<Program> {
        if text.trim_start().starts_with('{') {
            Program::from_json(text)
        } else {
            Program::from_toml(text)
        }
    }

    /// Validates a spec into a program.
    pub fn from_spec(spec: ProgramSpec) -> Result<Program> {
        let tz: chrono_tz::Tz = spec.time_zone.parse().map_err(|_| {
            invalid(
                "time_zone",
                format!("unknown time zone \"{}\"", spec.time_zone),
            )
        })?;
        validate(&spec)?;
        let (levels, metric, window) = match &spec.tiers {
            Some(t) => (t.levels.clone(), t.metric, t.window.clone()),
            None => (
                vec![LevelSpec {
                    id: "member".into(),
                    threshold: Decimal::ZERO,
                    bonus_percent: Decimal::ZERO,
                }],
                TierMetric::PointsEarned,
                TierWindow::CalendarYear,
            ),
        };
        let canonical = serde_json::to_vec(&spec).map_err(|e| invalid("program", e.to_string()))?;
        let fingerprint = hex(&Sha256::digest(&canonical));
        Ok(Program {
            minor_units: money::minor_units(&spec.currency),
            calendar: Calendar::new(tz),
            spec,
            levels,
            metric,
            window,
            fingerprint,
        })
    }

    /// The program as written.
    pub fn spec(&self) -> &ProgramSpec {
        &self.spec
    }

    /// How late an event may come (docs/semantics.md §9): older than its member's clock by more is
    /// rejected, and a resend gets the full original outcome only while this late.
    pub fn late_tolerance(&self) -> chrono::Duration {
        chrono::Duration::days(i64::from(self.spec.late_tolerance_days))
    }

    /// The program's calendar.
    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// Decimal places of the program's currency.
    pub fn minor_units(&self) -> u32 {
        self.minor_units
    }

    /// Tier levels, lowest first (one implicit `member` level when the program has no tiers).
    pub fn levels(&self) -> &[LevelSpec] {
        &self.levels
    }

    /// The tier metric.
    pub fn tier_metric(&self) -> TierMetric {
        self.metric
    }

    /// The tier window.
    pub fn tier_window(&self) -> &TierWindow {
        &self.window
    }

    /// The index of a level by id.
    pub fn level_index(&self, id: &str) -> Option<usize> {
        self.levels.iter().position(|l| l.id == id)
    }

    /// A reward by id.
    pub fn reward(&self, id: &str) -> Option<&RewardSpec> {
        self.spec.rewards.iter().find(|r| r.id == id)
    }

    /// SHA-256 (hex) of the program's canonical JSON: snapshots carry it.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The program as canonical JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.spec).unwrap_or_default()
    }
}

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

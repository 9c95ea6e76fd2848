//! Whole points with checked arithmetic: overflow is an error, never a wrap.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A whole number of points.
///
/// ```
/// use pointbook::Points;
/// assert_eq!(Points::new(7).checked_add(Points::new(4)), Some(Points::new(11)));
/// assert_eq!(Points::new(i64::MAX).checked_add(Points::new(1)), None);
/// ```
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Points(i64);

impl Points {
    /// No points.
    pub const ZERO: Points = Points(0);

    /// Wraps a count of points.
    pub const fn new(points: i64) -> Self {
        Points(points)
    }

    /// The count.
    pub const fn get(self) -> i64 {
        self.0
    }

    /// Sum, or `None` on overflow.
    pub fn checked_add(self, other: Points) -> Option<Points> {
        self.0.checked_add(other.0).map(Points)
    }

    /// Difference, or `None` on overflow.
    pub fn checked_sub(self, other: Points) -> Option<Points> {
        self.0.checked_sub(other.0).map(Points)
    }

    /// True when above zero.
    pub fn is_positive(self) -> bool {
        self.0 > 0
    }
}

impl fmt::Display for Points {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

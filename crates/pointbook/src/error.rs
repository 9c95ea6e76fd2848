//! The one error type of the core, with a stable code per kind.

use thiserror::Error as ThisError;

/// Everything that can go wrong in Pointbook. A rejected event changes nothing.
///
/// Each variant has a stable string [`Error::code`] and number [`Error::number`]; bindings map
/// them to status codes and exception classes and never renumber an existing one.
#[derive(Debug, Clone, PartialEq, Eq, ThisError)]
#[non_exhaustive]
pub enum Error {
    /// A program file is malformed or contradicts itself.
    #[error("{path}: {message}")]
    InvalidProgram {
        /// Where in the program (`earning.rules[1].bonus_percent`).
        path: String,
        /// What is wrong there.
        message: String,
    },
    /// An event is malformed: bad JSON, unknown field, bad amount, impossible value.
    #[error("event {event}: {message}")]
    InvalidEvent {
        /// The event id, or `?` when it could not be read.
        event: String,
        /// What is wrong.
        message: String,
    },
    /// The event names a member that is not enrolled.
    #[error("event {event}: member {member} is not enrolled")]
    UnknownMember {
        /// The event id.
        event: String,
        /// The member id.
        member: String,
    },
    /// An enrollment for a member that already exists (or existed and was forgotten).
    #[error("event {event}: member {member} is already enrolled")]
    MemberExists {
        /// The event id.
        event: String,
        /// The member id.
        member: String,
    },
    /// The member's account was closed by `forget`.
    #[error("event {event}: member {member} is closed")]
    MemberClosed {
        /// The event id.
        event: String,
        /// The member id.
        member: String,
    },
    /// The event is older than the clock by more than the program's late tolerance.
    #[error(
        "event {event}: at {at} is older than the clock ({clock}) by more than the late tolerance"
    )]
    LateEvent {
        /// The event id.
        event: String,
        /// The event's instant.
        at: String,
        /// The clock it was compared with.
        clock: String,
    },
    /// The id was already used by a different event.
    #[error("event {event}: the id is already used by a different event")]
    IdConflict {
        /// The event id.
        event: String,
    },
    /// A refund names a purchase the member does not have.
    #[error("event {event}: unknown purchase {purchase}")]
    UnknownPurchase {
        /// The event id.
        event: String,
        /// The purchase id.
        purchase: String,
    },
    /// A refund asks for more than is left of the purchase.
    #[error("event {event}: {message}")]
    RefundExceedsPurchase {
        /// The event id.
        event: String,
        /// What exceeds what.
        message: String,
    },
    /// Not enough available points.
    #[error("event {event}: member {member} has {available} points available, {needed} needed")]
    InsufficientPoints {
        /// The event id.
        event: String,
        /// The member id.
        member: String,
        /// Available points (net of debt).
        available: i64,
        /// Points the event needs.
        needed: i64,
    },
    /// The reward does not exist in the program.
    #[error("event {event}: unknown reward {reward}")]
    UnknownReward {
        /// The event id.
        event: String,
        /// The reward id.
        reward: String,
    },
    /// The member's tier is below the reward's minimum tier.
    #[error("event {event}: reward {reward} needs tier {required}, member is {tier}")]
    TierTooLow {
        /// The event id.
        event: String,
        /// The reward id.
        reward: String,
        /// The minimum tier.
        required: String,
        /// The member's tier.
        tier: String,
    },
    /// The member reached the reward's limit for the period.
    #[error("event {event}: limit for reward {reward} reached")]
    LimitReached {
        /// The event id.
        event: String,
        /// The reward id.
        reward: String,
    },
    /// The reward's global stock is used up.
    #[error("event {event}: reward {reward} is out of stock")]
    OutOfStock {
        /// The event id.
        event: String,
        /// The reward id.
        reward: String,
    },
    /// A confirm or cancel names a redemption the member does not have.
    #[error("event {event}: unknown redemption {redemption}")]
    UnknownRedemption {
        /// The event id.
        event: String,
        /// The redemption id.
        redemption: String,
    },
    /// The redemption is no longer held (confirmed, cancelled or expired).
    #[error("event {event}: redemption {redemption} is {state}, not held")]
    HoldNotActive {
        /// The event id.
        event: String,
        /// The redemption id.
        redemption: String,
        /// Its state.
        state: String,
    },
    /// A points payment would pay more of the order than the reward allows.
    #[error("event {event}: {message}")]
    ExceedsOrder {
        /// The event id.
        event: String,
        /// What exceeds what.
        message: String,
    },
    /// A reversal asks for more of a redemption than is left to give back.
    #[error("event {event}: {message}")]
    ReversalExceeds {
        /// The event id.
        event: String,
        /// What exceeds what.
        message: String,
    },
    /// The program does not allow transfers.
    #[error("event {event}: transfers are not allowed by the program")]
    TransfersDisabled {
        /// The event id.
        event: String,
    },
    /// Arithmetic would overflow: points beyond an `i64`, or amounts summed into a tier metric
    /// beyond a decimal.
    #[error("event {event}: arithmetic overflow (points beyond a 64-bit integer, or amounts beyond a decimal)")]
    Overflow {
        /// The event id.
        event: String,
    },
    /// A query's options out of range: analysis options (a day-long period, a percentile over
    /// 100), or an instant outside the years 1900 to 9999 (an analysis's `as_of`, progress `at`).
    #[error("{message}")]
    InvalidOptions {
        /// What is wrong.
        message: String,
    },
    /// Snapshot bytes are not a valid Pointbook snapshot.
    #[error("invalid snapshot: {message}")]
    InvalidSnapshot {
        /// What is wrong.
        message: String,
    },
    /// A book's state breaks an invariant of docs/semantics.md §10, or one of its records cannot be
    /// read back: never the result of an event, only of a defect or of memory changed from
    /// outside.
    #[error("inconsistent state: {message}")]
    Inconsistent {
        /// What is broken.
        message: String,
    },
    /// A snapshot was taken under another program.
    #[error("snapshot was taken under program {found}, not {expected}")]
    ProgramMismatch {
        /// Fingerprint in the snapshot.
        found: String,
        /// Fingerprint of the program given.
        expected: String,
    },
}

impl Error {
    /// A stable, machine-readable code (`"invalid_event"`), the same in every binding.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidProgram { .. } => "invalid_program",
            Error::InvalidEvent { .. } => "invalid_event",
            Error::UnknownMember { .. } => "unknown_member",
            Error::MemberExists { .. } => "member_exists",
            Error::MemberClosed { .. } => "member_closed",
            Error::LateEvent { .. } => "late_event",
            Error::IdConflict { .. } => "id_conflict",
            Error::UnknownPurchase { .. } => "unknown_purchase",
            Error::RefundExceedsPurchase { .. } => "refund_exceeds_purchase",
            Error::InsufficientPoints { .. } => "insufficient_points",
            Error::UnknownReward { .. } => "unknown_reward",
            Error::TierTooLow { .. } => "tier_too_low",
            Error::LimitReached { .. } => "limit_reached",
            Error::OutOfStock { .. } => "out_of_stock",
            Error::UnknownRedemption { .. } => "unknown_redemption",
            Error::HoldNotActive { .. } => "hold_not_active",
            Error::ExceedsOrder { .. } => "exceeds_order",
            Error::ReversalExceeds { .. } => "reversal_exceeds",
            Error::TransfersDisabled { .. } => "transfers_disabled",
            Error::Overflow { .. } => "overflow",
            Error::InvalidSnapshot { .. } => "invalid_snapshot",
            Error::ProgramMismatch { .. } => "program_mismatch",
            Error::Inconsistent { .. } => "inconsistent_state",
            Error::InvalidOptions { .. } => "invalid_options",
        }
    }

    /// A stable number for C status codes: 1xx program, 2xx event shape and order,
    /// 3xx points and refunds, 4xx rewards, 5xx snapshots and state, 6xx analytics. Never renumbered.
    pub fn number(&self) -> u32 {
        match self {
            Error::InvalidProgram { .. } => 100,
            Error::InvalidEvent { .. } => 200,
            Error::UnknownMember { .. } => 201,
            Error::MemberExists { .. } => 202,
            Error::MemberClosed { .. } => 203,
            Error::LateEvent { .. } => 204,
            Error::IdConflict { .. } => 205,
            Error::TransfersDisabled { .. } => 206,
            Error::UnknownPurchase { .. } => 300,
            Error::RefundExceedsPurchase { .. } => 301,
            Error::InsufficientPoints { .. } => 302,
            Error::Overflow { .. } => 303,
            Error::UnknownReward { .. } => 400,
            Error::TierTooLow { .. } => 401,
            Error::LimitReached { .. } => 402,
            Error::OutOfStock { .. } => 403,
            Error::UnknownRedemption { .. } => 404,
            Error::HoldNotActive { .. } => 405,
            Error::ExceedsOrder { .. } => 406,
            Error::ReversalExceeds { .. } => 407,
            Error::InvalidSnapshot { .. } => 500,
            Error::ProgramMismatch { .. } => 501,
            Error::Inconsistent { .. } => 502,
            Error::InvalidOptions { .. } => 600,
        }
    }
}

/// Shorthand for results in this crate.
pub type Result<T> = std::result::Result<T, Error>;

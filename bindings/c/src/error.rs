//! Status codes, the error details a failed call leaves, and the guard every function
//! body runs in: a panic becomes `PB_INTERNAL`, a failure fills `*err`.

use pointbook::Error;
use std::ffi::{c_char, CString};

/// Status of a call. Codes are stable and grouped by family: 1-9 the C boundary, 1xx programs,
/// 2xx event shape and order, 3xx points and refunds, 4xx rewards, 5xx snapshots and state,
/// 6xx analytics, 7xx stores. A new code never renumbers an old one.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum pb_status {
    /// Success.
    PB_OK = 0,
    /// A required pointer argument was NULL.
    PB_NULL_ARGUMENT = 1,
    /// A string argument was not valid UTF-8.
    PB_INVALID_UTF8 = 2,
    /// An argument is unusable (e.g. text with a NUL byte inside its length).
    PB_INVALID_ARGUMENT = 3,
    /// An internal error (a caught panic); the book is unchanged.
    PB_INTERNAL = 9,
    /// The program is malformed or contradicts itself.
    PB_INVALID_PROGRAM = 100,
    /// The event is malformed.
    PB_INVALID_EVENT = 200,
    /// The member is not enrolled.
    PB_UNKNOWN_MEMBER = 201,
    /// The member is already enrolled.
    PB_MEMBER_EXISTS = 202,
    /// The member's account is closed.
    PB_MEMBER_CLOSED = 203,
    /// The event is older than the late tolerance allows.
    PB_LATE_EVENT = 204,
    /// The id is used by a different event.
    PB_ID_CONFLICT = 205,
    /// The program does not allow transfers.
    PB_TRANSFERS_DISABLED = 206,
    /// A refund names an unknown purchase.
    PB_UNKNOWN_PURCHASE = 300,
    /// A refund exceeds what is left of the purchase.
    PB_REFUND_EXCEEDS_PURCHASE = 301,
    /// Not enough available points.
    PB_INSUFFICIENT_POINTS = 302,
    /// Points arithmetic would overflow.
    PB_OVERFLOW = 303,
    /// Unknown reward.
    PB_UNKNOWN_REWARD = 400,
    /// The member's tier is too low for the reward.
    PB_TIER_TOO_LOW = 401,
    /// The member reached the reward's limit.
    PB_LIMIT_REACHED = 402,
    /// The reward is out of stock.
    PB_OUT_OF_STOCK = 403,
    /// Unknown redemption.
    PB_UNKNOWN_REDEMPTION = 404,
    /// The redemption is not held any more.
    PB_HOLD_NOT_ACTIVE = 405,
    /// A points payment would pay more of the order than the reward allows.
    PB_EXCEEDS_ORDER = 406,
    /// A reversal asks for more of a redemption than is left to give back.
    PB_REVERSAL_EXCEEDS = 407,
    /// The snapshot bytes are invalid.
    PB_INVALID_SNAPSHOT = 500,
    /// The snapshot was taken under another program.
    PB_PROGRAM_MISMATCH = 501,
    /// The book's state breaks an invariant or cannot be written (a defect, never an event's
    /// doing).
    PB_INCONSISTENT_STATE = 502,
    /// Analysis options out of range.
    PB_INVALID_OPTIONS = 600,
    /// Another writer has the store open.
    PB_STORE_LOCKED = 700,
    /// The file is not a Pointbook store (or is missing where one must exist).
    PB_NOT_A_STORE = 701,
    /// The disk is full; nothing was written, and the store works again once there is room.
    PB_STORE_FULL = 702,
    /// The store's file contradicts itself and cannot be rebuilt.
    PB_STORE_DAMAGED = 703,
    /// SQLite or the file system failed.
    PB_STORE_IO = 704,
}

impl pb_status {
    fn of(e: &Error) -> pb_status {
        use pb_status::*;
        match e.number() {
            100 => PB_INVALID_PROGRAM,
            200 => PB_INVALID_EVENT,
            201 => PB_UNKNOWN_MEMBER,
            202 => PB_MEMBER_EXISTS,
            203 => PB_MEMBER_CLOSED,
            204 => PB_LATE_EVENT,
            205 => PB_ID_CONFLICT,
            206 => PB_TRANSFERS_DISABLED,
            300 => PB_UNKNOWN_PURCHASE,
            301 => PB_REFUND_EXCEEDS_PURCHASE,
            302 => PB_INSUFFICIENT_POINTS,
            303 => PB_OVERFLOW,
            400 => PB_UNKNOWN_REWARD,
            401 => PB_TIER_TOO_LOW,
            402 => PB_LIMIT_REACHED,
            403 => PB_OUT_OF_STOCK,
            404 => PB_UNKNOWN_REDEMPTION,
            405 => PB_HOLD_NOT_ACTIVE,
            406 => PB_EXCEEDS_ORDER,
            407 => PB_REVERSAL_EXCEEDS,
            500 => PB_INVALID_SNAPSHOT,
            501 => PB_PROGRAM_MISMATCH,
            502 => PB_INCONSISTENT_STATE,
            600 => PB_INVALID_OPTIONS,
            _ => PB_INTERNAL,
        }
    }
}

/// Details of a failed call: a status code and a message. Opaque.
pub struct pb_error {
    pub(crate) status: pb_status,
    pub(crate) message: CString,
}

/// A failed call: its status and message.
pub(crate) struct Failure(pub(crate) pb_status, pub(crate) String);

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure(pb_status::of(&e), e.to_string())
    }
}

pub(crate) type Outcome<T> = Result<T, Failure>;

pub(crate) fn fail<T>(status: pb_status, message: impl Into<String>) -> Outcome<T> {
    Err(Failure(status, message.into()))
}

/// Runs a function body: a panic becomes `PB_INTERNAL`; a failure fills `*err` (if `err` is
/// not NULL) and returns its status.
macro_rules! ffi_guard {
    ($err:expr, $body:block) => {{
        let err: *mut *mut $crate::error::pb_error = $err;
        if !err.is_null() {
            // SAFETY: the caller passes NULL or a valid pointer to a pb_error pointer.
            unsafe { *err = std::ptr::null_mut() };
        }
        let result: $crate::error::Outcome<()> = match ::std::panic::catch_unwind(
            ::std::panic::AssertUnwindSafe(|| -> $crate::error::Outcome<()> { $body }),
        ) {
            Ok(r) => r,
            Err(_) => $crate::error::fail(
                $crate::error::pb_status::PB_INTERNAL,
                "internal error (a panic was caught)",
            ),
        };
        match result {
            Ok(()) => $crate::error::pb_status::PB_OK,
            Err($crate::error::Failure(status, message)) => {
                if !err.is_null() {
                    let message =
                        ::std::ffi::CString::new(message.replace('\0', " ")).unwrap_or_default();
                    // SAFETY: checked non-NULL above; ownership of the box goes to the caller.
                    unsafe {
                        *err = Box::into_raw(Box::new($crate::error::pb_error { status, message }))
                    };
                }
                status
            }
        }
    }};
}

/// The status of an error (`PB_INVALID_ARGUMENT` for NULL).
///
/// # Safety
/// `err` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn pb_error_code(err: *const pb_error) -> pb_status {
    // SAFETY: NULL or live, by the contract.
    unsafe { err.as_ref() }.map_or(pb_status::PB_INVALID_ARGUMENT, |e| e.status)
}

/// The message of an error, valid until `pb_error_free` (a static text for NULL).
///
/// # Safety
/// `err` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn pb_error_message(err: *const pb_error) -> *const c_char {
    // SAFETY: NULL or live, by the contract.
    match unsafe { err.as_ref() } {
        Some(e) => e.message.as_ptr(),
        None => c"no error (NULL)".as_ptr(),
    }
}

/// Frees an error. NULL is a no-op.
///
/// # Safety
/// `err` NULL or from a pointbook call, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn pb_error_free(err: *mut pb_error) {
    if !err.is_null() {
        // SAFETY: from Box::into_raw in ffi_guard!.
        drop(unsafe { Box::from_raw(err) });
    }
}

pub(crate) use ffi_guard;

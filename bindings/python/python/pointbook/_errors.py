"""The exception hierarchy: one class per error code of the core, all under PointbookError."""

from __future__ import annotations

from typing import Dict, Optional, Type


class PointbookError(Exception):
    """Base of every Pointbook error. ``code`` is the core's stable error code."""

    default_code = "pointbook_error"

    def __init__(self, message: str, code: Optional[str] = None) -> None:
        super().__init__(message)
        self.code: str = code or self.default_code


class InvalidProgram(PointbookError, ValueError):
    """The program is malformed or contradicts itself."""

    default_code = "invalid_program"


class InvalidEvent(PointbookError, ValueError):
    """The event is malformed (bad JSON or type, unknown field, bad amount, naive datetime)."""

    default_code = "invalid_event"


class UnknownMember(PointbookError, KeyError):
    """The member is not enrolled."""

    default_code = "unknown_member"

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class MemberExists(PointbookError):
    """The member is already enrolled."""

    default_code = "member_exists"


class MemberClosed(PointbookError):
    """The member's account was closed by ``forget``."""

    default_code = "member_closed"


class LateEvent(PointbookError):
    """The event is older than the program's late tolerance allows."""

    default_code = "late_event"


class IdConflict(PointbookError):
    """The event id is already used by a different event."""

    default_code = "id_conflict"


class TransfersDisabled(PointbookError):
    """The program does not allow transfers."""

    default_code = "transfers_disabled"


class UnknownPurchase(PointbookError):
    """A refund names a purchase the member does not have."""

    default_code = "unknown_purchase"


class RefundExceedsPurchase(PointbookError):
    """A refund asks for more than is left of the purchase."""

    default_code = "refund_exceeds_purchase"


class InsufficientPoints(PointbookError):
    """Not enough available points."""

    default_code = "insufficient_points"


class Overflow(PointbookError, ArithmeticError):
    """Points arithmetic would overflow."""

    default_code = "overflow"


class UnknownReward(PointbookError):
    """The reward does not exist."""

    default_code = "unknown_reward"


class TierTooLow(PointbookError):
    """The member's tier is below the reward's minimum."""

    default_code = "tier_too_low"


class LimitReached(PointbookError):
    """The member reached the reward's limit for the period."""

    default_code = "limit_reached"


class OutOfStock(PointbookError):
    """The reward's stock is used up."""

    default_code = "out_of_stock"


class UnknownRedemption(PointbookError):
    """A confirm or cancel names an unknown redemption."""

    default_code = "unknown_redemption"


class HoldNotActive(PointbookError):
    """The redemption is not held any more."""

    default_code = "hold_not_active"


class ExceedsOrder(PointbookError):
    """A points payment would pay more of the order than the reward allows."""

    default_code = "exceeds_order"


class ReversalExceeds(PointbookError):
    """A reversal asks for more of a redemption than is left to give back."""

    default_code = "reversal_exceeds"


class InvalidSnapshot(PointbookError, ValueError):
    """The snapshot bytes are not a valid Pointbook snapshot."""

    default_code = "invalid_snapshot"


class ProgramMismatch(PointbookError, ValueError):
    """The snapshot was taken under another program."""

    default_code = "program_mismatch"


class InconsistentState(PointbookError):
    """The book's state breaks an invariant or cannot be written: a defect, never an event's
    doing."""

    default_code = "inconsistent_state"


class InvalidOptions(PointbookError, ValueError):
    """Analysis options out of range (a day-long period, a percentile over 100)."""

    default_code = "invalid_options"


class StoreError(PointbookError):
    """Base of the durable store's own errors (not the engine's rejection of an event)."""

    default_code = "store_io"


class StoreLocked(StoreError):
    """Another writer has the store open."""

    default_code = "store_locked"


class NotAStore(StoreError, ValueError):
    """The file is not a Pointbook store (or is missing where one must exist)."""

    default_code = "not_a_store"


class StoreFull(StoreError):
    """The disk is full: nothing was written; the store works again once there is room."""

    default_code = "store_full"


class StoreDamaged(StoreError):
    """The store's file contradicts itself and cannot be rebuilt."""

    default_code = "store_damaged"


class InternalError(PointbookError):
    """A bug in Pointbook (a caught panic, a broken invariant). Nothing was changed."""

    default_code = "internal"


BY_CODE: Dict[str, Type[PointbookError]] = {
    cls.default_code: cls
    for cls in (
        InvalidProgram, InvalidEvent, UnknownMember, MemberExists, MemberClosed, LateEvent,
        IdConflict, TransfersDisabled, UnknownPurchase, RefundExceedsPurchase,
        InsufficientPoints, Overflow, UnknownReward, TierTooLow, LimitReached, OutOfStock,
        UnknownRedemption, HoldNotActive, ExceedsOrder, ReversalExceeds, InvalidSnapshot, ProgramMismatch, InconsistentState,
        InvalidOptions, InternalError, StoreError, StoreLocked, NotAStore, StoreFull,
        StoreDamaged,
    )
}


def from_code(code: str, message: str) -> PointbookError:
    """The exception for a core error code (used by the native module)."""
    return BY_CODE.get(code, PointbookError)(message, code)

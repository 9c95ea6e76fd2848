"""Pointbook: an embeddable loyalty-program engine, exact to the point.

A :class:`Program` says how members earn, how points mature and expire, which tiers and
rewards exist. A :class:`Book` holds the state of one program and changes only by events
(dicts in the wire format of docs/semantics.md §12), each giving an :class:`Outcome`. :func:`replay`
runs a whole history (pyarrow, pandas or polars tables, or an iterable of dicts) with the GIL
released and returns Arrow tables.

Python values map naturally: ``decimal.Decimal`` (or strings) for money, timezone-aware
``datetime`` for instants (naive ones are refused), ``datetime.date`` for birthdays.

>>> import pointbook
>>> book = pointbook.Book(pointbook.Program.sample())
>>> book.apply({"type": "enroll", "id": "e1", "member": "m1", "at": "2026-01-10T15:00:00Z"}).points
25
"""

from __future__ import annotations

import datetime as _dt
import decimal as _decimal
import json as _json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple, Union

import pyarrow as _pa

from . import _native
from ._errors import (
    ExceedsOrder,
    HoldNotActive,
    IdConflict,
    InconsistentState,
    InsufficientPoints,
    InternalError,
    InvalidEvent,
    InvalidOptions,
    InvalidProgram,
    InvalidSnapshot,
    LateEvent,
    LimitReached,
    MemberClosed,
    MemberExists,
    OutOfStock,
    Overflow,
    PointbookError,
    ProgramMismatch,
    NotAStore,
    RefundExceedsPurchase,
    ReversalExceeds,
    StoreDamaged,
    StoreError,
    StoreFull,
    StoreLocked,
    TierTooLow,
    TransfersDisabled,
    UnknownMember,
    UnknownPurchase,
    UnknownRedemption,
    UnknownReward,
)

__version__: str = _native.__version__

__all__ = [
    "Analysis", "Balance", "Book", "Comparison", "EVENT_SCHEMA", "Outcome", "PointbookError",
    "Program", "ReplayResult", "analyze", "compare", "generate", "replay", "to_pandas", "ExceedsOrder", "HoldNotActive", "IdConflict", "InconsistentState", "InsufficientPoints",
    "InternalError",
    "InvalidEvent", "InvalidOptions", "InvalidProgram", "InvalidSnapshot", "LateEvent", "LimitReached",
    "MemberClosed", "MemberExists", "OutOfStock", "Overflow", "ProgramMismatch",
    "RefundExceedsPurchase", "ReversalExceeds", "TierTooLow", "TransfersDisabled", "UnknownMember",
    "UnknownPurchase", "UnknownRedemption", "UnknownReward", "Store", "StoreBatch",
    "StoreError", "StoreLocked", "NotAStore", "StoreFull", "StoreDamaged",
]

Event = Union[Mapping[str, Any], str]
"""An event: a dict in the wire format, or its JSON text."""

Instant = Union[_dt.datetime, str]
"""An instant: a timezone-aware datetime, or an RFC 3339 string."""

_LINE = _pa.struct(
    [("sku", _pa.string()), ("category", _pa.string()), ("amount", _pa.string()),
     ("quantity", _pa.int64())]
)

EVENT_SCHEMA: _pa.Schema = _pa.schema(
    [
        ("type", _pa.string()),
        ("id", _pa.string()),
        ("member", _pa.string()),
        ("at", _pa.timestamp("us", tz="UTC")),
        ("channel", _pa.string()),
        ("lines", _pa.list_(_LINE)),
        ("purchase", _pa.string()),
        ("reward", _pa.string()),
        ("hold", _pa.bool_()),
        ("redemption", _pa.string()),
        ("points", _pa.int64()),
        ("reason", _pa.string()),
        ("allow_negative", _pa.bool_()),
        ("to", _pa.string()),
        ("birthday", _pa.date32()),
        ("referred_by", _pa.string()),
        ("order_total", _pa.string()),
        ("quantity", _pa.int64()),
    ]
)
"""The event table schema: one column per wire field, nulls where a field does not apply.

Columns may be left out; string columns may be any Arrow string type (large, view,
dictionary); ``at`` may be timezone-aware timestamps of any unit or RFC 3339 strings;
``lines.amount`` strings or decimals (never floats); ``birthday`` dates or strings.
"""


class _Naive(Exception):
    pass


def _wire(value: Any) -> Any:
    if isinstance(value, _decimal.Decimal):
        if not value.is_finite():
            raise TypeError(f"{value} is not an amount")
        return format(value, "f")
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise _Naive(f"naive datetime {value.isoformat()} is ambiguous; give it a time zone")
        return value.astimezone(_dt.timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, _dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a wire value")


def _drop_none(value: Any) -> Any:
    """``None`` means absent, as a null does in an event table."""
    kind = type(value)
    # Plain text and numbers first: an ABC check (``Mapping``) costs far more than these.
    if kind is str or kind is int or kind is float or kind is bool:
        return value
    if kind is dict or isinstance(value, Mapping):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_drop_none(v) for v in value]
    return value


# One encoder for every event (``json.dumps`` with options builds a new one per call); the
# same output as ``json.dumps(value, default=_wire, separators=(",", ":"))``.
_encode = _json.JSONEncoder(default=_wire, separators=(",", ":")).encode


def _to_json(event: Event) -> str:
    if isinstance(event, str):
        return event
    if not isinstance(event, Mapping):
        raise InvalidEvent(
            f"event ?: an event is a dict in the wire format, not {type(event).__name__}"
        )
    try:
        return _encode(_drop_none(event))
    except (_Naive, TypeError, ValueError) as e:
        raise InvalidEvent(f"event {event.get('id', '?')}: {e}") from None


def _program(program: Any) -> "_native.Program":
    if not isinstance(program, Program):
        raise TypeError(f"expected a pointbook.Program, not {type(program).__name__}")
    return program._native


def _instant(text: str) -> _dt.datetime:
    return _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _at(value: Instant) -> str:
    if isinstance(value, str):
        return value
    try:
        return str(_wire(value))
    except _Naive as e:
        raise InvalidEvent(str(e)) from None


class Program:
    """A validated loyalty program (TOML or JSON, see the project README).

    >>> Program.sample().fingerprint == Program.from_toml(Program.sample().source()).fingerprint
    True
    """

    __slots__ = ("_native", "_text")

    def __init__(self, native: _native.Program, text: str) -> None:
        self._native = native
        self._text = text

    @classmethod
    def from_toml(cls, text: str) -> "Program":
        """Loads a program from TOML text. Raises :class:`InvalidProgram`."""
        return cls(_native.Program.from_toml(text), text)

    @classmethod
    def from_json(cls, text: str) -> "Program":
        """Loads a program from JSON text. Raises :class:`InvalidProgram`."""
        return cls(_native.Program.from_json(text), text)

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> "Program":
        """Loads a program from a dict shaped like its JSON form."""
        try:
            text = _json.dumps(spec, default=_wire)
        except (TypeError, ValueError, _Naive) as e:
            raise InvalidProgram(f"program: {e}") from None
        return cls.from_json(text)

    @classmethod
    def from_file(cls, path: Union[str, "Path"]) -> "Program":
        """Loads a program file: ``.json`` as JSON, anything else as TOML."""
        p = Path(path)
        text = p.read_text(encoding="utf-8")
        return cls.from_json(text) if p.suffix.lower() == ".json" else cls.from_toml(text)

    @classmethod
    def sample(cls) -> "Program":
        """Bean & Leaf, the café program of docs/semantics.md §11."""
        return cls.from_toml(_native.BEAN_AND_LEAF)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the program's canonical JSON (snapshots carry it)."""
        return self._native.fingerprint

    def to_dict(self) -> Dict[str, Any]:
        """The program in its canonical JSON form."""
        return dict(_json.loads(self._native.to_json()))

    def source(self) -> str:
        """The text the program was loaded from (TOML, or JSON for from_json/from_dict)."""
        return self._text

    def __repr__(self) -> str:
        spec = self.to_dict()
        return f"<pointbook.Program {spec['name']!r} {spec['currency']} {self.fingerprint[:12]}>"


@dataclass(frozen=True)
class Outcome:
    """What an event did: points, postings, effects and the explanation of every point."""

    event: str
    type: str
    at: _dt.datetime
    duplicate: bool
    points: int
    postings: List[Dict[str, Any]] = field(repr=False)
    effects: List[Dict[str, Any]]
    explanation: List[Dict[str, Any]] = field(repr=False)
    discount: Optional[_decimal.Decimal]
    """Money a redemption takes off the order, where its reward's kind has one
    (docs/semantics.md §13)."""
    _raw: Dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_raw(cls, raw: Dict[str, Any]) -> "Outcome":
        explanation = [dict(line, points=_decimal.Decimal(line["points"])) for line in raw["explanation"]]
        return cls(
            event=raw["event"], type=raw["type"], at=_instant(raw["at"]),
            duplicate=raw["duplicate"], points=raw["points"], postings=raw["postings"],
            effects=raw["effects"], explanation=explanation,
            discount=None if raw.get("discount") is None else _decimal.Decimal(raw["discount"]),
            _raw=raw,
        )

    def to_dict(self) -> Dict[str, Any]:
        """The outcome in the wire format (the same JSON as the CLI and the C API)."""
        return dict(_json.loads(_json.dumps(self._raw)))


@dataclass(frozen=True)
class Balance:
    """A member's balance: ``available`` is the available lots minus any debt."""

    member: str
    tier: str
    available: int
    pending: int
    held: int
    debt: int
    lots: List[Dict[str, Any]] = field(repr=False)
    _raw: Dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_raw(cls, raw: Dict[str, Any]) -> "Balance":
        return cls(
            member=raw["member"], tier=raw["tier"], available=raw["available"],
            pending=raw["pending"], held=raw["held"], debt=raw["debt"], lots=raw["lots"],
            _raw=raw,
        )

    def to_dict(self) -> Dict[str, Any]:
        """The balance in the wire format of docs/semantics.md §12."""
        return dict(_json.loads(_json.dumps(self._raw)))


class Book:
    """The state of one program, changed only by events; every change is atomic.

    >>> book = Book(Program.sample())
    >>> _ = book.apply({"type": "enroll", "id": "e1", "member": "m1", "at": "2026-01-10T15:00:00Z"})
    >>> book.balance("m1").available
    25
    """

    __slots__ = ("_native", "program")

    def __init__(self, program: Program, *, _native_book: Optional[_native.Book] = None) -> None:
        native_program = _program(program)
        self.program = program
        self._native = _native_book if _native_book is not None else _native.Book(native_program)

    def apply(self, event: Event) -> Outcome:
        """Applies an event. A resend returns the original outcome with ``duplicate=True``; a
        rejected event raises a :class:`PointbookError` subclass and changes nothing."""
        return Outcome._from_raw(self._native.apply(_to_json(event)))

    def quote(self, purchase: Event) -> Outcome:
        """What a purchase would do, without doing it (``type`` may be omitted). With
        ``"pay": {"reward": ..., "points": ...}`` the basket is paid in part with a points
        payment, a percent off or an amount off: the outcome has its ``discount`` and what the
        rest earns (docs/semantics.md §13)."""
        return Outcome._from_raw(self._native.quote(_to_json(purchase)))

    def advance(self, at: Instant) -> Outcome:
        """Moves every member's clock to ``at`` (an ``advance`` event, id ``advance@<at>``)."""
        return Outcome._from_raw(self._native.advance(_at(at)))

    def balance(self, member: str) -> Balance:
        """A member's balance as of the book's clock. Raises :class:`UnknownMember`."""
        return Balance._from_raw(self._native.balance(member))

    def balances(self) -> List[Balance]:
        """Every member's balance, sorted by member id."""
        return [Balance._from_raw(b) for b in self._native.balances()]

    def progress(self, member: str, at: Optional[Instant] = None) -> Dict[str, Any]:
        """Tier progress: the metric, the next level and what it needs, what keeps the tier."""
        raw = self._native.progress(member, None if at is None else _at(at))
        raw["metric"] = _decimal.Decimal(raw["metric"])
        raw["to_keep"] = _decimal.Decimal(raw["to_keep"])
        if raw["next"] is not None:
            raw["next"]["needed"] = _decimal.Decimal(raw["next"]["needed"])
        return dict(raw)

    def totals(self) -> Dict[str, int]:
        """Program-wide accounts: issued (negative), redeemed, expired, forfeited, forgiven."""
        return dict(self._native.totals())

    @property
    def clock(self) -> Optional[_dt.datetime]:
        """The latest instant of any applied event."""
        c = self._native.clock()
        return None if c is None else _instant(c)

    def digest(self) -> str:
        """SHA-256 of the canonical state: the same in every binding and on every platform."""
        return self._native.digest()

    def snapshot(self) -> bytes:
        """The book as bytes, for :meth:`restore`."""
        return bytes(self._native.snapshot())

    @classmethod
    def restore(cls, program: Program, data: bytes) -> "Book":
        """A book from snapshot bytes taken under the same program (else
        :class:`ProgramMismatch`); every invariant is checked first."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidSnapshot(f"invalid snapshot: expected bytes, not {type(data).__name__}")
        return cls(program, _native_book=_native.Book.restore(_program(program), bytes(data)))

    def verify(self) -> None:
        """Checks the invariants of docs/semantics.md §10; raises :class:`InconsistentState` if broken."""
        self._native.verify()

    def __repr__(self) -> str:
        return f"<pointbook.Book clock={self._native.clock()} digest={self.digest()[:12]}>"


@dataclass(frozen=True)
class StoreBatch:
    """What :meth:`Store.apply_many` did: events accepted, duplicates answered (already in
    the store), and the rows rejected as ``(row, code, message)`` (journalled as rejected)."""

    accepted: int
    duplicates: int
    rejected: List[Tuple[int, str, str]] = field(default_factory=list)


class Store:
    """A book kept in a SQLite file (``docs/store.md``): every accepted event is journalled
    before the call returns, and opening the file again, after a clean close or a crash,
    rebuilds the book from its newest snapshot and the journal after it. One writer at a time
    (:class:`StoreLocked` for a second one); use it as a context manager.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "book.pointbook")
    >>> with Store(path, Program.sample()) as store:
    ...     _ = store.apply({"type": "enroll", "id": "e1", "member": "m1", "at": "2026-01-10T15:00:00Z"})
    >>> with Store(path, Program.sample()) as store:
    ...     store.book().balance("m1").available, store.apply({"type": "enroll", "id": "e1", "member": "m1", "at": "2026-01-10T15:00:00Z"}).duplicate
    (25, True)
    """

    __slots__ = ("_native", "program", "path")

    def __init__(
        self,
        path: Union[str, "Path"],
        program: Program,
        *,
        durability: str = "full",
        snapshot_every: int = 100_000,
        keep_snapshots: int = 2,
        wait: float = 0.0,
    ) -> None:
        if not isinstance(path, (str, Path)):
            raise TypeError(f"path must be a str or Path, not {type(path).__name__}")
        self.program = program
        self.path = str(path)
        self._native = _native.Store(
            self.path, _program(program), durability, snapshot_every, keep_snapshots, wait
        )

    def apply(self, event: Event) -> Outcome:
        """Applies an event and returns its outcome once it is on disk. A resend (also after a
        restart) returns the original outcome with ``duplicate=True``; a rejected event raises
        its :class:`PointbookError` subclass (and is journalled as rejected)."""
        return Outcome._from_raw(self._native.apply(_to_json(event)))

    def apply_many(self, events: Any, *, chunk_size: int = 10_000) -> StoreBatch:
        """Applies a history (anything :func:`replay` takes: a pyarrow, pandas or polars table,
        or an iterable of dicts), one transaction per chunk (an Arrow record batch, or
        ``chunk_size`` dicts). Safe to run again after a crash: what is already in the store
        comes back as duplicates."""
        _check_chunk_size(chunk_size)
        events = _arrow_input(events)
        accepted = duplicates = 0
        rejected: List[Tuple[int, str, str]] = []
        if _is_arrow(events):
            a, d, r = self._native.apply_arrow(events)
            return StoreBatch(a, d, list(r))
        if isinstance(events, (str, bytes, Mapping)):
            raise InvalidEvent("event ?: apply_many takes a table or an iterable of events, not a single event")
        first = 0
        for chunk in _chunks(events, chunk_size):
            a, d, r = self._native.apply_json(chunk)
            accepted += a
            duplicates += d
            rejected.extend((first + row, code, message) for row, code, message in r)
            first += len(chunk)
        return StoreBatch(accepted, duplicates, rejected)

    def book(self) -> Book:
        """A copy of the book as of the last commit, for reads, quotes and analytics."""
        return Book(self.program, _native_book=self._native.book())

    def checkpoint(self) -> None:
        """Takes a snapshot now, so that the next open replays nothing."""
        self._native.checkpoint()

    @property
    def journal_seq(self) -> int:
        """The number of the last journal entry (events accepted over the store's life)."""
        return self._native.journal_seq()

    def close(self) -> None:
        """Closes the store and lets the next writer in (everything acknowledged is on disk
        already). Later calls raise :class:`StoreError`."""
        self._native.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<pointbook.Store {self.path!r}>"


@dataclass(frozen=True)
class ReplayResult:
    """The result of :func:`replay`: pyarrow tables and the final book."""

    balances: _pa.Table
    """One row per member: member, tier, available, pending, held, debt, open_lots."""
    outcomes: _pa.Table
    """One row per event: index, event, type, member, at, duplicate, rejected, error_code,
    error_message, points, and discount (the money a redemption takes off the order, as the
    decimal string of the wire; null where there is none)."""
    postings: _pa.Table
    """One row per posting: event, at, from_account, from_member, to_account, to_member,
    points, reason."""
    effects: _pa.Table
    """One row per effect (TierChanged, PointsExpired, RewardIssued, ...): event, at, type,
    member, and the effect as JSON in ``detail``."""
    book: Book


def _is_arrow(obj: Any) -> bool:
    return hasattr(obj, "__arrow_c_stream__") or hasattr(obj, "__arrow_c_array__")


def _check_chunk_size(size: Any) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InvalidOptions(f"chunk_size must be a positive integer, not {size!r}")


def _chunks(events: Iterable[Event], size: int) -> Iterator[List[str]]:
    chunk: List[str] = []
    for e in events:
        chunk.append(_to_json(e))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _progress_bar(enabled: bool, total: Optional[int]) -> Any:
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="ev", desc="replay")


def _arrow_input(events: Any) -> Any:
    """pandas and polars frames as Arrow; anything else as given."""
    module = type(events).__module__.split(".")[0]
    if module == "pandas":
        return _pa.Table.from_pandas(events, preserve_index=False)
    if module == "polars" and not _is_arrow(events):
        return events.to_arrow()
    return events


def _row_count(events: Any) -> Optional[int]:
    """The rows of a table (pyarrow ``num_rows``, polars ``height``), if it says."""
    for attribute in ("num_rows", "height"):
        total = getattr(events, attribute, None)
        if isinstance(total, int):
            return total
    return None


def _feed(native: Any, events: Any, progress: bool, chunk_size: int) -> None:
    """Feeds events (any form :func:`replay` takes) to a native replayer or analyzer."""
    _check_chunk_size(chunk_size)
    events = _arrow_input(events)
    if _is_arrow(events):
        if progress:
            reader = _pa.RecordBatchReader.from_stream(events)
            bar = _progress_bar(True, _row_count(events))
            for batch in reader:
                # Slices share the batch's memory; each moves the bar once applied.
                for start in range(0, batch.num_rows, chunk_size):
                    piece = batch.slice(start, chunk_size)
                    native.feed_arrow(piece)
                    if bar is not None:
                        bar.update(piece.num_rows)
            if bar is not None:
                bar.close()
        else:
            native.feed_arrow(events)
        return
    if isinstance(events, (str, bytes, Mapping)):
        raise InvalidEvent("event ?: replay takes a table or an iterable of events, not a single event")
    bar = _progress_bar(progress, len(events) if hasattr(events, "__len__") else None)
    for chunk in _chunks(events, chunk_size):
        native.feed_json(chunk)
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()


def replay(
    program: Program,
    events: Any,
    *,
    progress: bool = False,
    chunk_size: int = 65_536,
) -> ReplayResult:
    """Replays a history under a program and returns Arrow tables.

    ``events`` is a pyarrow Table, RecordBatch or RecordBatchReader, a polars or pandas
    DataFrame, any object exporting ``__arrow_c_stream__`` (read without copies, see
    :data:`EVENT_SCHEMA`), or an iterable of event dicts or JSON strings. Rejected events do not
    stop the replay: they are rows of ``outcomes`` with ``rejected`` and ``error_code``. Each
    event is applied as it is read, with the GIL released, while a second thread writes its
    rows into the tables; memory holds the book and the tables, not the parsed history.
    ``progress=True`` shows a tqdm bar of the events applied (in steps of ``chunk_size``) when
    tqdm is installed.
    """
    replayer = _native.Replayer(_program(program))
    _feed(replayer, events, progress, chunk_size)
    balances, outcomes, postings, effects = replayer.tables()
    return ReplayResult(
        balances=_pa.table(balances),
        outcomes=_pa.table(outcomes),
        postings=_pa.table(postings),
        effects=_pa.table(effects),
        book=Book(program, _native_book=replayer.book()),
    )


def to_pandas(table: Any) -> Any:
    """A pyarrow table (or anything :func:`replay` returns or takes as Arrow) as a pandas
    DataFrame whose integer and boolean columns are pandas' nullable ``Int64`` / ``boolean``
    (and the other widths alike), whether or not they hold nulls: pyarrow's own ``to_pandas``
    turns an integer column with nulls (the event table's ``points``) into float64 and a boolean
    one into objects. The frame reads back into :func:`replay` as the table it came from."""
    import pandas as pd

    nullable = {
        _pa.int8(): pd.Int8Dtype(), _pa.int16(): pd.Int16Dtype(), _pa.int32(): pd.Int32Dtype(),
        _pa.int64(): pd.Int64Dtype(), _pa.uint8(): pd.UInt8Dtype(), _pa.uint16(): pd.UInt16Dtype(),
        _pa.uint32(): pd.UInt32Dtype(), _pa.uint64(): pd.UInt64Dtype(), _pa.bool_(): pd.BooleanDtype(),
    }
    return _pa.table(table).to_pandas(types_mapper=nullable.get)


def generate(
    program: Program, members: int, events: int, seed: int = 1, days: int = 730
) -> _pa.Table:
    """A deterministic synthetic history as an Arrow table of :data:`EVENT_SCHEMA` (the same
    events as ``pointbook generate``): enrollments, purchases, refunds, redemptions, holds,
    transfers, birthdays, monthly clock ticks. The same arguments give the same table, built in
    Rust column by column (no Python object per event)."""
    return _pa.table(_native.generate_table(program._native, members, events, seed, days))


_DECIMAL_KEYS = frozenset({
    "point_value", "liability", "cost", "redemption_rate", "breakage_rate",
    "expected_breakage_rate", "expected_breakage_value", "deferred_revenue", "retention_rate",
    "repurchase_rate", "purchase_frequency", "sales", "refunds", "discounts", "average_order_value",
    "average_lifetime_value", "lifetime_value",
})


def _decimals(value: Any, key: str = "") -> Any:
    """Decimal strings of the analysis JSON as :class:`decimal.Decimal`."""
    if isinstance(value, dict):
        return {k: _decimals(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimals(v, key) for v in value]
    if isinstance(value, str) and key in _DECIMAL_KEYS:
        return _decimal.Decimal(value)
    return value


def _when(text: Optional[str]) -> Optional[_dt.datetime]:
    return None if text is None else _instant(text)


@dataclass(frozen=True)
class Analysis:
    """Loyalty analytics of one program over one history (see :func:`analyze`). Every
    definition and formula: ``docs/analytics.md``. Money and rates are
    :class:`decimal.Decimal` (``decimal128`` columns in the tables)."""

    program: str
    currency: str
    point_value: _decimal.Decimal
    tiers: List[str]
    """Tier ids in level order (``tier_<id>`` columns of ``periods``)."""
    period: str
    as_of: Optional[_dt.datetime]
    events: Dict[str, int]
    """applied, duplicates, rejected."""
    summary: Dict[str, Any]
    """Headline numbers: flows, net_issued, outstanding, liability, cost, redemption_rate,
    breakage_rate, expected_breakage_rate/points/value, deferred_revenue, tier_mix, members,
    purchasers, repurchase_rate, purchases, purchase_frequency, sales, refunds, discounts,
    average_order_value, average_lifetime_value, at_risk, segments."""
    periods: _pa.Table
    """One row per period: period (its label: ``2026-W11``, ``2026-03``, ``2026-Q1`` or
    ``2026``), start and end (its first and last local dates), the flows (issued, reversed, forgiven, written_off,
    redeemed, expired, forfeited), available, pending, held, outstanding, liability, members,
    enrolled, forgotten, ``tier_<id>`` per tier, tier_ups, tier_downs, active_start,
    active_end, active_new, retention_rate, purchasers, returning_purchasers, repurchase_rate,
    purchases, purchase_frequency, sales, refunds, discounts, average_order_value."""
    members: _pa.Table
    """One row per member: member, tier, enrolled_at, closed, purchases, first_purchase,
    last_purchase, sales, refunds, lifetime_value, average_order_value, points_issued,
    points_redeemed, available, pending, held, recency_days, r, f, m, segment, at_risk,
    days_since_last, churn_threshold_days, churn_reason."""
    _native: Any = field(repr=False, compare=False)

    def plot_liability(self, ax: Any = None, *, unit: str = "money") -> Any:
        """The liability at each period's last day, stacked by the state of the points
        (available, pending, held), in money (points × point value), or in points with
        ``unit="points"``; on a matplotlib axes (a new figure when ``ax`` is None). Returns
        the axes."""
        if unit not in ("money", "points"):
            raise ValueError(f'unit must be "money" or "points", not {unit!r}')
        ax = _axes(ax)
        p = self.periods.to_pydict()
        scale = float(self.point_value) if unit == "money" else 1.0
        series = [[v * scale for v in p[state]] for state in ("available", "pending", "held")]
        ax.stackplot(p["end"], *series, labels=["available", "pending", "held"])
        if unit == "money":
            ax.set_ylabel(f"liability ({self.currency})")
            ax.set_title(f"{self.program}: liability in {self.currency}, at each period end")
        else:
            ax.set_ylabel("points outstanding")
            ax.set_title(f"{self.program}: points outstanding, at each period end")
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper left")
        return ax

    def plot_flows(self, ax: Any = None) -> Any:
        """Points issued, redeemed and expired per period, as lines. Returns the axes."""
        ax = _axes(ax)
        p = self.periods.to_pydict()
        for name in ("issued", "redeemed", "expired"):
            ax.plot(p["start"], p[name], label=name)
        ax.set_ylabel("points per period")
        ax.set_title(f"{self.program}: issued, redeemed, expired")
        ax.legend(loc="upper left")
        return ax

    def plot_tier_mix(self, ax: Any = None) -> Any:
        """Members per tier at each period end, stacked. Returns the axes."""
        ax = _axes(ax)
        p = self.periods.to_pydict()
        ax.stackplot(p["end"], *[p[f"tier_{t}"] for t in self.tiers], labels=self.tiers)
        ax.set_ylabel("members")
        ax.set_title(f"{self.program}: tier mix")
        ax.legend(loc="upper left")
        return ax


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(9, 4))[1]


def _period_rows(doc: Dict[str, Any]) -> List[Dict[str, Any]]:
    rows = []
    for r in doc["periods"]:
        row: Dict[str, Any] = {"period": r["label"], "start": _dt.date.fromisoformat(r["start"]),
                               "end": _dt.date.fromisoformat(r["last"])}
        row.update(r["flows"])
        row.update(r["outstanding"])
        row["outstanding"] = sum(r["outstanding"].values())
        for k, v in r.items():
            if k == "tier_mix":
                for tier, count in zip(doc["tiers"], v):
                    row[f"tier_{tier}"] = count
            elif k not in ("label", "start", "last", "end", "flows", "outstanding"):
                row[k] = v
        rows.append(row)
    return rows


def _member_rows(doc: Dict[str, Any]) -> List[Dict[str, Any]]:
    rows = []
    for m in doc["members"]:
        rfm = m["rfm"] or {}
        churn = m["churn"]
        rows.append({
            "member": m["member"], "tier": m["tier"], "enrolled_at": _when(m["enrolled_at"]),
            "closed": m["closed"], "purchases": m["purchases"],
            "first_purchase": _when(m["first_purchase"]),
            "last_purchase": _when(m["last_purchase"]), "sales": m["sales"],
            "refunds": m["refunds"], "lifetime_value": m["lifetime_value"],
            "average_order_value": m["average_order_value"],
            "points_issued": m["points_issued"], "points_redeemed": m["points_redeemed"],
            **m["outstanding"],
            "recency_days": rfm.get("recency_days"), "r": rfm.get("r"), "f": rfm.get("f"),
            "m": rfm.get("m"), "segment": rfm.get("segment"),
            "at_risk": churn["at_risk"], "days_since_last": churn["days_since_last"],
            "churn_threshold_days": churn["threshold_days"], "churn_reason": churn["reason"],
        })
    return rows


def _table(rows: List[Dict[str, Any]]) -> _pa.Table:
    return _pa.Table.from_pylist(rows)


def _analysis(native: Any) -> Analysis:
    doc = _decimals(_json.loads(native.to_json()))
    return Analysis(
        program=doc["program"], currency=doc["currency"], point_value=doc["point_value"],
        tiers=doc["tiers"], period=doc["period"], as_of=_when(doc["as_of"]),
        events=doc["events"], summary=doc["summary"],
        periods=_table(_period_rows(doc)), members=_table(_member_rows(doc)), _native=native,
    )


def _analyzer(program: Program, period: str, as_of: Optional[Instant], active_days: int,
              churn_percentile: int) -> Any:
    when = None if as_of is None else _at(as_of)
    return _native.Analyzer(_program(program), period, active_days, churn_percentile, when)


def analyze(
    program: Program,
    events: Any,
    *,
    period: str = "month",
    as_of: Optional[Instant] = None,
    active_days: int = 90,
    churn_percentile: int = 90,
    progress: bool = False,
    chunk_size: int = 65_536,
) -> Analysis:
    """Replays a history under a program and returns its loyalty analytics: liability and
    breakage per period, tier mix and migrations, retention, repurchase, order value,
    lifetime value, RFM and churn risk. ``events`` takes every form :func:`replay` takes;
    rejected events are counted in ``Analysis.events``. ``period`` is week, month, quarter or
    year (local to the program); ``as_of`` defaults to (and is at least) the last event's
    instant.

    >>> import pointbook
    >>> program = pointbook.Program.sample()
    >>> a = pointbook.analyze(program, [
    ...     {"type": "enroll", "id": "e1", "member": "m1", "at": "2026-01-10T15:00:00Z"},
    ...     {"type": "purchase", "id": "p1", "member": "m1", "at": "2026-02-01T15:00:00Z",
    ...      "lines": [{"sku": "BEANS", "category": "coffee", "amount": "100.00"}]},
    ... ])
    >>> a.summary["net_issued"], a.summary["liability"]
    (125, Decimal('1.25'))
    >>> a.periods.column("issued").to_pylist()
    [25, 100]
    """
    native = _analyzer(program, period, as_of, active_days, churn_percentile)
    _feed(native, events, progress, chunk_size)
    return _analysis(native.finish())


@dataclass(frozen=True)
class Comparison:
    """Two programs over the same history, side by side (see :func:`compare`)."""

    a: Analysis
    b: Analysis
    metrics: _pa.Table
    """One row per headline metric: metric, a, b, delta (``b − a``; null for money when the
    currencies differ)."""
    tier_mix: _pa.Table
    """tier, a, b: members per tier at the end."""
    tier_moves: _pa.Table
    """from, to, members: who would end in another tier."""
    most_affected: _pa.Table
    """member, points_a, points_b, delta, tier_a, tier_b: largest point differences first."""
    members_changing_tier: int

    @property
    def is_identical(self) -> bool:
        """True when both programs give the same numbers on this history."""
        return (all(r["a"] == r["b"] for r in self.metrics.to_pylist())
                and all(r["a"] == r["b"] for r in self.tier_mix.to_pylist())
                and self.tier_moves.num_rows == 0 and self.most_affected.num_rows == 0)


def _reusable(events: Any) -> Any:
    """Events that can be read twice: streams are read into a table, iterators into a list."""
    events = _arrow_input(events)
    if _is_arrow(events):
        if isinstance(events, (_pa.Table, _pa.RecordBatch)):
            return events
        return _pa.RecordBatchReader.from_stream(events).read_all()
    if isinstance(events, (str, bytes, Mapping)):
        raise InvalidEvent("event ?: compare takes a table or an iterable of events, not a single event")
    return list(events)


def compare(
    program_a: Program,
    program_b: Program,
    events: Any,
    *,
    top: int = 20,
    period: str = "month",
    as_of: Optional[Instant] = None,
    active_days: int = 90,
    churn_percentile: int = 90,
) -> Comparison:
    """What if: replays the same history under two programs and compares points issued,
    cost, liability, breakage, tier mix, members who would change tier and the ``top``
    members most affected (the same as ``pointbook compare``).

    >>> import pointbook
    >>> p = pointbook.Program.sample()
    >>> history = pointbook.generate(p, members=50, events=500, seed=7)
    >>> pointbook.compare(p, p, history).is_identical
    True
    """
    events = _reusable(events)
    natives = []
    for program in (program_a, program_b):
        native = _analyzer(program, period, as_of, active_days, churn_percentile)
        _feed(native, events, False, 65_536)
        natives.append(native.finish())
    doc = _json.loads(_native.compare_json(natives[0], natives[1], top))
    metrics = [
        {k: _decimal.Decimal(v) if k in ("a", "b", "delta") and v is not None else v
         for k, v in row.items()}
        for row in doc["metrics"]
    ]
    moves_schema = _pa.schema([("from", _pa.string()), ("to", _pa.string()), ("members", _pa.int64())])
    affected_schema = _pa.schema([
        ("member", _pa.string()), ("points_a", _pa.int64()), ("points_b", _pa.int64()),
        ("delta", _pa.int64()), ("tier_a", _pa.string()), ("tier_b", _pa.string()),
    ])
    return Comparison(
        a=_analysis(natives[0]), b=_analysis(natives[1]),
        metrics=_table(metrics), tier_mix=_table(doc["tier_mix"]),
        tier_moves=_pa.Table.from_pylist(doc["tier_moves"], schema=moves_schema),
        most_affected=_pa.Table.from_pylist(doc["most_affected"], schema=affected_schema),
        members_changing_tier=doc["members_changing_tier"],
    )

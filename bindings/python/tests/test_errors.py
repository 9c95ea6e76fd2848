"""Bad input gives a clear, typed error and changes nothing."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

import pointbook


def test_every_error_is_a_pointbook_error_with_its_code() -> None:
    assert issubclass(pointbook.InvalidEvent, pointbook.PointbookError)
    assert issubclass(pointbook.InvalidEvent, ValueError)
    assert issubclass(pointbook.UnknownMember, KeyError)
    with pytest.raises(pointbook.InvalidProgram) as err:
        pointbook.Program.from_toml('name = "x"')
    assert err.value.code == "invalid_program"
    assert "missing field" in str(err.value)


def test_an_inconsistent_state_has_its_own_class() -> None:
    from pointbook._errors import from_code

    err = from_code("inconsistent_state", "inconsistent state: member m1: negative debt or lot")
    assert isinstance(err, pointbook.InconsistentState)
    assert isinstance(err, pointbook.PointbookError)
    assert err.code == "inconsistent_state"


def test_program_errors_name_the_field(program: pointbook.Program) -> None:
    spec = program.to_dict()
    spec["earning"]["rules"][1]["bonus_percent"] = "ten"
    with pytest.raises(pointbook.InvalidProgram, match=r'^earning\.rules\[1\]\.bonus_percent: not a decimal: "ten"$'):
        pointbook.Program.from_dict(spec)
    assert pointbook.Program.from_dict(program.to_dict()).fingerprint == program.fingerprint


@pytest.mark.parametrize(
    "event, error, message",
    [
        ({"type": "enroll", "id": "e2", "member": "m2", "at": datetime(2026, 1, 1, 12)},
         pointbook.InvalidEvent, "naive datetime 2026-01-01T12:00:00 is ambiguous"),
        ({"type": "purchase", "id": "p1", "member": "m1", "at": "2026-02-01T00:00:00Z",
          "lines": [{"sku": "A", "amount": 4.75}]},
         pointbook.InvalidEvent, "floating point `4.75`"),
        ({"type": "purchase", "id": "p1", "member": "m1", "at": "2026-02-01T00:00:00Z",
          "lines": [{"sku": "A", "amount": "4.755"}]},
         pointbook.InvalidEvent, 'amount "4.755" has more decimals than USD allows'),
        ({"type": "purchase", "id": "p1", "member": "m1", "at": "2026-02-01T00:00:00Z",
          "lines": [{"sku": "A", "amount": "1.00", "colour": "red"}]},
         pointbook.InvalidEvent, "unknown field `colour`"),
        ({"type": "purchase", "id": "p1", "member": "m9", "at": "2026-02-01T00:00:00Z",
          "lines": [{"sku": "A", "amount": "1.00"}]},
         pointbook.UnknownMember, "member m9 is not enrolled"),
        ({"type": "redeem", "id": "x1", "member": "m1", "at": "2026-02-01T00:00:00Z", "reward": "free-drink"},
         pointbook.InsufficientPoints, "member m1 has 25 points available, 150 needed"),
        ({"type": "redeem", "id": "x1", "member": "m1", "at": "2026-02-01T00:00:00Z", "reward": "mug"},
         pointbook.TierTooLow, "reward mug needs tier gold, member is green"),
        ({"type": "purchase", "id": "p0", "member": "m1", "at": "2025-01-01T00:00:00Z",
          "lines": [{"sku": "A", "amount": "1.00"}]},
         pointbook.LateEvent, "older than the clock"),
        ({"type": "enroll", "id": "e1b", "member": "m1", "at": "2026-01-11T00:00:00Z", "birthday": object()},
         pointbook.InvalidEvent, "object is not a wire value"),
        (["not", "a", "dict"], pointbook.InvalidEvent, "an event is a dict"),
        ("{]", pointbook.InvalidEvent, "event ?: key must be a string"),
    ],
)
def test_bad_events_are_typed_errors_and_change_nothing(
    book: pointbook.Book, event: object, error: type, message: str
) -> None:
    book.apply({"type": "enroll", "id": "e1", "member": "m1", "at": "2026-01-10T15:00:00Z",
                "birthday": date(1990, 2, 28)})
    digest = book.digest()
    with pytest.raises(error, match=re.escape(message)):
        book.apply(event)  # type: ignore[arg-type]
    assert book.digest() == digest


def test_snapshots_refuse_other_programs_and_garbage(root, program: pointbook.Program) -> None:  # type: ignore[no-untyped-def]
    other = pointbook.Program.from_file(root / "examples/programs/corner-cafe-punch-card.toml")
    data = pointbook.Book(program).snapshot()
    with pytest.raises(pointbook.ProgramMismatch):
        pointbook.Book.restore(other, data)
    with pytest.raises(pointbook.InvalidSnapshot):
        pointbook.Book.restore(program, b"garbage")
    with pytest.raises(pointbook.InvalidSnapshot):
        pointbook.Book.restore(program, "not bytes")  # type: ignore[arg-type]


def test_wrong_python_types_are_type_errors_from_the_native_layer(program: pointbook.Program) -> None:
    with pytest.raises(TypeError, match="expected a pointbook.Program, not str"):
        pointbook.Book("not a program")  # type: ignore[arg-type]
    book = pointbook.Book(program)
    with pytest.raises(TypeError):
        book.balance(42)  # type: ignore[arg-type]

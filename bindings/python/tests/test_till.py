"""docs/semantics.md §13 through Python, as crates/pointbook/tests/till.rs has it: points as
payment, percent off, reversals, a refund of a purchase paid with points, and the new errors."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

import pointbook


@pytest.fixture
def till(root: Path) -> pointbook.Book:
    program = pointbook.Program.from_file(root / "crates/pointbook/tests/fixtures/till.toml")
    book = pointbook.Book(program)
    book.apply({"type": "enroll", "id": "e1", "member": "m1", "at": "2026-01-01T10:00:00Z"})
    book.apply({"type": "adjust", "id": "a1", "member": "m1", "at": "2026-01-01T12:00:00Z",
                "points": 1000, "reason": "test"})
    return book


def pay(rid: str, points: int, total: str = "12.40", **more: object) -> dict:
    return {"type": "redeem", "id": rid, "member": "m1", "at": "2026-01-04T12:00:00Z",
            "reward": "pay", "points": points, "order_total": total, **more}


def test_points_payment_at_the_max_share_boundary(till: pointbook.Book) -> None:
    # 12.40 × 0.5 = 6.20: 620 points pay exactly that; 630 pay 6.30.
    digest = till.digest()
    with pytest.raises(pointbook.ExceedsOrder) as e:
        till.apply(pay("x0", 630))
    assert e.value.code == "exceeds_order"
    assert till.digest() == digest
    with pytest.raises(pointbook.InvalidEvent):
        till.apply(pay("x0", 625))  # not a multiple of the step of 10
    outcome = till.apply(pay("x1", 620))
    assert (outcome.points, outcome.discount) == (-620, Decimal("6.20"))
    assert outcome.to_dict()["discount"] == "6.20"
    assert till.balance("m1").available == 380


def test_percent_off_rounds_down_and_stops_at_max_amount(till: pointbook.Book) -> None:
    def coffee(rid: str, amount: str) -> pointbook.Outcome:
        return till.apply({"type": "redeem", "id": rid, "member": "m1", "at": "2026-01-03T10:00:00Z",
                           "reward": "coffee-10",
                           "lines": [{"sku": "LATTE", "category": "coffee", "amount": amount}]})
    assert coffee("x1", "4.75").discount == Decimal("0.47")  # 0.475, rounded down
    assert coffee("x2", "45.55").discount == Decimal("3.00")  # 4.55, capped
    voucher = till.apply({"type": "redeem", "id": "x3", "member": "m1",
                          "at": "2026-01-03T10:00:00Z", "reward": "voucher"})
    assert voucher.discount is None


def test_a_refund_and_a_reversal_give_the_points_back(till: pointbook.Book) -> None:
    till.apply(pay("x1", 500, purchase="p9"))
    till.apply({"type": "purchase", "id": "p9", "member": "m1", "at": "2026-01-04T12:01:00Z",
                "lines": [{"sku": "BEANS", "category": "coffee", "amount": "12.40"}]})
    # floor(500 × 5.00 / 12.40) = 201 back, 5 of the earn taken back.
    refund = till.apply({"type": "refund", "id": "r1", "member": "m1", "at": "2026-01-05T12:00:00Z",
                         "purchase": "p9", "lines": [{"sku": "BEANS", "amount": "5.00"}]})
    assert refund.points == 196
    reversed_ = [e for e in refund.effects if e["type"] == "RewardReversed"]
    assert [(e["redemption"], e["points"], e["whole"]) for e in reversed_] == [("x1", 201, False)]
    whole = till.apply({"type": "reverse", "id": "v1", "member": "m1",
                        "at": "2026-01-06T12:00:00Z", "redemption": "x1"})
    assert whole.points == 299
    with pytest.raises(pointbook.ReversalExceeds):
        till.apply({"type": "reverse", "id": "v2", "member": "m1", "at": "2026-01-06T12:00:00Z",
                    "redemption": "x1", "points": 1})
    assert till.balance("m1").available == 1007


def table(rows: list) -> pa.Table:
    """Rows as a table of EVENT_SCHEMA (instants as datetimes)."""
    for row in rows:
        row["at"] = datetime.fromisoformat(row["at"].replace("Z", "+00:00"))
    return pa.Table.from_pylist(rows, schema=pointbook.EVENT_SCHEMA)


def test_replay_reads_and_writes_the_new_fields(root: Path) -> None:
    program = pointbook.Program.from_file(root / "crates/pointbook/tests/fixtures/till.toml")
    events = table([
        {"type": "enroll", "id": "e1", "member": "m1", "at": "2026-01-01T10:00:00Z"},
        {"type": "adjust", "id": "a1", "member": "m1", "at": "2026-01-01T12:00:00Z",
         "points": 1000, "reason": "test"},
        {"type": "redeem", "id": "x1", "member": "m1", "at": "2026-01-04T12:00:00Z",
         "reward": "pay", "points": 500, "order_total": "12.40"},
        {"type": "redeem", "id": "x2", "member": "m1", "at": "2026-01-04T12:00:00Z",
         "reward": "cookie", "quantity": 2},
        {"type": "reverse", "id": "v1", "member": "m1", "at": "2026-01-05T12:00:00Z",
         "redemption": "x1", "points": 100},
    ])
    result = pointbook.replay(program, events)
    rows = result.outcomes.select(["event", "rejected", "points", "discount"]).to_pylist()
    assert rows[2:] == [
        {"event": "x1", "rejected": False, "points": -500, "discount": "5.00"},
        {"event": "x2", "rejected": False, "points": -80, "discount": None},
        {"event": "v1", "rejected": False, "points": 100, "discount": None},
    ]
    assert result.book.balance("m1").available == 520
    # A field of another event type is refused on its row, as on the wire.
    odd = table([{"type": "confirm", "id": "c", "member": "m1", "at": "2026-01-05T12:00:00Z",
                  "redemption": "x1", "order_total": "1.00"}])
    bad = pointbook.replay(program, odd).outcomes.to_pylist()[0]
    assert bad["error_code"] == "invalid_event" and "order_total" in bad["error_message"]


def test_a_quote_paid_with_points(till: pointbook.Book) -> None:
    # 500 points pay 5.00 of 12.40; the 7.40 left earns 7: -493 points, nothing changed.
    digest = till.digest()
    outcome = till.quote({"id": "q1", "member": "m1", "at": "2026-01-04T12:00:00Z",
                          "lines": [{"sku": "BEANS", "category": "coffee", "amount": "12.40"}],
                          "pay": {"reward": "pay", "points": 500}})
    assert (outcome.points, outcome.discount) == (-493, Decimal("5.00"))
    assert till.digest() == digest
    with pytest.raises(pointbook.InvalidEvent):
        till.quote({"id": "q1", "member": "m1", "at": "2026-01-04T12:00:00Z",
                    "lines": [{"sku": "BEANS", "amount": "12.40"}], "pay": {"reward": "pay", "pts": 1}})

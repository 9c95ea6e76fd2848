"""docs/semantics.md §11 through Python, number for number."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

import pointbook

BASKET_A = [
    {"sku": "LATTE", "category": "coffee", "amount": Decimal("4.75"), "quantity": 1},
    {"sku": "CROISSANT", "category": "pastry", "amount": "3.50"},
    {"sku": "GIFTCARD", "category": "gift_card", "amount": "25.00"},
]


def enroll(book: pointbook.Book, member: str = "m1", at: str = "2026-01-10T15:00:00Z") -> None:
    book.apply({"type": "enroll", "id": f"e-{member}", "member": member, "at": at})


def buy(book: pointbook.Book, pid: str, at: object, amount: str, member: str = "m1") -> pointbook.Outcome:
    return book.apply({"type": "purchase", "id": pid, "member": member, "at": at,
                       "lines": [{"sku": "C", "category": "coffee", "amount": amount}]})


def test_a_earning_rounds_once_per_purchase(book: pointbook.Book) -> None:
    enroll(book)
    at = datetime(2026, 3, 14, 9, 30, tzinfo=pointbook_tz("America/New_York"))
    outcome = book.apply({"type": "purchase", "id": "p1", "member": "m1", "at": at, "lines": BASKET_A})
    assert outcome.points == 11
    assert [(l["kind"], l.get("name"), l["points"]) for l in outcome.explanation] == [
        ("base", None, Decimal("8.25")),
        ("rule", "pastry-double", Decimal("3.50")),
        ("rounding", None, Decimal("-0.75")),
    ]
    lot = book.balance("m1").lots[-1]
    assert lot == {"points": 11, "state": "pending", "earned_at": "2026-03-14T13:30:00Z",
                   "expires_at": "2027-03-14T05:00:00Z", "source": "p1"}


def test_a_same_basket_on_the_double_weekend(book: pointbook.Book) -> None:
    enroll(book)
    outcome = book.apply({"type": "purchase", "id": "p1", "member": "m1",
                          "at": "2026-12-05T15:00:00Z", "lines": BASKET_A})
    assert outcome.points == 20


def test_b_fifo_and_expiry(book: pointbook.Book) -> None:
    enroll(book)
    buy(book, "p2", "2026-02-01T15:00:00Z", "100.00")
    buy(book, "p3", "2026-06-01T15:00:00Z", "80.00")
    book.apply({"type": "redeem", "id": "x1", "member": "m1", "at": "2026-07-01T15:00:00Z",
                "reward": "free-drink"})
    assert book.balance("m1").to_dict() == {
        "member": "m1", "tier": "green", "available": 55, "pending": 0, "held": 0, "debt": 0,
        "lots": [{"points": 55, "state": "available", "earned_at": "2026-06-01T15:00:00Z",
                  "expires_at": "2027-06-01T04:00:00Z", "source": "p3"}],
    }
    outcome = book.advance("2027-06-01T04:00:00Z")
    assert {"type": "PointsExpired", "member": "m1", "points": 55, "source": "p3",
            "at": "2027-06-01T04:00:00Z"} in outcome.effects
    assert book.totals()["expired"] == 55


def test_advance_is_the_core_advance_event(book: pointbook.Book) -> None:
    enroll(book)
    outcome = book.advance("2027-06-01T06:00:00+02:00")
    assert (outcome.event, outcome.type) == ("advance@2027-06-01T04:00:00Z", "advance")
    with pytest.raises(pointbook.InvalidEvent):
        book.advance("June 1st")


def test_c_refund_reverses_the_difference(book: pointbook.Book) -> None:
    enroll(book)
    book.apply({"type": "purchase", "id": "p1", "member": "m1", "at": "2026-03-14T13:30:00Z",
                "lines": BASKET_A})
    outcome = book.apply({"type": "refund", "id": "r1", "member": "m1", "at": "2026-03-16T14:00:00Z",
                          "purchase": "p1", "lines": [{"sku": "CROISSANT", "amount": Decimal("3.50")}]})
    assert outcome.points == -7
    assert book.balance("m1").pending == 4


def test_d_tier_changes_after_the_crossing_purchase(book: pointbook.Book) -> None:
    enroll(book)
    buy(book, "p1", "2026-08-01T15:00:00Z", "290.00")
    crossing = buy(book, "p2", "2026-08-10T15:00:00Z", "20.00")
    assert crossing.points == 20
    assert any(e["type"] == "TierChanged" and e["to"] == "gold" for e in crossing.effects)
    assert buy(book, "p3", "2026-08-11T15:00:00Z", "20.00").points == 25
    assert book.progress("m1", "2026-08-12T00:00:00Z")["next"] is None


def test_e_hold_lapses_before_the_next_purchase(book: pointbook.Book) -> None:
    enroll(book)
    buy(book, "p1", "2026-02-01T15:00:00Z", "700.00")
    book.advance("2026-09-01T00:00:00Z")
    book.apply({"type": "redeem", "id": "h1", "member": "m1", "at": "2026-09-01T16:00:00Z",
                "reward": "mug", "hold": True})
    assert book.balance("m1").held == 600
    outcome = buy(book, "p2", "2026-09-01T16:20:00Z", "1.00")
    assert any(e["type"] == "HoldExpired" and e["points"] == 600 for e in outcome.effects)
    assert book.balance("m1").held == 0


def test_f_idempotency_and_id_conflict(book: pointbook.Book) -> None:
    enroll(book)
    event = {"type": "purchase", "id": "p1", "member": "m1", "at": "2026-03-14T13:30:00Z", "lines": BASKET_A}
    first = book.apply(event)
    digest = book.digest()
    again = book.apply(event)
    assert again.duplicate and again.points == first.points and again.postings == first.postings
    with pytest.raises(pointbook.IdConflict) as err:
        book.apply(dict(event, lines=[{"sku": "LATTE", "category": "coffee", "amount": "5.75"}]))
    assert err.value.code == "id_conflict"
    assert book.digest() == digest


def test_quote_changes_nothing(book: pointbook.Book) -> None:
    enroll(book)
    digest = book.digest()
    quote = book.quote({"id": "q", "member": "m1", "at": "2026-12-05T15:00:00Z", "lines": BASKET_A})
    assert quote.points == 20
    assert book.digest() == digest


def test_snapshot_restore_continue(program: pointbook.Program, book: pointbook.Book) -> None:
    enroll(book)
    buy(book, "p1", "2026-02-01T15:00:00Z", "10.00")
    restored = pointbook.Book.restore(program, book.snapshot())
    assert restored.digest() == book.digest()
    for b in (book, restored):
        buy(b, "p2", "2026-03-01T15:00:00Z", "10.00")
    assert restored.digest() == book.digest()


def test_python_values_mean_their_wire_text(program: pointbook.Program) -> None:
    """None is absent, tuples are arrays, any mapping is an object, Decimals and aware datetimes
    are written in the wire format: a dict event means exactly what its JSON text means."""
    from types import MappingProxyType

    as_python = {
        "type": "purchase", "id": "p1", "member": "m1", "channel": None,
        "at": datetime(2026, 3, 14, 9, 30, tzinfo=pointbook_tz("America/New_York")),
        "lines": (
            {"sku": "LATTE", "category": "coffee", "amount": Decimal("4.75"), "quantity": None},
            MappingProxyType({"sku": "CAKE", "category": "pastry", "amount": "3.50", "quantity": 2}),
        ),
    }
    as_text = (
        '{"type":"purchase","id":"p1","member":"m1","at":"2026-03-14T13:30:00Z","lines":['
        '{"sku":"LATTE","category":"coffee","amount":"4.75"},'
        '{"sku":"CAKE","category":"pastry","amount":"3.50","quantity":2}]}'
    )
    books = [pointbook.Book(program), pointbook.Book(program)]
    for b in books:
        enroll(b)
    outcomes = [books[0].apply(as_python), books[1].apply(as_text)]
    assert outcomes[0].points == 11  # 4.75 + 3.50, the pastry doubled: 11.75, rounded down
    assert outcomes[0].to_dict() == outcomes[1].to_dict()
    assert books[0].digest() == books[1].digest()


def pointbook_tz(name: str) -> timezone:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)  # type: ignore[return-value]

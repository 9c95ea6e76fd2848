"""Hypothesis: the engine agrees, after every event, with a small, obviously-correct model of
earning (base + a category bonus, rounded down once), maturation, FIFO and expiry written here
in plain Python, days counted in the program's time zone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

import pointbook

TZ = ZoneInfo("America/New_York")
MATURE_DAYS, EXPIRE_DAYS, SIGNUP, COST = 14, 60, 10, 40

PROGRAM = pointbook.Program.from_toml(f"""
name = "Model"
currency = "USD"
time_zone = "America/New_York"
point_value = "0.01"
voucher_secret = "s"
[earning]
base_rate = 1
exclude_categories = ["gift_card"]
[[earning.rules]]
id = "pastry"
bonus_percent = 100
categories = ["pastry"]
[maturation]
days = {MATURE_DAYS}
[expiry]
rolling = {{ days = {EXPIRE_DAYS} }}
[bonuses]
signup = {SIGNUP}
[[rewards]]
id = "r"
cost = {COST}
""")

START = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)


def days_after(t: datetime, n: int) -> datetime:
    """00:00 local on the local date n days after t's local date."""
    d = t.astimezone(TZ).date() + timedelta(days=n)
    return datetime(d.year, d.month, d.day, tzinfo=TZ).astimezone(timezone.utc)


@dataclass
class Lot:
    seq: int
    earned: datetime
    matures: datetime
    expires: datetime
    remaining: int


@dataclass
class Model:
    lots: Dict[str, List[Lot]] = field(default_factory=dict)
    seq: int = 0

    def _credit(self, member: str, at: datetime, points: int, matures: datetime) -> None:
        self.seq += 1
        self.lots[member].append(Lot(self.seq, at, matures, days_after(at, EXPIRE_DAYS), points))

    def expired(self, t: datetime) -> int:
        """Points expired by t: what lots held when their expiry passed (spending stops then)."""
        return sum(l.remaining for lots in self.lots.values() for l in lots if l.expires <= t)

    def enroll(self, member: str, at: datetime) -> Optional[int]:
        if member in self.lots:
            return None
        self.lots[member] = []
        self._credit(member, at, SIGNUP, at)
        return SIGNUP

    def purchase(self, member: str, at: datetime, lines: List[Tuple[str, Decimal]]) -> Optional[int]:
        if member not in self.lots:
            return None
        eligible = [amount for category, amount in lines if category != "gift_card"]
        bonus = [amount for category, amount in lines if category == "pastry"]
        points = int(sum(eligible, Decimal(0)) + sum(bonus, Decimal(0)))  # floor of a non-negative
        if points:
            self._credit(member, at, points, days_after(at, MATURE_DAYS))
        return points

    def available(self, member: str, t: datetime) -> int:
        return sum(l.remaining for l in self.lots[member] if l.matures <= t < l.expires)

    def pending(self, member: str, t: datetime) -> int:
        return sum(l.remaining for l in self.lots[member] if t < l.matures and t < l.expires)

    def open_lots(self, member: str, t: datetime) -> List[Tuple[int, str, str, str]]:
        """(points, earned, expires, state) of the lots still holding points, in FIFO order."""
        iso = lambda d: d.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")  # noqa: E731
        return [
            (l.remaining, iso(l.earned), iso(l.expires), "available" if l.matures <= t else "pending")
            for l in sorted(self.lots[member], key=lambda l: (l.expires, l.earned, l.seq))
            if l.remaining and t < l.expires
        ]

    def redeem(self, member: str, at: datetime) -> Optional[int]:
        if member not in self.lots or self.available(member, at) < COST:
            return None
        todo = COST
        for lot in sorted(self.lots[member], key=lambda l: (l.expires, l.earned, l.seq)):
            if lot.matures <= at < lot.expires and todo:
                take = min(todo, lot.remaining)
                lot.remaining -= take
                todo -= take
        return -COST


OPS = st.one_of(
    st.tuples(st.just("enroll"), st.integers(0, 3)),
    st.tuples(
        st.just("purchase"),
        st.integers(0, 2),
        st.lists(st.tuples(st.sampled_from(["coffee", "pastry", "gift_card"]), st.integers(0, 9999)),
                 min_size=1, max_size=4),
    ),
    st.tuples(st.just("redeem"), st.integers(0, 3)),
    st.tuples(st.just("advance"),),
)


# Hours between events: same moment, minutes apart, days, weeks, a month (maturation and
# expiry must happen inside a short stream).
GAPS = st.sampled_from([0, 1, 5, 24, 24 * 3, 24 * 8, 24 * 15, 24 * 31])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(OPS, GAPS), min_size=1, max_size=60))
def test_engine_agrees_with_the_reference_model(steps: list) -> None:  # type: ignore[type-arg]
    book, model = pointbook.Book(PROGRAM), Model()
    t = clock = START
    for m in ("m0", "m1", "m2"):  # most streams should spend points: enroll everyone first
        model.enroll(m, t)
        book.apply({"type": "enroll", "id": f"start-{m}", "member": m, "at": t})
    for i, (op, gap_hours) in enumerate(steps):
        t += timedelta(hours=gap_hours, minutes=7)
        kind, member = op[0], f"m{op[1]}" if len(op) > 1 else ""
        event: dict = {"type": kind, "id": f"{kind}{i}", "at": t}  # type: ignore[type-arg]
        if kind == "enroll":
            expected = model.enroll(member, t)
            event["member"] = member
        elif kind == "purchase":
            lines = [(c, Decimal(cents).scaleb(-2)) for c, cents in op[2]]
            expected = model.purchase(member, t, lines)
            event.update(member=member, lines=[{"sku": c.upper(), "category": c, "amount": a} for c, a in lines])
        elif kind == "redeem":
            expected = model.redeem(member, t)
            event.update(member=member, reward="r")
        else:
            expected = 0
        try:
            got: Optional[int] = book.apply(event).points
        except pointbook.PointbookError:
            got = None
        assert got == expected, (i, event)
        if got is not None:
            clock = t  # balances are read at the book's clock: the latest accepted event
        for m in model.lots:
            balance = book.balance(m)
            assert (balance.available, balance.pending) == (model.available(m, clock), model.pending(m, clock)), (i, m)
            lots = [(l["points"], l["earned_at"], l["expires_at"], l["state"]) for l in balance.lots]
            assert lots == model.open_lots(m, clock), (i, m)
        book.advance(clock)  # bring every member to the clock, then compare breakage
        assert book.totals()["expired"] == model.expired(clock)

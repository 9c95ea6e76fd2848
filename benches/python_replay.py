"""Python benchmark: `pointbook.replay` of an Arrow table against a pandas / pure-Python
implementation of the same program, written as a data scientist would, and `Book.quote`
latency through Python.

Run (after scripts/test.sh or bindings/python/test.sh made .venv):
    .venv/bin/python benches/python_replay.py [EVENTS] [MEMBERS]
Defaults: 1,000,000 events over 100,000 members (Bean & Leaf, seed 7).

The baseline does *less* than the engine: it earns (base rate, excluded category,
pastry-double, the capped double weekend, the gold bonus, floor rounding), grants signup
bonuses, keeps calendar-year tiers with last year's tier carried over, and debits
redemptions; it skips maturation, lots, expiry, refunds, holds, transfers, birthdays and
explanations. So the ratio understates the engine's lead. Its points are checked against the
engine's on the events it models, so the baseline is the same program, not a toy.
"""

from __future__ import annotations

import math
import sys
import time
from collections import defaultdict
from decimal import Decimal
from typing import Any, Dict, List, Tuple

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

import pointbook


def baseline(events: pd.DataFrame) -> Dict[str, int]:
    """Bean & Leaf earning and tiers over a DataFrame of events, in pandas + Python."""
    purchases = events[events["type"] == "purchase"][["id", "member", "at", "lines"]]
    lines = purchases.explode("lines").dropna(subset=["lines"])
    lines = pd.concat(
        [lines[["id", "member", "at"]].reset_index(drop=True),
         pd.json_normalize(lines["lines"].tolist())], axis=1,
    )
    lines["amount"] = lines["amount"].map(Decimal)
    lines = lines[lines["category"] != "gift_card"]
    lines["pastry"] = lines["amount"].where(lines["category"] == "pastry", Decimal(0))
    per_purchase = lines.groupby("id", sort=False).agg(base=("amount", "sum"),
                                                        pastry=("pastry", "sum"))
    local = events["at"].dt.tz_convert("America/New_York")
    events = events.assign(year=local.dt.year, day=local.dt.date.astype(str))
    points: Dict[str, int] = defaultdict(int)
    year_points: Dict[Tuple[str, int], int] = defaultdict(int)
    weekend_used: Dict[str, Decimal] = defaultdict(Decimal)
    bases = per_purchase.to_dict("index")
    for e in events.itertuples(index=False):
        if e.type == "enroll":
            points[e.member] += 25
        elif e.type == "purchase":
            b = bases.get(e.id, {"base": Decimal(0), "pastry": Decimal(0)})
            earned = b["base"] + b["pastry"]
            if "2026-12-05" <= e.day <= "2026-12-06":
                bonus = min(b["base"], Decimal(200) - weekend_used[e.member])
                weekend_used[e.member] += bonus
                earned += bonus
            gold = (year_points[(e.member, e.year)] >= 300
                    or year_points[(e.member, e.year - 1)] >= 300)
            if gold:
                earned += b["base"] * Decimal("0.25")
            n = math.floor(earned)
            points[e.member] += n
            year_points[(e.member, e.year)] += n
        elif e.type == "redeem" and not e.hold:
            cost = {"free-drink": 150, "mug": 600}.get(e.reward, 0)
            if points[e.member] >= cost:
                points[e.member] -= cost
    return dict(points)


def engine_earned(result: pointbook.ReplayResult) -> Dict[str, int]:
    """Points the engine credited to each member by earning and signup (the baseline's part)."""
    o = result.outcomes
    earned = o.filter(pc.and_(pc.is_in(o["type"], pa.array(["purchase", "enroll"])),
                              pc.invert(o["rejected"])))
    sums = earned.group_by("member").aggregate([("points", "sum")])
    return dict(zip(sums["member"].to_pylist(), sums["points_sum"].to_pylist()))


def baseline_earned(events: pd.DataFrame) -> Dict[str, int]:
    """The baseline's earning alone (no redemptions), to check it against the engine."""
    no_redeem = events[events["type"].isin(["enroll", "purchase"])]
    return baseline(no_redeem)


def timed(f: Any, *args: Any) -> Tuple[Any, float]:
    t = time.perf_counter()
    r = f(*args)
    return r, time.perf_counter() - t


def main() -> None:
    n_events = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    n_members = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    program = pointbook.Program.sample()
    table, t_gen = timed(pointbook.generate, program, n_members, n_events, 7)
    print(f"history: {table.num_rows:,} events, {n_members:,} members (generated in {t_gen:.1f} s)")

    result, t_engine = timed(pointbook.replay, program, table)
    print(f"pointbook.replay (Arrow table): {t_engine:.2f} s, "
          f"{table.num_rows / t_engine:,.0f} events/s")

    # The baseline on the same events as a DataFrame (conversion not timed).
    frame = table.to_pandas(types_mapper=None)
    base, t_base = timed(baseline, frame)
    print(f"pandas/Python baseline:        {t_base:.2f} s, "
          f"{len(frame) / t_base:,.0f} events/s")
    print(f"ratio: pointbook is {t_base / t_engine:.1f}x faster")

    # Same program: the baseline's earning equals the engine's on enrollments and purchases of
    # members without refunds (refunds are not modelled by the baseline).
    refunded = set(frame.loc[frame["type"] == "refund", "member"])
    ours = baseline_earned(frame)
    engine = engine_earned(result)
    checked = [m for m in ours if m not in refunded]
    mismatched = [m for m in checked if ours[m] != engine.get(m, 0)]
    print(f"earning check: {len(checked) - len(mismatched):,} of {len(checked):,} members agree")

    # Quote latency through Python (Book.quote on the replayed book).
    book = result.book
    members = table.column("member").to_pylist()[:20_000]
    at = max(table.column("at").to_pylist())
    samples: List[float] = []
    for i, m in enumerate(members):
        basket = {"id": f"q{i}", "member": m, "at": at,
                  "lines": [{"sku": "LATTE", "category": "coffee", "amount": "4.75"},
                            {"sku": "CAKE", "category": "pastry", "amount": "3.50"}]}
        t = time.perf_counter()
        try:
            book.quote(basket)
        except pointbook.PointbookError:
            continue
        samples.append(time.perf_counter() - t)
    samples.sort()
    if samples:
        p50 = samples[len(samples) // 2] * 1e6
        p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1e6
        print(f"Book.quote through Python: p50 {p50:.1f} us, p99 {p99:.1f} us ({len(samples):,} quotes)")


if __name__ == "__main__":
    main()

"""Analytics and what-if from Python: the hand-computed history of the Rust tests, the same
document as the CLI, every input form, errors, and plots."""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pyarrow as pa
import pytest

import pointbook

# crates/pointbook/tests/analytics.rs, HISTORY: every number below is worked out there.
HISTORY: List[Dict[str, Any]] = [
    {"type": "enroll", "id": "e1", "member": "m1", "at": "2026-01-10T15:00:00Z"},
    {"type": "enroll", "id": "e2", "member": "m2", "at": "2026-01-20T15:00:00Z"},
    {"type": "purchase", "id": "p1", "member": "m1", "at": "2026-02-01T15:00:00Z",
     "lines": [{"sku": "BEANS", "category": "coffee", "amount": "130.00"}]},
    {"type": "purchase", "id": "p2", "member": "m2", "at": "2026-02-10T15:00:00Z",
     "lines": [{"sku": "BEANS", "category": "coffee", "amount": "20.00"}]},
    {"type": "refund", "id": "r2", "member": "m2", "at": "2026-02-12T15:00:00Z",
     "purchase": "p2", "lines": [{"sku": "BEANS"}]},
    {"type": "purchase", "id": "p3", "member": "m1", "at": "2026-03-05T15:00:00Z",
     "lines": [{"sku": "CAKE", "category": "pastry", "amount": "10.00"}]},
    {"type": "redeem", "id": "x1", "member": "m1", "at": "2026-03-20T15:00:00Z",
     "reward": "free-drink"},
]
AS_OF = "2027-02-15T12:00:00Z"


def test_the_hand_computed_history(program: pointbook.Program) -> None:
    a = pointbook.analyze(program, HISTORY, as_of=AS_OF)
    s = a.summary
    assert (s["flows"]["issued"], s["net_issued"]) == (220, 200)
    assert (s["flows"]["redeemed"], s["flows"]["expired"]) == (150, 30)
    assert s["liability"] == Decimal("0.20")
    assert s["expected_breakage_rate"] == Decimal("0.1667")
    assert s["deferred_revenue"] == Decimal("0.17")
    assert s["average_order_value"] == Decimal("53.33")
    assert a.events == {"applied": 7, "duplicates": 0, "rejected": 0}
    periods = a.periods.to_pandas()
    assert len(periods) == 14
    feb = periods[periods["period"] == "2026-02"].iloc[0]
    assert (str(feb["start"]), str(feb["end"])) == ("2026-02-01", "2026-02-28")
    assert (feb["issued"], feb["reversed"], feb["available"]) == (150, 20, 180)
    assert feb["sales"] == Decimal("150.00")
    assert list(periods.columns) == [
        "period", "start", "end", "issued", "reversed", "forgiven", "written_off", "redeemed", "expired",
        "forfeited", "available", "pending", "held", "outstanding", "liability", "members",
        "enrolled", "forgotten", "tier_green", "tier_gold", "tier_ups", "tier_downs",
        "active_start", "active_end", "active_new", "retention_rate", "purchasers",
        "returning_purchasers", "repurchase_rate", "purchases", "purchase_frequency", "sales",
        "refunds", "discounts", "average_order_value",
    ]
    members = a.members.to_pylist()
    assert [m["member"] for m in members] == ["m1", "m2"]
    assert (members[0]["points_issued"], members[0]["segment"]) == (175, "loyal")
    assert members[1]["lifetime_value"] == Decimal("0")


def test_same_document_as_the_cli(program: pointbook.Program, cli: Path, tmp_path: Path) -> None:
    history = pointbook.generate(program, members=200, events=3000, seed=11)
    path = tmp_path / "history.jsonl"
    path.write_text(pointbook._native.generate_jsonl(program._native, 200, 3000, 11), encoding="utf-8")
    (tmp_path / "p.toml").write_text(program.source(), encoding="utf-8")
    out = subprocess.run(
        [str(cli), "analyze", "--program", str(tmp_path / "p.toml"), "--events", str(path),
         "--period", "quarter"],
        capture_output=True, text=True, check=True,
    )
    from_table = pointbook.analyze(program, history, period="quarter")
    assert from_table._native.to_json() == out.stdout.strip()
    # Dicts, JSON strings, pandas and polars give the same analysis.
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert pointbook.analyze(program, rows, period="quarter") == from_table
    assert pointbook.analyze(program, iter(path.read_text(encoding="utf-8").splitlines()),
                             period="quarter") == from_table
    assert pointbook.analyze(program, history.to_pandas(), period="quarter") == from_table


def test_compare_with_itself_and_with_a_variant(program: pointbook.Program, root: Path) -> None:
    history = pointbook.generate(program, members=300, events=6000, seed=3)
    same = pointbook.compare(program, program, history)
    assert same.is_identical
    assert same.members_changing_tier == 0 and same.most_affected.num_rows == 0
    variant = pointbook.Program.from_file(root / "examples/programs/bean-and-leaf-gold-250.toml")

    def stream() -> Iterator[Dict[str, Any]]:  # read once: compare must keep it
        yield from history.to_pylist()

    c = pointbook.compare(program, variant, stream(), top=5)
    assert not c.is_identical
    metrics = {r["metric"]: r for r in c.metrics.to_pylist()}
    issued = metrics["points_issued"]
    assert issued["delta"] == issued["b"] - issued["a"] > 0
    assert c.members_changing_tier == sum(c.tier_moves.column("members").to_pylist()) > 0
    assert c.most_affected.num_rows == 5
    deltas = [abs(d) for d in c.most_affected.column("delta").to_pylist()]
    assert deltas == sorted(deltas, reverse=True)
    # The same numbers as analysing each program alone.
    assert c.b == pointbook.analyze(variant, history)


def test_bad_options_and_types_are_typed_errors(program: pointbook.Program) -> None:
    with pytest.raises(pointbook.InvalidOptions, match="fortnight"):
        pointbook.analyze(program, HISTORY, period="fortnight")
    with pytest.raises(pointbook.InvalidOptions):
        pointbook.analyze(program, HISTORY, churn_percentile=0)
    with pytest.raises(pointbook.InvalidOptions, match="as_of"):
        pointbook.analyze(program, HISTORY, as_of="yesterday")
    with pytest.raises(TypeError):
        pointbook.analyze("bean-and-leaf.toml", HISTORY)  # type: ignore[arg-type]
    with pytest.raises(pointbook.InvalidEvent):
        pointbook.compare(program, program, HISTORY[0])
    # A bad row is counted, not fatal.
    a = pointbook.analyze(program, [*HISTORY, {"type": "purchase", "id": "bad"}], as_of=AS_OF)
    assert a.events["rejected"] == 1
    assert a.summary["net_issued"] == 200


def test_plots(program: pointbook.Program) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a = pointbook.analyze(program, pointbook.generate(program, members=100, events=2000, seed=5))
    fig, axes = plt.subplots(3, 1)
    assert a.plot_liability(axes[0]) is axes[0]
    assert len(axes[0].collections) == 3  # available, pending, held
    assert axes[0].get_ylabel() == "liability (USD)"
    top = sum(float(v) for v in a.periods.slice(a.periods.num_rows - 1)["liability"].to_pylist())
    assert abs(axes[0].get_ylim()[1] - top) / top < 0.2  # money, not points: the last stack's top
    points_axes = plt.subplots()[1]
    a.plot_liability(points_axes, unit="points")
    assert points_axes.get_ylabel() == "points outstanding"
    with pytest.raises(ValueError):
        a.plot_liability(unit="euros")
    a.plot_flows(axes[1])
    assert [line.get_label() for line in axes[1].lines] == ["issued", "redeemed", "expired"]
    a.plot_tier_mix(axes[2])
    assert len(axes[2].collections) == len(a.tiers)
    plt.close("all")
    assert isinstance(a.periods, pa.Table)

"""Replay a generated two-year history of Bean & Leaf, plot liability and tier mix over time,
and print a summary. Run: .venv/bin/python examples/python/liability_and_tiers.py [OUT_DIR]

Notebook-style: each step is a cell you could run on its own.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files, no display
import matplotlib.pyplot as plt  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402

import pointbook  # noqa: E402

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
out.mkdir(parents=True, exist_ok=True)

# %% The program and a synthetic history: 2,000 members, about 40,000 events over two years.
program = pointbook.Program.sample()
history = pointbook.generate(program, members=2000, events=40_000, seed=2026)
print(f"{history.num_rows:,} events for {pc.count_distinct(history['member']).as_py():,} members")

# %% Replay it (Rust core, GIL released).
result = pointbook.replay(program, history, progress=False)
rejected = pc.sum(result.outcomes["rejected"]).as_py()
print(f"replayed: {rejected} rejected")

# %% Liability over time: outstanding points (member accounts) at each month's end, from the
# postings. Points enter members' accounts from `issued` and leave to redeemed/expired/...
postings = result.postings
month = pc.strftime(postings["at"], format="%Y-%m")
member_accounts = pa.array(["available", "pending", "held"])
into = pc.is_in(postings["to_account"], member_accounts)
out_of = pc.is_in(postings["from_account"], member_accounts)
delta = pc.subtract(
    pc.if_else(into, postings["points"], 0), pc.if_else(out_of, postings["points"], 0)
)
by_month = (
    pa.table({"month": month, "delta": delta}).group_by("month").aggregate([("delta", "sum")]).sort_by("month")
)
months = by_month["month"].to_pylist()
outstanding = list(pc.cumulative_sum(by_month["delta_sum"]).to_pylist())
point_value = Decimal(program.to_dict()["point_value"])
liability = [float(Decimal(p) * point_value) for p in outstanding]

fig, ax = plt.subplots(figsize=(9, 4))
ax.plot(months, liability, marker="o")
ax.set_title("Outstanding points liability (USD)")
ax.set_ylabel("USD")
ax.tick_params(axis="x", rotation=60)
fig.tight_layout()
fig.savefig(out / "liability.png", dpi=100)

# %% Tier mix over time: every member starts green; TierChanged effects move them. Count the
# members per tier as of each month's end.
effects = result.effects.filter(pc.equal(result.effects["type"], "TierChanged"))
enrolled = result.outcomes.filter(
    pc.and_(pc.equal(result.outcomes["type"], "enroll"), pc.invert(result.outcomes["rejected"]))
)
steps = sorted(
    [(t.strftime("%Y-%m"), 0, m, "green") for t, m in zip(enrolled["at"].to_pylist(), enrolled["member"].to_pylist())]
    + [(t.strftime("%Y-%m"), 1, m, json.loads(d)["to"])
       for t, m, d in zip(effects["at"].to_pylist(), effects["member"].to_pylist(), effects["detail"].to_pylist())]
)
tier_of: dict = {}
mix: dict = {}
pending_steps = iter(steps)
step = next(pending_steps, None)
for month_key in months:  # every month of the history, carrying the mix forward
    while step is not None and step[0] <= month_key:
        tier_of[step[2]] = step[3]
        step = next(pending_steps, None)
    mix[month_key] = {t: sum(1 for v in tier_of.values() if v == t) for t in ("green", "gold")}
mix_months = months
fig, ax = plt.subplots(figsize=(9, 4))
ax.stackplot(mix_months, [mix[m]["green"] for m in mix_months], [mix[m]["gold"] for m in mix_months],
             labels=["green", "gold"])
ax.set_title("Tier mix (members)")
ax.legend(loc="upper left")
ax.tick_params(axis="x", rotation=60)
fig.tight_layout()
fig.savefig(out / "tier_mix.png", dpi=100)

# %% Summary.
totals = result.book.totals()
issued = -totals["issued"]
print(f"points issued {issued:,}, redeemed {totals['redeemed']:,}, expired {totals['expired']:,}")
print(f"breakage {100 * totals['expired'] / max(issued, 1):.1f}% of issued points expired")
print(f"liability at the end: USD {liability[-1]:,.2f} ({outstanding[-1]:,} points)")
final_mix = pc.value_counts(result.balances["tier"]).to_pylist()
final_mix_counts = {v["values"]: v["counts"] for v in final_mix}
print("tier mix at the end:", ", ".join(f"{v['values']} {v['counts']}" for v in final_mix))
print(f"plots: {out / 'liability.png'}, {out / 'tier_mix.png'}")
assert mix[mix_months[-1]] == {t: final_mix_counts.get(t, 0) for t in ('green', 'gold')}

"""What if gold were won at 250 points and earned +50%? Replay the same generated history under
Bean & Leaf and under the variant, print the side-by-side numbers, and plot both programs'
liability. Run: .venv/bin/python examples/python/what_if.py [OUT_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files, no display
import matplotlib.pyplot as plt  # noqa: E402

import pointbook  # noqa: E402

root = Path(__file__).resolve().parents[2]
out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
out.mkdir(parents=True, exist_ok=True)

# %% Two programs, one history (2,000 members, about 40,000 events over two years).
current = pointbook.Program.sample()
variant = pointbook.Program.from_file(root / "examples/programs/bean-and-leaf-gold-250.toml")
history = pointbook.generate(current, members=2000, events=40_000, seed=2026)

# %% Side by side: cost, liability, breakage, tier mix, who moves.
c = pointbook.compare(current, variant, history, top=5)
print(c.metrics.to_pandas().to_string(index=False))
print(c.tier_mix.to_pandas().to_string(index=False))
print(f"{c.members_changing_tier} members would end in another tier; most affected:")
print(c.most_affected.to_pandas().to_string(index=False))

# %% Member metrics of the current program: RFM segments and churn risk.
members = c.a.members.to_pandas()
print(members.groupby("segment", dropna=True).size().to_string())
at_risk = members[members["at_risk"]].head(3)
for _, m in at_risk.iterrows():
    print(f"{m['member']}: {m['churn_reason']}")

# %% Liability of both programs, and the current program's tier mix.
fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7))
for analysis in (c.a, c.b):
    p = analysis.periods.to_pydict()
    top.plot(p["start"], [float(v) for v in p["liability"]], label=analysis.program)
top.set_ylabel("liability (USD)")
top.legend(loc="upper left")
c.a.plot_tier_mix(bottom)
fig.tight_layout()
fig.savefig(out / "what_if.png", dpi=100)
print(f"wrote {out / 'what_if.png'}")

"""A nightly incremental ingest: each night, add the day's events to a durable store instead of
replaying the whole history again. Run it twice for the same day (a retried job) and nothing
is counted twice. Run: .venv/bin/python examples/python/nightly_ingest.py [STORE]
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

import pyarrow.compute as pc

import pointbook

store_path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "loyalty.pointbook")
program = pointbook.Program.sample()

# %% The history a data team would receive day by day (here: 500 members over 60 days).
history = pointbook.generate(program, members=500, events=8_000, seed=7, days=60)
start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)

# %% Every night: that day's events, one transaction per Arrow batch.
for night in range(60):
    day_start, day_end = start + dt.timedelta(days=night), start + dt.timedelta(days=night + 1)
    mask = pc.and_(pc.greater_equal(history["at"], day_start), pc.less(history["at"], day_end))
    day = history.filter(mask)
    with pointbook.Store(store_path, program) as store:
        result = store.apply_many(day)
        if night % 20 == 19:
            print(f"night {night + 1}: {result.accepted} events, journal at {store.journal_seq}")

# %% A retried night adds nothing: the store answers every event as a duplicate.
with pointbook.Store(store_path, program) as store:
    retried = store.apply_many(day)
    assert retried.accepted == 0 and retried.duplicates == day.num_rows - len(retried.rejected)
    book = store.book()
print(f"retried the last night: {retried.duplicates} duplicates, nothing applied twice")

# %% The store's book is the one a full replay builds.
assert book.digest() == pointbook.replay(program, history).book.digest()
balances = book.balances()
outstanding = sum(b.available + b.pending + b.held for b in balances)
print(f"{len(balances)} members; points outstanding: {outstanding}")

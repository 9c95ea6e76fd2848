"""`pointbook.replay` of a saved history, alone in its process, for paired timings and peak
memory (`farm-bench --vs`) of two builds of the wheel.

Run (after scripts/test.sh or bindings/python/test.sh made .venv):
    .venv/bin/python benches/python_replay_only.py HISTORY.arrow [OUT]
HISTORY.arrow is written first if missing (978,691 events: Bean & Leaf, 100,000 members,
seed 7). With OUT, the four output tables are written to OUT.<table>.arrow, to compare two
builds' output byte for byte (`cmp`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow.ipc as ipc

import pointbook


def main() -> None:
    history, out = Path(sys.argv[1]), (sys.argv[2] if len(sys.argv) > 2 else None)
    program = pointbook.Program.sample()
    if not history.exists():
        table = pointbook.generate(program, 100_000, 1_000_000, 7)
        with ipc.new_file(history, table.schema) as w:
            w.write_table(table)
    events = ipc.open_file(history).read_all()
    result = pointbook.replay(program, events)
    if out is not None:
        for name in ("balances", "outcomes", "postings", "effects"):
            table = getattr(result, name)
            with ipc.new_file(f"{out}.{name}.arrow", table.schema) as w:
                w.write_table(table.combine_chunks())


if __name__ == "__main__":
    main()

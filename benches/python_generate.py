"""pointbook.generate against the former JSON -> dicts -> Arrow path, in one process each.

Usage: .venv/bin/python benches/python_generate.py new|old EVENTS   (prints wall time and peak RSS)
"""
import json, sys, time, resource
import datetime as dt
import pyarrow as pa
import pointbook
p = pointbook.Program.sample()
n = int(sys.argv[2])
t = time.perf_counter()
if sys.argv[1] == "new":
    table = pointbook.generate(p, members=n // 20, events=n, seed=7)
else:
    text = pointbook._native.generate_jsonl(p._native, n // 20, n, 7)
    rows = [json.loads(l) for l in text.splitlines()]
    for row in rows:
        row["at"] = dt.datetime.fromisoformat(row["at"].replace("Z", "+00:00"))
        if "birthday" in row:
            row["birthday"] = dt.date.fromisoformat(row["birthday"])
    table = pa.Table.from_pylist(rows, schema=pointbook.EVENT_SCHEMA)
print(sys.argv[1], table.num_rows, f"{time.perf_counter() - t:.2f} s", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, "MiB")

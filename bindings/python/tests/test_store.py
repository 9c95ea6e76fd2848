"""The durable store through Python: the same book as a replay, resends known across
restarts, one writer, typed errors, and a process killed mid-ingest that resumes exactly."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest

import pointbook

ENROLL = {"type": "enroll", "id": "e1", "member": "m1", "at": "2026-01-10T15:00:00Z"}


@pytest.fixture
def history(program: pointbook.Program) -> pa.Table:
    return pointbook.generate(program, members=60, events=2_000, seed=9)


def test_a_store_holds_the_replayed_book_and_knows_resends_after_a_restart(
    tmp_path: Path, program: pointbook.Program, history: pa.Table
) -> None:
    path = tmp_path / "book.pointbook"
    expected = pointbook.replay(program, history).book.digest()
    half = history.num_rows // 2
    with pointbook.Store(path, program, snapshot_every=300) as store:
        first = store.apply_many(history.slice(0, half))
        assert first.accepted > 0 and first.duplicates == 0
    with pointbook.Store(path, program) as store:
        again = store.apply_many(history)  # the first half comes back as duplicates
        assert again.duplicates == first.accepted
        assert store.book().digest() == expected
        assert store.journal_seq == first.accepted + again.accepted
    # pandas and dicts read as Arrow does.
    for events in (history.to_pandas(), history.to_pylist()):
        with pointbook.Store(tmp_path / f"other-{type(events).__name__}.pointbook", program) as store:
            store.apply_many(events)
            assert store.book().digest() == expected


def test_rejections_raise_and_are_kept_for_the_operator(tmp_path: Path, program: pointbook.Program) -> None:
    path = tmp_path / "book.pointbook"
    with pointbook.Store(path, program) as store:
        store.apply(ENROLL)
        with pytest.raises(pointbook.UnknownMember):
            store.apply({**ENROLL, "type": "purchase", "id": "p1", "member": "ghost",
                         "lines": [{"sku": "A", "category": "coffee", "amount": "4.50"}]})
        batch = store.apply_many([ENROLL, {"type": "enroll", "id": "e2"}, {**ENROLL, "id": "e3", "member": "m3"}])
        assert (batch.accepted, batch.duplicates) == (1, 1)
        assert [(row, code) for row, code, _ in batch.rejected] == [(1, "invalid_event")]
    with sqlite3.connect(path) as db:
        codes = [code for (code,) in db.execute("SELECT code FROM rejected ORDER BY n")]
        entries = db.execute("SELECT count(*) FROM journal").fetchone()[0]
    assert codes == ["unknown_member", "invalid_event"]
    assert entries == 2


def test_one_writer_typed_errors_and_a_closed_store(tmp_path: Path, program: pointbook.Program) -> None:
    path = tmp_path / "book.pointbook"
    store = pointbook.Store(path, program)
    with pytest.raises(pointbook.StoreLocked):
        pointbook.Store(path, program)
    store.close()
    store.close()
    with pytest.raises(pointbook.StoreError):
        store.apply(ENROLL)
    northwind = pointbook.Program.from_file(Path(__file__).resolve().parents[3] / "examples/programs/northwind-retail.toml")
    with pytest.raises(pointbook.ProgramMismatch):
        pointbook.Store(path, northwind)
    text = tmp_path / "notes.txt"
    text.write_text("these are not the droids " * 200)
    with pytest.raises(pointbook.NotAStore):
        pointbook.Store(text, program)
    with pytest.raises(TypeError):
        pointbook.Store(42, program)  # type: ignore[arg-type]
    with pytest.raises(pointbook.InvalidOptions):
        pointbook.Store(tmp_path / "x.pointbook", program, durability="sometimes")
    with pytest.raises(pointbook.InvalidEvent):
        with pointbook.Store(tmp_path / "y.pointbook", program) as s:
            s.apply_many(ENROLL)


INGEST = """
import sys, pointbook
program = pointbook.Program.sample()
history = pointbook.generate(program, members=60, events=2_000, seed=9)
with pointbook.Store(sys.argv[1], program, snapshot_every=250) as store:
    for start in range(0, history.num_rows, 50):
        store.apply_many(history.slice(start, 50))
        print(store.journal_seq, flush=True)
"""


def test_a_killed_ingest_resumes_to_the_replayed_book(
    tmp_path: Path, program: pointbook.Program, history: pa.Table
) -> None:
    path = tmp_path / "book.pointbook"
    expected = pointbook.replay(program, history).book.digest()
    for delay in (0.3, 0.5, 0.7, 0.9, 1.1):
        child = subprocess.Popen([sys.executable, "-c", INGEST, str(path)], stdout=subprocess.PIPE, text=True)
        time.sleep(delay)
        os.kill(child.pid, signal.SIGKILL)
        out, _ = child.communicate()
        acknowledged = max((int(line) for line in out.split()), default=0)
        with pointbook.Store(path, program) as store:
            assert store.journal_seq >= acknowledged
    with pointbook.Store(path, program) as store:
        store.apply_many(history)
        assert store.book().digest() == expected

"""replay: Arrow, pandas, polars and dicts give identical results, equal to the CLI's."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import pointbook


@pytest.fixture(scope="module")
def history() -> pa.Table:
    return pointbook.generate(pointbook.Program.sample(), members=60, events=3000, seed=11)


def _rows(table: pa.Table) -> list:
    return table.to_pylist()


def test_generate_is_deterministic(history: pa.Table) -> None:
    again = pointbook.generate(pointbook.Program.sample(), members=60, events=3000, seed=11)
    assert again.equals(history)
    assert history.schema == pointbook.EVENT_SCHEMA
    assert 2700 < history.num_rows < 3300


def test_generate_builds_the_rows_the_json_lines_hold(program: pointbook.Program) -> None:
    """The table built in Rust holds, row for row, the events of the CLI's JSON Lines: every
    field where the wire has it, null where the wire leaves it out."""
    import datetime as dt

    table = pointbook.generate(program, members=80, events=4000, seed=3)
    text = pointbook._native.generate_jsonl(program._native, 80, 4000, 3)
    rows = [json.loads(line) for line in text.splitlines()]
    for row in rows:
        row["at"] = dt.datetime.fromisoformat(row["at"].replace("Z", "+00:00"))
        if "birthday" in row:
            row["birthday"] = dt.date.fromisoformat(row["birthday"])
    expected = pa.Table.from_pylist(rows, schema=pointbook.EVENT_SCHEMA)
    assert table.schema == pointbook.EVENT_SCHEMA
    assert table.equals(expected)
    kinds = set(table["type"].to_pylist())
    assert {"enroll", "purchase", "refund", "redeem", "advance"} <= kinds
    assert table["birthday"].null_count < table.num_rows  # some birthdays, some not


def test_arrow_pandas_polars_and_dicts_agree(program: pointbook.Program, history: pa.Table) -> None:
    polars = pytest.importorskip("polars")
    pytest.importorskip("pandas")
    arrow = pointbook.replay(program, history)
    assert arrow.outcomes["rejected"].to_pylist().count(True) == 0
    inputs = {
        "reader": pa.RecordBatchReader.from_batches(history.schema, history.to_batches(max_chunksize=500)),
        "pandas": history.to_pandas(),
        "polars": polars.from_arrow(history),
        "dicts": history.to_pylist(),
        "progress": history,
    }
    for name, data in inputs.items():
        other = pointbook.replay(program, data, progress=(name == "progress"))
        assert other.book.digest() == arrow.book.digest(), name
        assert _rows(other.balances) == _rows(arrow.balances), name
        assert _rows(other.postings) == _rows(arrow.postings), name


def test_replay_equals_applying_one_by_one(program: pointbook.Program, history: pa.Table) -> None:
    result = pointbook.replay(program, history)
    book = pointbook.Book(program)
    for event in history.to_pylist():
        event = {k: v for k, v in event.items() if v is not None}
        for line in event.get("lines") or []:
            for k in [k for k, v in line.items() if v is None]:
                del line[k]
        book.apply(event)
    assert book.digest() == result.book.digest()
    assert [b.to_dict() for b in book.balances()][0]["member"] == result.balances["member"][0].as_py()


def test_a_long_replay_read_and_written_on_every_core_keeps_event_order(program: pointbook.Program) -> None:
    # Over 16,384 rows per core: the table is read in runs on several threads, and the rows are
    # written on a thread of their own in record batches of 16,384 events; the tables must
    # still list every event and posting in history order.
    history = pointbook.generate(program, members=800, events=40000, seed=2)
    assert history.num_rows > 2 * 16384
    result = pointbook.replay(program, history)
    assert [b.num_rows for b in result.outcomes.to_batches()][:2] == [16384, 16384]
    assert result.outcomes["index"].to_pylist() == list(range(history.num_rows))
    assert result.outcomes["event"].to_pylist() == history["id"].to_pylist()
    book = pointbook.Book(program)
    points, posting_events = [], []
    for event in history.to_pylist():
        event = {k: v for k, v in event.items() if v is not None}
        for line in event.get("lines") or []:
            for k in [k for k, v in line.items() if v is None]:
                del line[k]
        try:
            outcome = book.apply(event)
        except pointbook.PointbookError:
            points.append(0)
            continue
        points.append(outcome.points)
        posting_events += [outcome.event] * (0 if outcome.duplicate else len(outcome.postings))
    assert result.outcomes["points"].to_pylist() == points
    assert result.postings["event"].to_pylist() == posting_events
    assert book.digest() == result.book.digest()


def test_same_bytes_as_the_cli(program: pointbook.Program, root: Path, cli: Path) -> None:
    events = root / "examples/events/bean-and-leaf.jsonl"
    out = subprocess.run(
        [cli, "replay", "--program", root / "examples/programs/bean-and-leaf.toml", "--events", events],
        check=True, capture_output=True, text=True,
    ).stdout.splitlines()
    book = pointbook.Book(program)
    for line, text in zip(events.read_text().splitlines(), out):
        expected = json.loads(text)
        try:
            got = book.apply(line).to_dict()
            # Built from the core's values, not parsed from its JSON: the same keys, in the
            # same order, with the same values, byte for byte.
            assert json.dumps(got, separators=(",", ":"), ensure_ascii=False) == text
        except pointbook.PointbookError as e:
            got = {"id": json.loads(line)["id"], "line": expected.get("line"),
                   "error": {"code": e.code, "message": str(e)}}
        assert got == expected
    balances = subprocess.run(
        [cli, "balances", "--program", root / "examples/programs/bean-and-leaf.toml", "--events", events],
        check=True, capture_output=True, text=True,
    ).stdout.strip().strip("[]").strip().split(",\n")
    assert [json.dumps(b.to_dict(), separators=(",", ":")) for b in book.balances()] == balances
    demo = json.loads(subprocess.run([cli, "demo", "--members", "40", "--events", "900", "--seed", "5", "--json"],
                                     check=True, capture_output=True, text=True).stdout)
    history = pointbook.generate(program, members=40, events=900, seed=5)
    assert pointbook.replay(program, history).book.digest() == demo["digest"]


def test_rejected_rows_do_not_stop_a_replay(program: pointbook.Program) -> None:
    events = [
        {"type": "enroll", "id": "e1", "member": "m1", "at": "2026-01-10T15:00:00Z"},
        {"type": "purchase", "id": "p1", "member": "m9", "at": "2026-01-11T15:00:00Z",
         "lines": [{"sku": "A", "category": "coffee", "amount": "1.00"}]},
        '{"type":"purchase","id":"p2"',
        {"type": "enroll", "id": "e1", "member": "m1", "at": "2026-01-10T15:00:00Z"},
    ]
    result = pointbook.replay(program, events)
    rows = result.outcomes.select(["event", "rejected", "duplicate", "error_code", "points"]).to_pylist()
    assert rows == [
        {"event": "e1", "rejected": False, "duplicate": False, "error_code": None, "points": 25},
        {"event": "p1", "rejected": True, "duplicate": False, "error_code": "unknown_member", "points": 0},
        {"event": None, "rejected": True, "duplicate": False, "error_code": "invalid_event", "points": 0},
        {"event": "e1", "rejected": False, "duplicate": True, "error_code": None, "points": 25},
    ]
    assert result.postings.num_rows == 1
    assert result.effects.select(["event", "type", "member"]).to_pylist() == [
        {"event": "e1", "type": "BonusAwarded", "member": "m1"}
    ]
    assert json.loads(result.effects["detail"][0].as_py())["bonus"] == "signup"


def test_unusable_tables_are_refused_clearly(program: pointbook.Program) -> None:
    naive = pa.table({"type": ["advance"], "id": ["t"], "at": pa.array([0], pa.timestamp("us"))})
    with pytest.raises(pointbook.InvalidEvent, match="timezone-naive timestamps are ambiguous"):
        pointbook.replay(program, naive)
    with pytest.raises(pointbook.InvalidEvent, match="unknown column colour"):
        pointbook.replay(program, pa.table({"type": ["advance"], "colour": ["red"]}))
    floats = pa.table({
        "type": ["purchase"], "id": ["p"], "member": ["m"], "at": ["2026-01-01T00:00:00Z"],
        "lines": pa.array([[{"sku": "A", "amount": 1.5}]]),
    })
    with pytest.raises(pointbook.InvalidEvent, match="binary float"):
        pointbook.replay(program, floats)
    halves = pa.table({"type": ["adjust"], "id": ["a"], "member": ["m"], "at": ["2026-01-01T00:00:00Z"],
                       "points": [1.5], "reason": ["x"]})
    with pytest.raises(pointbook.InvalidEvent, match="column points: 1.5 is not a whole number"):
        pointbook.replay(program, halves)
    stray = pa.table({"type": ["advance"], "id": ["t"], "at": ["2026-01-01T00:00:00Z"], "reward": ["mug"]})
    result = pointbook.replay(program, stray)
    assert result.outcomes["error_message"][0].as_py() == "event t: field reward does not belong to a advance event"


def test_decimal_amounts_and_large_strings_are_read(program: pointbook.Program) -> None:
    line = pa.struct([("sku", pa.large_string()), ("category", pa.string()),
                      ("amount", pa.decimal128(10, 2)), ("quantity", pa.int32())])
    import decimal

    table = pa.table({
        "type": pa.array(["enroll", "purchase"], pa.large_string()),
        "id": ["e1", "p1"], "member": ["m1", "m1"],
        "at": pa.array([1767970800000, 1773495000000], pa.timestamp("ms", tz="America/New_York")),
        "lines": pa.array([None, [{"sku": "LATTE", "category": "coffee", "amount": decimal.Decimal("4.75"), "quantity": 1},
                                  {"sku": "CROISSANT", "category": "pastry", "amount": decimal.Decimal("3.50"), "quantity": 1}]],
                          pa.list_(line)),
    })
    result = pointbook.replay(program, table)
    assert result.outcomes["points"].to_pylist() == [25, 11]


def test_the_progress_bar_moves_as_events_are_applied(
    program: pointbook.Program, history: pa.Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table of one record batch is applied a chunk at a time: the bar moves with the work,
    not once at the end."""

    class Bar:
        steps: list = []

        def update(self, n: int) -> None:
            self.steps.append(n)

        def close(self) -> None:
            pass

    one_batch = history.combine_chunks()
    assert len(one_batch.to_batches()) == 1
    monkeypatch.setattr(pointbook, "_progress_bar", lambda enabled, total: Bar())
    result = pointbook.replay(program, one_batch, progress=True, chunk_size=1000)
    n = history.num_rows
    assert Bar.steps == [min(1000, n - start) for start in range(0, n, 1000)]
    assert result.book.digest() == pointbook.replay(program, history).book.digest()


def test_a_replayer_goes_on_after_its_tables(program: pointbook.Program, history: pa.Table) -> None:
    whole = pointbook.replay(program, history)
    replayer = pointbook._native.Replayer(program._native)
    half = history.num_rows // 2
    replayer.feed_arrow(history.slice(0, half))
    _, first, _, _ = replayer.tables()
    assert pa.table(first).num_rows == half
    replayer.feed_arrow(history.slice(half))
    balances, outcomes, postings, _ = (pa.table(t) for t in replayer.tables())
    assert outcomes["index"].to_pylist() == list(range(history.num_rows))
    assert _rows(outcomes) == _rows(whole.outcomes)
    assert _rows(postings) == _rows(whole.postings)
    assert _rows(balances) == _rows(whole.balances)


@pytest.mark.parametrize("size", [0, -5, 2.5, True])
def test_a_chunk_size_must_be_a_positive_integer(program: pointbook.Program, history: pa.Table, size: object) -> None:
    with pytest.raises(pointbook.InvalidOptions, match="chunk_size must be a positive integer"):
        pointbook.replay(program, history, chunk_size=size)  # type: ignore[arg-type]


def test_the_progress_bar_knows_how_many_rows_a_polars_frame_has(
    program: pointbook.Program, history: pa.Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    polars = pytest.importorskip("polars")
    totals: list = []
    monkeypatch.setattr(pointbook, "_progress_bar", lambda enabled, total: totals.append(total))
    pointbook.replay(program, polars.from_arrow(history), progress=True)
    pointbook.replay(program, history, progress=True)
    assert totals == [history.num_rows, history.num_rows]


def test_to_pandas_keeps_nullable_integers_and_booleans(program: pointbook.Program, history: pa.Table) -> None:
    pd = pytest.importorskip("pandas")
    assert history.to_pandas()["points"].dtype == "float64"  # what pyarrow alone gives
    frame = pointbook.to_pandas(history)
    assert str(frame["points"].dtype) == "Int64"
    assert str(frame["hold"].dtype) == "boolean"
    transfers = history.filter(pc.equal(history["type"], "transfer"))["points"].to_pylist()
    assert transfers and all(isinstance(p, int) for p in transfers)
    assert frame[frame["type"] == "transfer"]["points"].tolist() == transfers  # whole numbers, not floats
    assert frame[frame["type"] == "enroll"]["points"].isna().all()
    assert frame["points"].isna().sum() == history["points"].null_count
    assert pointbook.replay(program, frame).book.digest() == pointbook.replay(program, history).book.digest()
    outcomes = pointbook.to_pandas(pointbook.replay(program, history).outcomes)
    assert str(outcomes["points"].dtype) == "Int64" and str(outcomes["index"].dtype) == "UInt64"
    assert pd.api.types.is_datetime64_any_dtype(outcomes["at"])

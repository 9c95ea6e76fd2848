"""Replaying on Spark: the same balances as :func:`pointbook.replay`, computed in parallel.

Members are independent, except where an event names two of them: a ``transfer`` (sender and
receiver) and an ``enroll`` with ``referred_by`` (the referee's first purchase credits the
referrer). The recipe therefore partitions by *linked group*, not by member:

1. The few linking events are collected on the driver and joined into groups (union-find);
   every other member is a group of its own.
2. ``advance`` events name no member: they are copied into every group, so every group's
   clock moves as the whole book's does; after its replay each group is advanced to the
   history's last instant, as the single book's balances are read at its clock.
3. ``groupBy(group).applyInArrow`` replays each group's events in time order (ties in input
   order, so a shuffled DataFrame replays the same) with
   :func:`pointbook.replay` (the Rust core, GIL released) and returns its balances.

What cannot be split: a reward with a global ``stock`` couples every member (the stock is
shared), so programs with stock-limited rewards are refused unless ``allow_stock=True``, which
applies the stock per group. Lateness of ``enroll`` and ``advance`` is judged against the
group's clock, not the whole book's: for a history in time order (as :func:`generate` and
most exports are) this changes nothing.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Dict, List

import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)

from . import PointbookError, Program, replay

BALANCE_SCHEMA = pa.schema(
    [("member", pa.string()), ("tier", pa.string()), ("available", pa.int64()),
     ("pending", pa.int64()), ("held", pa.int64()), ("debt", pa.int64()),
     ("open_lots", pa.int64())]
)
_SPARK_BALANCE_SCHEMA = (
    "member string, tier string, available long, pending long, held long, debt long, open_lots long"
)


def _groups(links: List[Any]) -> Dict[str, str]:
    parent: Dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in links:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {m: find(m) for m in parent}


def replay_on_spark(program: Program, events: Any, *, allow_stock: bool = False) -> Any:
    """Replays a Spark DataFrame of events (columns of :data:`pointbook.EVENT_SCHEMA`) and
    returns a Spark DataFrame of balances, one row per member, equal to
    ``pointbook.replay(program, events).balances`` for a history in time order. The workers
    need the pointbook wheel installed (as for any Python UDF)."""
    from pyspark.sql import functions as F

    if not allow_stock and any("stock" in r for r in program.to_dict().get("rewards", [])):
        raise ValueError(
            "a reward with a global stock couples every member; replay on one machine, or pass "
            "allow_stock=True to apply the stock per group"
        )
    spark = events.sparkSession
    events = events.withColumn("_seq", F.monotonically_increasing_id())
    cols = set(events.columns)
    link_cols = [c for c in ("to", "referred_by") if c in cols]
    links: List[Any] = []
    for c in link_cols:
        links += [(r[0], r[1]) for r in events.where(F.col(c).isNotNull()).select("member", c).collect()]
    group_of = _groups(links)
    # The history's last instant, exactly (driver-side datetimes from Spark are naive local).
    last = events.agg(F.max(F.unix_micros(F.col("at").cast("timestamp")))).collect()[0][0]
    groups_df = spark.createDataFrame(
        [(m, g) for m, g in group_of.items()] or [("", "")], "member string, _group string"
    )
    members = (
        events.where(F.col("member").isNotNull())
        .join(groups_df, on="member", how="left")
        .withColumn("_group", F.coalesce(F.col("_group"), F.col("member")))
    )
    all_groups = members.select("_group").distinct()
    ticks = events.where(F.col("member").isNull()).crossJoin(all_groups)
    partitioned = members.unionByName(ticks.select(*members.columns))
    program_text = program.source()
    is_json = program_text.lstrip().startswith("{")
    last_instant = (
        None
        if last is None
        else _dt.datetime.fromtimestamp(last / 1e6, tz=_dt.timezone.utc).isoformat().replace("+00:00", "Z")
    )

    def replay_group(table: pa.Table) -> pa.Table:
        prog = Program.from_json(program_text) if is_json else Program.from_toml(program_text)
        at = table.column("at")
        if not pa.types.is_timestamp(at.type):  # RFC 3339 strings
            at = pa.compute.cast(at, pa.timestamp("us", tz="UTC"))
        ordered = (
            table.append_column("_at", at)
            .sort_by([("_at", "ascending"), ("_seq", "ascending")])
            .drop_columns(["_at", "_seq", "_group"])
        )
        result = replay(prog, ordered)
        book = result.book
        if last_instant is not None:
            try:
                book.advance(last_instant)  # balances are read at the whole book's clock
            except PointbookError:
                pass  # the group's clock is already there
        rows = [b.to_dict() for b in book.balances()]
        fields = ("member", "tier", "available", "pending", "held", "debt")
        return pa.Table.from_pylist(
            [dict({k: r[k] for k in fields}, open_lots=len(r["lots"])) for r in rows],
            schema=BALANCE_SCHEMA,
        )

    return partitioned.groupBy("_group").applyInArrow(replay_group, _SPARK_BALANCE_SCHEMA)

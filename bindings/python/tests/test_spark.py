"""The Spark recipe, in local mode, gives the same balances as a single-machine replay."""

from __future__ import annotations

import pyarrow as pa
import pytest

import pointbook

pyspark = pytest.importorskip("pyspark", reason="install pyspark (and Java) for the Spark recipe")


@pytest.fixture(scope="module")
def spark():  # type: ignore[no-untyped-def]
    import os

    from pyspark.sql import SparkSession

    import sys

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # loopback only
    os.environ["PYSPARK_PYTHON"] = sys.executable  # workers need the pointbook wheel too

    session = (
        SparkSession.builder.master("local[2]")
        .appName("pointbook-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_spark_replay_equals_single_machine(spark) -> None:  # type: ignore[no-untyped-def]
    from pointbook.spark import replay_on_spark

    program = pointbook.Program.sample()
    history = pointbook.generate(program, members=150, events=4000, seed=21)
    kinds = history["type"].to_pylist()
    assert "transfer" in kinds and "advance" in kinds
    assert any(history["referred_by"].to_pylist()), "the history must have referrals"
    single = pointbook.replay(program, history).balances.sort_by("member")
    frame = spark.createDataFrame(history).repartition(3)
    on_spark = replay_on_spark(program, frame).toArrow().sort_by("member")
    assert on_spark.cast(single.schema).equals(single)


def test_programs_with_global_stock_are_refused(spark) -> None:  # type: ignore[no-untyped-def]
    from pointbook.spark import replay_on_spark

    text = pointbook.Program.sample().source().replace('cost = 150', 'cost = 150\nstock = 10', 1)
    program = pointbook.Program.from_toml(text)
    frame = spark.createDataFrame(pa.table({"type": ["advance"], "id": ["t"], "at": ["2026-01-01T00:00:00Z"]}))
    with pytest.raises(ValueError, match="global stock"):
        replay_on_spark(program, frame)

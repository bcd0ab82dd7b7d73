"""A plan that knows its schema answers ``collect_schema()`` at once, and keeps it when copied."""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable

import polars as pl
from polars.testing import assert_frame_equal

from pipeline_lab.frames import columns, isolated, to_lazy, with_schema

FRAME = pl.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})


def deep(depth: int) -> pl.LazyFrame:
    plan = FRAME.lazy()
    for i in range(depth):
        plan = plan.filter(pl.col("a") >= i % 2)
    return plan


def seconds(call: Callable[[], object], times: int = 3) -> float:
    start = time.perf_counter()
    for _ in range(times):
        call()
    return time.perf_counter() - start


def test_the_schema_is_answered_without_resolving_the_plan() -> None:
    schema = deep(3000).collect_schema()
    known = with_schema(deep(3000), schema)
    assert known.collect_schema() == schema
    assert columns(known) == ["a", "b"]
    # polars walks the 3,000 filters of each new plan; the known schema is at hand.
    assert seconds(known.collect_schema) < seconds(lambda: deep(3000).collect_schema()) / 20


def test_it_is_the_same_plan() -> None:
    known = with_schema(deep(3), deep(3).collect_schema())
    assert isinstance(known, pl.LazyFrame) and to_lazy(known) is known
    assert type(known).__name__ == "LazyFrame"  # as run summaries and reprs name it
    assert_frame_equal(known.collect(), deep(3).collect())
    assert known.explain() == deep(3).explain()


def test_derived_plans_resolve_their_own_schema() -> None:
    known = with_schema(FRAME.lazy(), FRAME.schema)
    derived = known.with_columns(c=pl.col("a") * 2).join(FRAME.lazy(), on="a").select("c", "b")
    assert derived.collect_schema() == pl.Schema({"c": pl.Int64, "b": pl.String})
    assert derived.collect().columns == ["c", "b"]


def test_isolated_and_pickled_copies_keep_the_schema() -> None:
    schema = deep(3000).collect_schema()
    known = with_schema(deep(3000), schema)
    resolving = seconds(lambda: deep(3000).collect_schema())
    for copy in (isolated(known), pickle.loads(pickle.dumps(known))):
        assert copy is not known and type(copy) is type(known)
        assert copy.collect_schema() == schema
        assert seconds(copy.collect_schema) < resolving / 20
        assert_frame_equal(copy.collect(), known.collect())

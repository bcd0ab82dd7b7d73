"""Deep chains of components build in linear time: each node's schema is known, not resolved."""

from __future__ import annotations

import time
from typing import Any

import polars as pl
from polars.testing import assert_frame_equal

from pipeline_lab import Node, Pipeline
from pipeline_lab.components import get_component

FRAME = pl.DataFrame({"a": list(range(100)), "b": [str(i % 7) for i in range(100)]})
CYCLE = [
    ("filter", {"condition": "a >= 0"}),
    ("derive", {"columns": {"c": "a + 1", "d": "c * 2"}}),
    ("cast", {"columns": {"c": "int32", "b": "int64"}, "strict": False}),
    ("window", {"columns": {"r": {"function": "row_number", "order_by": "a"}}}),
    ("sort", {"by": "a"}),
    ("select", {"columns": ["a", "b", "c", "r"]}),
    ("sql", {"query": "SELECT a, b, c, r FROM prev WHERE a < 1000"}),
    ("union", {"inputs": ["prev"]}),
]
COMPONENTS = [
    get_component(kind)({"inputs" if kind == "union" else "input": "prev", **params}, node="n")
    if kind != "sql"
    else get_component(kind)(params, node="n")
    for kind, params in CYCLE
]


def chain(plan: pl.LazyFrame, depth: int) -> pl.LazyFrame:
    for i in range(depth):
        plan = COMPONENTS[i % len(COMPONENTS)].build({"prev": plan})
    return plan


def seconds_per_node(plan: pl.LazyFrame, nodes: int = 48) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        chain(plan, nodes)
        best = min(best, time.perf_counter() - start)
    return best / nodes


def test_building_a_node_costs_the_same_at_any_depth() -> None:
    """Resolving each new plan's schema made node n cost O(n): a chain of 2,000 filters took
    82 s. At depth 1,200 a node must build about as fast as at depth 0 (it was ~200x slower)."""
    shallow = seconds_per_node(FRAME.lazy())
    deep = chain(FRAME.lazy(), 1200)
    assert seconds_per_node(deep) < 4 * shallow


def test_a_deep_chain_knows_the_schema_polars_resolves() -> None:
    deep = chain(FRAME.lazy(), 160)
    collected = deep.collect()
    resolved = deep.select(pl.all()).collect_schema()  # a new plan: polars resolves it
    assert deep.collect_schema() == collected.schema == resolved
    assert collected.columns == ["a", "b", "c", "r"] and collected.height == 100
    assert collected["c"].to_list() == list(range(1, 101))


def test_a_500_deep_chain_runs_as_one_plan() -> None:
    pipeline = Pipeline("deep")
    pipeline.add(Node.from_function(lambda: FRAME, name="n0"))
    for i in range(1, 501):
        condition = f"a >= {i // 10}"
        pipeline.add(
            Node(f"n{i}", component="filter", params={"input": f"n{i - 1}", "condition": condition})
        )
    result = pipeline.run(hooks=[], executor="sequential")
    assert result.ok
    assert all(isinstance(result.outputs[f"n{i}"], pl.LazyFrame) for i in range(1, 500))
    assert_frame_equal(result.outputs["n500"], FRAME.filter(pl.col("a") >= 50))


def test_a_source_plan_is_left_to_polars(tmp_path: Any) -> None:
    """A source has no inputs: its schema is the data's, which polars reads when asked."""
    path = tmp_path / "data.csv"
    FRAME.write_csv(path)
    plan = get_component("read_csv")({"path": str(path)}).build({})
    assert type(plan) is pl.LazyFrame
    assert plan.collect_schema() == pl.read_csv(path).schema

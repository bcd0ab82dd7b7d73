"""Strict checks run as native polars inside the plan and raise after it is collected."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipeline_lab import Node, Pipeline
from pipeline_lab.components import ComponentError, get_component

RAW = pl.DataFrame({"n": ["1", "x", None, "2"], "s": ["a", None, "b", "c"]})

CHECKED = [
    pytest.param("cast", {"columns": {"n": "int64"}}, "'n': 1 of 3", id="cast-strict"),
    pytest.param("schema", {"columns": {"n": "int64"}}, "'n' -> int64: 1 of 3", id="schema-strict"),
    pytest.param(
        "schema",
        {"columns": {"s": {"type": "string", "nullable": False}}, "mode": "lenient"},
        "'s' -> string is not nullable but has 1 null",
        id="schema-not-nullable",
    ),
]


def make(kind: str, params: dict[str, Any]) -> Any:
    return get_component(kind)({"input": "raw", **params}, node="typed")


@pytest.mark.parametrize(("kind", "params", "words"), CHECKED)
def test_a_check_runs_no_python_in_the_plan(kind: str, params: dict[str, Any], words: str) -> None:
    component = make(kind, params)
    plan = component.build({"raw": RAW})
    assert "python" not in plan.explain().lower()  # no map_batches, no Python UDF
    assert component.must_collect  # so the engine reads its verdict where it is
    collected = plan.collect()
    with pytest.raises(ComponentError, match=words) as caught:
        component.finish(collected)
    assert caught.value.node == "typed"


@pytest.mark.parametrize(("kind", "params", "words"), CHECKED)
def test_finish_drops_the_hidden_columns(kind: str, params: dict[str, Any], words: str) -> None:
    component = make(kind, params)
    clean = RAW.filter(pl.col("n") != "x").fill_null("z")
    assert component.run({"raw": clean}).columns == ["n", "s"]


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        pytest.param("cast", {"columns": {"n": "int64"}, "strict": False}, id="cast-lenient"),
        pytest.param("schema", {"columns": {"n": "int64"}, "mode": "lenient"}, id="schema-lenient"),
        pytest.param("filter", {"condition": "n IS NOT NULL"}, id="filter"),
    ],
)
def test_components_without_a_check_fuse_downstream(kind: str, params: dict[str, Any]) -> None:
    component = make(kind, params)
    assert not component.must_collect
    assert component.build({"raw": RAW}).collect().columns == ["n", "s"]


def test_a_plan_built_over_an_unfinished_check_does_not_see_its_hidden_columns() -> None:
    """As ``Pipeline.explain`` builds a whole chain: downstream never reads the counts."""
    upstream = make("schema", {"columns": {"n": "int64"}}).build({"raw": RAW})
    down = get_component("select")({"input": "typed", "columns": ["n", "s"]}).build(
        {"typed": upstream}
    )
    assert down.collect_schema().names() == ["n", "s"]
    derive = get_component("derive")({"input": "typed", "columns": {"m": "n * 2"}})
    assert derive.build({"typed": upstream}).collect().columns == ["n", "s", "m"]


def test_a_strict_schema_read_by_parallel_nodes_never_hangs(tmp_path: Path) -> None:
    """read_csv -> strict schema -> window and sql in parallel on threads hung about every
    other run, when the schema's check was a Python step inside the plan that both parallel
    plans ran (a GIL/lock deadlock in polars). 50 runs in a child process, with a deadline."""
    data = tmp_path / "data.csv"
    pl.DataFrame(
        {
            "id": [str(i) for i in range(20_000)],
            "g": [str(i % 7) for i in range(20_000)],
            "v": [f"{i * 0.5}" for i in range(20_000)],
        }
    ).write_csv(data)
    script = textwrap.dedent(
        f"""
        from pipeline_lab import Node, Pipeline

        p = Pipeline("parallel")
        p.add(Node("raw", component="read_csv", params={{"path": {str(data)!r},
                                                        "infer_schema_length": 0}}))
        p.add(Node("typed", component="schema", params={{"input": "raw", "columns":
            {{"id": "int64", "g": "int32", "v": "float64"}}}}))
        p.add(Node("ranked", component="window", params={{"input": "typed", "columns":
            {{"r": {{"function": "row_number", "partition_by": "g", "order_by": "v"}}}}}}))
        p.add(Node("q", component="sql", params={{"query":
            "SELECT g, sum(v) AS s FROM typed GROUP BY g"}}))
        for _ in range(50):
            result = p.run(hooks=[], executor="threads")
            assert result.ok, {{n: r.error for n, r in result.node_runs.items()}}
        """
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=90
        )
    except subprocess.TimeoutExpired:
        pytest.fail("a run of read_csv -> schema -> (window, sql) on threads hung")
    assert done.returncode == 0, done.stderr


def test_a_failing_check_fails_its_node_and_skips_what_reads_it() -> None:
    pipeline = Pipeline("checked")
    pipeline.add(Node.from_function(lambda: RAW, name="raw"))
    pipeline.add(Node("typed", component="cast", params={"input": "raw", "columns": {"n": "int"}}))
    for name in ("a", "b"):
        pipeline.add(
            Node(name, component="filter", params={"input": "typed", "condition": "n > 0"})
        )
    result = pipeline.run(hooks=[], executor="threads")
    assert result.node_runs["typed"].status.value == "failed"
    assert "cast: column 'n': 1 of 3 non-null values" in (result.node_runs["typed"].error or "")
    assert {result.node_runs[n].status.value for n in ("a", "b")} == {"skipped"}

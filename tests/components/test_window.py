"""window: functions within partitions, pasted code, bad input, and as a pipeline node."""

from __future__ import annotations

from typing import Any

import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline_lab.components import ComponentError, get_component
from pipeline_lab.graph import Node, Pipeline

# Rows are out of order on purpose: results come back in input order.
SCORES = pl.DataFrame(
    {
        "équipe": ["a", "a", "a", "b", "b", None],
        "jour": [3, 1, None, 2, 2, 1],
        "points": [10, 20, 30, 40, None, 60],
    }
)


def make(params: dict[str, Any]) -> Any:
    return get_component("window")(params, node="out")


def one(spec: dict[str, Any]) -> dict[str, Any]:
    return {"input": "s", "columns": {"w": spec}}


BY_TEAM_DAY = {"partition_by": "équipe", "order_by": "jour"}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # équipe a in day order: 1 (20), 3 (10), null (30); b: 2 (40), 2 (null); null: 1 (60)
        pytest.param(
            {"function": "rank", **BY_TEAM_DAY}, [2, 1, 3, 1, 1, 1], id="rank-ties-nulls-last"
        ),
        pytest.param(
            {"function": "rank", **BY_TEAM_DAY, "descending": True},
            [1, 2, 3, 1, 1, 1],
            id="rank-descending-nulls-last",
        ),
        pytest.param(
            {"function": "dense_rank", "order_by": "jour"},
            [3, 1, 4, 2, 2, 1],
            id="dense-rank-whole-frame",
        ),
        pytest.param(
            {"function": "rank", "order_by": "jour"},
            [5, 1, 6, 3, 3, 1],
            id="rank-whole-frame",
        ),
        pytest.param(
            {"function": "row_number", **BY_TEAM_DAY}, [2, 1, 3, 1, 2, 1], id="row-number"
        ),
        pytest.param({"function": "row_number"}, [1, 2, 3, 4, 5, 6], id="row-number-input-order"),
        pytest.param(
            {"function": "lag", "column": "points", **BY_TEAM_DAY},
            [20, None, 10, None, 40, None],
            id="lag",
        ),
        pytest.param(
            {"function": "lead", "column": "points", **BY_TEAM_DAY, "offset": 2},
            [None, 30, None, None, None, None],
            id="lead-offset-2",
        ),
        pytest.param(
            {"function": "rolling_sum", "column": "points", **BY_TEAM_DAY, "window_size": 2},
            [30, 20, 40, 40, 40, 60],
            id="rolling-sum-partial-windows",
        ),
        pytest.param(
            {
                "function": "rolling_sum",
                "column": "points",
                **BY_TEAM_DAY,
                "window_size": 2,
                "min_samples": 2,
            },
            [30, None, 40, None, None, None],
            id="rolling-sum-full-windows",
        ),
        pytest.param(
            {"function": "rolling_mean", "column": "points", **BY_TEAM_DAY, "window_size": 3},
            [15.0, 20.0, 20.0, 40.0, 40.0, 60.0],
            id="rolling-mean",
        ),
        pytest.param(
            {"function": "cum_sum", "column": "points", **BY_TEAM_DAY},
            [30, 20, 60, 40, None, 60],
            id="cum-sum",
        ),
        pytest.param(
            {"function": "cum_sum", "column": "points", "partition_by": ["équipe"]},
            [10, 30, 60, 40, None, 60],
            id="cum-sum-input-order",
        ),
    ],
)
def test_window_functions(spec: dict[str, Any], expected: list[Any], same_as_code: Any) -> None:
    out = same_as_code(make(one(spec)), {"s": SCORES})
    assert out.columns == [*SCORES.columns, "w"]
    assert_frame_equal(out.drop("w"), SCORES)  # rows stay in input order
    assert out["w"].to_list() == expected


def test_many_order_columns_and_outputs(same_as_code: Any) -> None:
    frame = pl.DataFrame({"g": [1, 1, 1, 1], "a": [2, 1, 1, 2], "b": ["x", "y", "x", "x"]})
    window = make(
        {
            "input": "f",
            "columns": {
                "rang": {"function": "rank", "partition_by": "g", "order_by": ["a", "b"]},
                "précédent": {"function": "lag", "column": "b", "order_by": ["a", "b"]},
                "g": {"function": "row_number", "partition_by": "g"},
            },
        }
    )
    out = same_as_code(window, {"f": frame})
    # (1,x) < (1,y) < (2,x) = (2,x); "g" is replaced in place
    assert out.to_dict(as_series=False) == {
        "g": [1, 2, 3, 4],
        "a": [2, 1, 1, 2],
        "b": ["x", "y", "x", "x"],
        "rang": [3, 2, 1, 3],
        "précédent": ["y", "x", None, "x"],
    }


def test_window_of_empty_and_pandas_inputs(same_as_code: Any) -> None:
    params = {
        "input": "s",
        "columns": {
            "rk": {"function": "rank", **BY_TEAM_DAY},
            "rn": {"function": "row_number", **BY_TEAM_DAY},
            "prev": {"function": "lag", "column": "points", **BY_TEAM_DAY},
            "avg": {"function": "rolling_mean", "column": "points", "window_size": 2},
        },
    }
    full = make(params).build({"s": SCORES}).collect()
    empty = same_as_code(make(params), {"s": SCORES.clear()})
    assert empty.height == 0
    assert empty.schema == full.schema
    frame = pd.DataFrame(
        {
            "équipe": ["a", "a", "a", "b", "b", None],
            "jour": pd.array([3, 1, None, 2, 2, 1], dtype="Int64"),
            "points": pd.array([10, 20, 30, 40, None, 60], dtype="Int64"),
        }
    )
    assert_frame_equal(make(params).build({"s": frame}).collect(), full)


def test_window_lineage() -> None:
    window = make(
        {
            "input": "s",
            "columns": {
                "prev": {"function": "lag", "column": "points", **BY_TEAM_DAY},
                "jour": {"function": "row_number"},
            },
        }
    )
    lineage = {c.column: (c.sources, c.how) for c in window.columns({"s": SCORES.schema})}
    assert lineage == {
        "équipe": ((("s", "équipe"),), "direct"),
        "points": ((("s", "points"),), "direct"),
        "prev": ((("s", "points"), ("s", "jour"), ("s", "équipe")), "derived"),
        "jour": ((), "derived"),
    }


# -- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param({"input": "s"}, "parameter 'columns' is required", id="missing"),
        pytest.param({"input": "s", "columns": {}}, "parameter 'columns'", id="no-columns"),
        pytest.param(
            one({"function": "ntile"}), "parameter 'columns.w.function'", id="unknown-function"
        ),
        pytest.param(one({"function": "lag"}), "lag needs 'column'", id="lag-without-column"),
        pytest.param(one({"function": "rank"}), "rank needs 'order_by'", id="rank-without-order"),
        pytest.param(
            one({"function": "rank", "order_by": "x", "column": "x"}),
            "takes no 'column'",
            id="rank-with-column",
        ),
        pytest.param(
            one({"function": "rolling_sum", "column": "x"}),
            "needs 'window_size'",
            id="rolling-without-size",
        ),
        pytest.param(
            one({"function": "lag", "column": "x", "window_size": 3}),
            "'window_size' is for rolling",
            id="size-without-rolling",
        ),
        pytest.param(
            one({"function": "lag", "column": "x", "offset": 0}),
            "parameter 'columns.w.offset'",
            id="offset-zero",
        ),
        pytest.param(
            one({"function": "lag", "column": "x", "offset": "two"}),
            "parameter 'columns.w.offset'",
            id="offset-mistyped",
        ),
        pytest.param(
            one({"function": "lag", "column": "x", "partition": "g"}),
            "unknown parameter 'columns.w.partition'",
            id="unknown-spec-key",
        ),
        pytest.param(
            {"input": "s", "columns": {"w": {"function": "lag", "column": "x"}}, "order": "x"},
            "unknown parameter 'order' (known: input, columns)",
            id="unknown-parameter",
        ),
    ],
)
def test_bad_parameters(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ComponentError) as info:
        make(params)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("spec", "param", "hint"),
    [
        pytest.param(
            {"function": "lag", "column": "point"}, "columns.w.column", "'points'", id="column"
        ),
        pytest.param(
            {"function": "row_number", "partition_by": ["equipe"]},
            "columns.w.partition_by",
            "'équipe'",
            id="partition",
        ),
        pytest.param(
            {"function": "rank", "order_by": ["jours"]}, "columns.w.order_by", "'jour'", id="order"
        ),
    ],
)
def test_unknown_columns(spec: dict[str, Any], param: str, hint: str) -> None:
    with pytest.raises(ComponentError) as info:
        make(one(spec)).build({"s": SCORES})
    assert f"parameter '{param}' names column(s)" in info.value.message
    assert f"did you mean {hint}?" in (info.value.hint or "")


def test_injection_in_column_names_is_just_a_missing_column() -> None:
    spec = {"function": "lag", "column": "__import__('os').system('touch /tmp/pwned2')"}
    with pytest.raises(ComponentError, match="names column"):
        make(one(spec)).build({"s": SCORES})
    code = make(one(spec)).to_code()
    assert "pl.col(\"__import__('os').system('touch /tmp/pwned2')\")" in code


# -- as a pipeline node ------------------------------------------------------------------------
def test_window_as_node() -> None:
    pipeline = Pipeline("ranks")
    pipeline.add(
        Node(
            "scores",
            code="import polars as pl\n"
            "scores = pl.DataFrame({'team': ['a', 'b', 'a'], 'pts': [5, 7, 9]})",
        )
    )
    pipeline.add(
        Node(
            "ranked",
            component="window",
            params={
                "input": "scores",
                "columns": {
                    "place": {
                        "function": "rank",
                        "partition_by": "team",
                        "order_by": "pts",
                        "descending": True,
                    }
                },
            },
        )
    )
    assert pipeline.validate() == []
    assert pipeline.dependencies("ranked") == ("scores",)
    result = pipeline.run(hooks=[])
    assert result.status == "succeeded", result.node_runs
    assert result.outputs["ranked"]["place"].to_list() == [2, 1, 1]


def test_validate_reports_bad_parameters() -> None:
    pipeline = Pipeline("ranks")
    pipeline.add(Node("scores", code="1"))
    pipeline.add(
        Node(
            "bad",
            component="window",
            params={"input": "scores", "columns": {"w": {"function": "lead"}}},
        )
    )
    issues = pipeline.validate()
    assert [(i.code, i.node) for i in issues] == [("bad-parameters", "bad")]
    assert "lead needs 'column'" in issues[0].message

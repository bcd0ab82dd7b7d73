"""pivot and unpivot: results, pasted code, bad input, and as pipeline nodes."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline_lab.components import ComponentError, get_component
from pipeline_lab.graph import Node, Pipeline

LONG = pl.DataFrame(
    {
        "région": ["nord", "nord", "sud", "sud", "sud", None],
        "mois": ["fév", "jan", "jan", "jan", None, "fév"],
        "ventes": [2, 1, 3, None, 5, 6],
        "retours": [0, 1, 0, 1, 0, 0],
    }
)


def make(kind: str, params: dict[str, Any]) -> Any:
    return get_component(kind)(params, node="out")


# -- pivot -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("aggregate", "expected", "dtype"),
    [
        pytest.param("first", [[2, 1, None], [None, 3, 5], [6, None, None]], pl.Int64, id="first"),
        pytest.param("last", [[2, 1, None], [None, None, 5], [6, None, None]], pl.Int64, id="last"),
        pytest.param("sum", [[2, 1, 0], [0, 3, 5], [6, 0, 0]], pl.Int64, id="sum"),
        pytest.param(
            "mean", [[2.0, 1.0, None], [None, 3.0, 5.0], [6.0, None, None]], pl.Float64, id="mean"
        ),
        pytest.param(
            "median",
            [[2.0, 1.0, None], [None, 3.0, 5.0], [6.0, None, None]],
            pl.Float64,
            id="median",
        ),
        pytest.param("min", [[2, 1, None], [None, 3, 5], [6, None, None]], pl.Int64, id="min"),
        pytest.param("max", [[2, 1, None], [None, 3, 5], [6, None, None]], pl.Int64, id="max"),
        pytest.param("count", [[1, 1, 0], [0, 1, 1], [1, 0, 0]], pl.UInt32, id="count-non-null"),
        pytest.param("len", [[1, 1, 0], [0, 2, 1], [1, 0, 0]], pl.UInt32, id="len-rows"),
    ],
)
def test_pivot_aggregates(
    aggregate: str, expected: list[list[Any]], dtype: pl.DataType, same_as_code: Any
) -> None:
    pivot = make(
        "pivot",
        {"input": "t", "index": "région", "on": "mois", "values": "ventes", "aggregate": aggregate},
    )
    out = same_as_code(pivot, {"t": LONG})
    # One column per distinct value of "mois", sorted, null last (named "null").
    assert out.columns == ["région", "fév", "jan", "null"]
    assert out["région"].to_list() == ["nord", "sud", None]
    assert [list(row[1:]) for row in out.rows()] == expected
    assert out.schema["jan"] == dtype


@pytest.mark.parametrize(
    ("params", "columns", "rows"),
    [
        pytest.param(
            {"on_columns": ["jan", "mars"], "aggregate": "sum", "values": "ventes"},
            ["région", "jan", "mars"],
            [("nord", 1, 0), ("sud", 3, 0), (None, 0, 0)],
            id="given-columns-stay-lazy",
        ),
        pytest.param(
            {"on_columns": ["jan"], "aggregate": "sum"},
            ["région", "ventes_jan", "retours_jan"],
            [("nord", 1, 1), ("sud", 3, 1), (None, 0, 0)],
            id="every-other-column-is-a-value",
        ),
        pytest.param(
            {"index": ["région", "retours"], "on_columns": ["jan"], "values": ["ventes"]},
            ["région", "retours", "jan"],
            [("nord", 0, None), ("nord", 1, 1), ("sud", 0, 3), ("sud", 1, None), (None, 0, None)],
            id="many-index-columns",
        ),
    ],
)
def test_pivot_shapes(
    params: dict[str, Any], columns: list[str], rows: list[tuple[Any, ...]], same_as_code: Any
) -> None:
    out = same_as_code(
        make("pivot", {"input": "t", "index": "région", "on": "mois", **params}), {"t": LONG}
    )
    assert out.columns == columns
    assert sorted(out.rows(), key=str) == sorted(rows, key=str)


def test_pivot_with_given_columns_never_reads_its_input() -> None:
    pivot = make(
        "pivot",
        {"input": "t", "index": "région", "on": "mois", "values": "ventes", "on_columns": ["jan"]},
    )
    failing = LONG.lazy().with_columns(
        pl.col("ventes").map_batches(_explode, return_dtype=pl.Int64)
    )
    plan = pivot.build({"t": failing})  # builds without running the failing input
    with pytest.raises(pl.exceptions.ComputeError, match="read"):
        plan.collect()


def _explode(series: pl.Series) -> pl.Series:
    raise pl.exceptions.ComputeError("the input was read")


def test_pivot_of_empty_and_pandas_inputs(same_as_code: Any) -> None:
    params = {"input": "t", "index": "région", "on": "mois", "values": "ventes", "aggregate": "sum"}
    empty = same_as_code(make("pivot", params), {"t": LONG.clear()})
    assert empty.schema == pl.Schema({"région": pl.String})
    listed = make("pivot", {**params, "on_columns": ["jan"]}).build({"t": LONG.clear()}).collect()
    assert listed.schema == pl.Schema({"région": pl.String, "jan": pl.Int64})
    assert listed.height == 0
    from_pandas = make("pivot", params).build({"t": LONG.to_pandas()}).collect()
    assert from_pandas.columns == ["région", "fév", "jan", "null"]
    assert from_pandas.row(1) == ("sud", 0.0, 3.0, 5.0)  # pandas int column with NaN is float


def test_pivot_lineage() -> None:
    schema = {"t": LONG.schema}
    unknown = make("pivot", {"input": "t", "index": "région", "on": "mois"})
    assert [c.column for c in unknown.columns(schema)] == ["région"]
    known = make("pivot", {"input": "t", "index": "région", "on": "mois", "on_columns": ["jan"]})
    lineage = {c.column: (c.sources, c.how) for c in known.columns(schema)}
    assert lineage == {
        "région": ((("t", "région"),), "direct"),
        "ventes_jan": ((("t", "mois"), ("t", "ventes")), "aggregated"),
        "retours_jan": ((("t", "mois"), ("t", "retours")), "aggregated"),
    }


# -- unpivot ---------------------------------------------------------------------------------
WIDE = pl.DataFrame(
    {"id": [1, 2], "t1 °C": [10.5, None], "t2 °C": [11.0, 12.5], "note": ["a", "b"]}
)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param(
            {"index": "id", "on": ["t1 °C", "t2 °C"]},
            {
                "id": [1, 1, 2, 2],
                "variable": ["t1 °C", "t2 °C", "t1 °C", "t2 °C"],
                "value": [10.5, 11.0, None, 12.5],
            },
            id="on-columns",
        ),
        pytest.param(
            {"index": ["id", "note"], "variable_name": "capteur", "value_name": "mesure"},
            {
                "id": [1, 1, 2, 2],
                "note": ["a", "a", "b", "b"],
                "capteur": ["t1 °C", "t2 °C", "t1 °C", "t2 °C"],
                "mesure": [10.5, 11.0, None, 12.5],
            },
            id="all-others-renamed",
        ),
        pytest.param(
            {"on": "t2 °C"},
            {"variable": ["t2 °C", "t2 °C"], "value": [11.0, 12.5]},
            id="no-index",
        ),
    ],
)
def test_unpivot(params: dict[str, Any], expected: dict[str, list[Any]], same_as_code: Any) -> None:
    out = same_as_code(make("unpivot", {"input": "w", **params}), {"w": WIDE})
    assert out.to_dict(as_series=False) == expected


def test_unpivot_of_empty_and_pandas_inputs(same_as_code: Any) -> None:
    params = {"input": "w", "index": "id", "on": ["t1 °C", "t2 °C"]}
    empty = same_as_code(make("unpivot", params), {"w": WIDE.clear()})
    assert empty.schema == pl.Schema({"id": pl.Int64, "variable": pl.String, "value": pl.Float64})
    assert empty.height == 0
    out = make("unpivot", params).build({"w": WIDE.to_pandas()}).collect()
    assert_frame_equal(out, make("unpivot", params).build({"w": WIDE}).collect())


def test_unpivot_lineage() -> None:
    unpivot = make("unpivot", {"input": "w", "index": "id", "on": ["t1 °C", "t2 °C"]})
    lineage = {c.column: (c.sources, c.how) for c in unpivot.columns({"w": WIDE.schema})}
    sources = (("w", "t1 °C"), ("w", "t2 °C"))
    assert lineage == {
        "id": ((("w", "id"),), "direct"),
        "variable": (sources, "derived"),
        "value": (sources, "derived"),
    }


# -- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        pytest.param(
            "pivot",
            {"input": "t", "index": "région"},
            "parameter 'on' is required",
            id="pivot-missing",
        ),
        pytest.param(
            "pivot",
            {"input": "t", "index": "r", "on": "m", "aggregate": "average"},
            "parameter 'aggregate'",
            id="pivot-bad-aggregate",
        ),
        pytest.param(
            "pivot",
            {"input": "t", "index": "r", "on": ["m", "n"]},
            "parameter 'on'",
            id="pivot-on-not-a-name",
        ),
        pytest.param(
            "unpivot",
            {"input": "t", "id_vars": ["r"]},
            "unknown parameter 'id_vars' (known: input, index, on, variable_name, value_name)",
            id="unpivot-unknown-parameter",
        ),
        pytest.param(
            "unpivot", {"input": "t", "index": {"r": 1}}, "parameter 'index'", id="unpivot-mistyped"
        ),
    ],
)
def test_bad_parameters(kind: str, params: dict[str, Any], message: str) -> None:
    with pytest.raises(ComponentError) as info:
        make(kind, params)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("kind", "params", "message", "hint"),
    [
        pytest.param(
            "pivot",
            {"input": "t", "index": "region", "on": "mois"},
            "parameter 'index' names column(s) 'region'",
            "did you mean 'région'?",
            id="pivot-unknown-index",
        ),
        pytest.param(
            "pivot",
            {"input": "t", "index": "région", "on": "moi"},
            "parameter 'on' names column(s) 'moi'",
            "did you mean 'mois'?",
            id="pivot-unknown-on",
        ),
        pytest.param(
            "pivot",
            {"input": "t", "index": "région", "on": "mois", "values": ["vente"]},
            "parameter 'values' names column(s) 'vente'",
            "did you mean 'ventes'?",
            id="pivot-unknown-values",
        ),
        pytest.param(
            "pivot",
            {"input": "t", "index": ["région", "mois"], "on": "mois"},
            "both 'on' and an 'index' column",
            "",
            id="pivot-on-in-index",
        ),
        pytest.param(
            "pivot",
            {"input": "t", "index": ["région", "ventes", "retours"], "on": "mois"},
            "no value columns",
            "values",
            id="pivot-no-values",
        ),
        pytest.param(
            "unpivot",
            {"input": "t", "index": "région", "on": ["vents"]},
            "parameter 'on' names column(s) 'vents'",
            "did you mean 'ventes'?",
            id="unpivot-unknown-on",
        ),
        pytest.param(
            "unpivot",
            {"input": "t", "index": "région", "variable_name": "région"},
            "must differ",
            "other names",
            id="unpivot-name-clash",
        ),
    ],
)
def test_bad_columns(kind: str, params: dict[str, Any], message: str, hint: str) -> None:
    with pytest.raises(ComponentError) as info:
        make(kind, params).build({"t": LONG})
    assert message in info.value.message
    assert hint in (info.value.hint or "")


# -- as pipeline nodes -------------------------------------------------------------------------
def test_pivot_and_unpivot_as_nodes() -> None:
    pipeline = Pipeline("reshape")
    pipeline.add(
        Node(
            "sales",
            code="import pandas as pd\n"
            "pd.DataFrame({'shop': ['a', 'a', 'b'], 'month': ['jan', 'feb', 'jan'], 'n': [1, 2, 3]})",
        )
    )
    pipeline.add(
        Node(
            "wide",
            component="pivot",
            params={
                "input": "sales",
                "index": "shop",
                "on": "month",
                "values": "n",
                "aggregate": "sum",
            },
        )
    )
    pipeline.add(
        Node(
            "long",
            component="unpivot",
            params={"input": "wide", "index": "shop", "variable_name": "month", "value_name": "n"},
        )
    )
    assert pipeline.validate() == []
    assert pipeline.dependencies("wide") == ("sales",)
    assert pipeline.dependencies("long") == ("wide",)
    result = pipeline.run(hooks=[])
    assert result.status == "succeeded", result.node_runs
    assert result.outputs["long"].sort("shop", "month").rows() == [
        ("a", "feb", 2),
        ("a", "jan", 1),
        ("b", "feb", 0),
        ("b", "jan", 3),
    ]


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        pytest.param(
            "pivot", {"input": "sales", "on": "month"}, "parameter 'index' is required", id="pivot"
        ),
        pytest.param(
            "unpivot", {"input": "sales", "value_name": 3}, "parameter 'value_name'", id="unpivot"
        ),
    ],
)
def test_validate_reports_bad_parameters(kind: str, params: dict[str, Any], message: str) -> None:
    pipeline = Pipeline("reshape")
    pipeline.add(Node("sales", code="1"))
    pipeline.add(Node("bad", component=kind, params=params))
    issues = pipeline.validate()
    assert [(i.code, i.node) for i in issues] == [("bad-parameters", "bad")]
    assert message in issues[0].message

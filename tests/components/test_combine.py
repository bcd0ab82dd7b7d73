"""aggregate, join and union: results, pasted code, bad input, and as pipeline nodes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline_lab.components import ComponentError, get_component
from pipeline_lab.graph import Node, Pipeline

SALES = pl.DataFrame(
    {
        "région": ["nord", "nord", "sud", "sud", None, "nord"],
        "store": ["a", "b", "a", "a", "b", "a"],
        "amount": [10, 20, 5, None, 7, 30],
        "qty": [1, 2, 1, 1, None, 3],
    }
)


def make(kind: str, params: dict[str, Any]) -> Any:
    return get_component(kind)(params, node="out")


# -- aggregate -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("agg", "expected", "dtype"),
    [
        pytest.param("sum(amount)", [60, 5, 7], pl.Int64, id="sum"),
        pytest.param("avg(amount)", [20.0, 5.0, 7.0], pl.Float64, id="avg"),
        pytest.param("mean(amount)", [20.0, 5.0, 7.0], pl.Float64, id="mean"),
        pytest.param("count(*)", [3, 2, 1], pl.Int64, id="count-star"),
        pytest.param("count(amount)", [3, 1, 1], pl.Int64, id="count-skips-nulls"),
        pytest.param("min(amount)", [10, 5, 7], pl.Int64, id="min"),
        pytest.param("max(amount)", [30, 5, 7], pl.Int64, id="max"),
        pytest.param("count(DISTINCT store)", [2, 1, 1], pl.Int64, id="count-distinct"),
        pytest.param("n_unique(store)", [2, 1, 1], pl.Int64, id="n_unique"),
        pytest.param("median(amount)", [20.0, 5.0, 7.0], pl.Float64, id="median"),
        pytest.param("quantile_cont(amount, 0.25)", [15.0, 5.0, 7.0], pl.Float64, id="quantile"),
        pytest.param("quantile(amount, 0.25)", [15.0, 5.0, 7.0], pl.Float64, id="quantile-alias"),
        pytest.param("first(amount)", [10, 5, 7], pl.Int64, id="first"),
        pytest.param("last(amount)", [30, None, 7], pl.Int64, id="last"),
        pytest.param("stddev(amount)", [10.0, None, None], pl.Float64, id="stddev"),
        pytest.param("std(amount)", [10.0, None, None], pl.Float64, id="std"),
        pytest.param("sum(amount) / count(*)", [20.0, 2.5, 7.0], pl.Float64, id="expression"),
        pytest.param("MAX(amount) - min(amount)", [20, 0, 0], pl.Int64, id="upper-case"),
    ],
)
def test_aggregate_functions(
    agg: str, expected: list[Any], dtype: pl.DataType, same_as_code: Any
) -> None:
    out = same_as_code(
        make("aggregate", {"input": "sales", "by": "région", "aggs": {"v": agg}}),
        {"sales": SALES},
    )
    assert out.schema == pl.Schema({"région": pl.String, "v": dtype})
    assert out.to_dict(as_series=False) == {"région": ["nord", "sud", None], "v": expected}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param(
            {"by": ["région", "store"], "aggs": {"n": "count(*)"}},
            {
                "région": ["nord", "nord", "sud", None],
                "store": ["a", "b", "a", "b"],
                "n": [2, 1, 2, 1],
            },
            id="many-keys",
        ),
        pytest.param(
            {"aggs": {"total": "sum(amount)", "rows": "count(*)", "top": "max(qty)"}},
            {"total": [72], "rows": [6], "top": [3]},
            id="whole-frame",
        ),
        pytest.param(
            {"by": "store", "aggs": {"total €": "sum(amount)", "qté": "sum(qty)"}},
            {"store": ["a", "b"], "total €": [45, 27], "qté": [6, 2]},
            id="unicode-output-names",
        ),
        pytest.param(
            {"by": "qty", "aggs": {"n": "count(*)"}},
            {"qty": [1, 2, 3, None], "n": [3, 1, 1, 1]},
            id="sorted-by-keys-nulls-last",
        ),
        pytest.param(
            {"by": "qty", "aggs": {"n": "count(*)"}, "maintain_order": True},
            {"qty": [1, 2, None, 3], "n": [3, 1, 1, 1]},
            id="first-appearance-order",
        ),
    ],
)
def test_aggregate_groups(
    params: dict[str, Any], expected: dict[str, list[Any]], same_as_code: Any
) -> None:
    out = same_as_code(make("aggregate", {"input": "sales", **params}), {"sales": SALES})
    assert out.to_dict(as_series=False) == expected


def test_aggregate_reads_pandas() -> None:
    frame = pd.DataFrame(
        {"région": ["nord", "sud", "nord"], "amount": pd.array([1, None, 3], dtype="Int64")}
    )
    out = make("aggregate", {"input": "s", "by": "région", "aggs": {"t": "sum(amount)"}})
    assert out.build({"s": frame}).collect().to_dict(as_series=False) == {
        "région": ["nord", "sud"],
        "t": [4, None],
    }


@pytest.mark.parametrize(
    ("by", "rows"),
    [pytest.param(["région"], 0, id="grouped"), pytest.param([], 1, id="whole-frame")],
)
def test_aggregate_of_empty_input(by: list[str], rows: int, same_as_code: Any) -> None:
    aggs = {"total": "sum(amount)", "n": "count(*)", "mean": "avg(qty)"}
    out = same_as_code(
        make("aggregate", {"input": "sales", "by": by, "aggs": aggs}), {"sales": SALES.clear()}
    )
    keys = {"région": pl.String} if by else {}
    assert out.schema == pl.Schema({**keys, "total": pl.Int64, "n": pl.Int64, "mean": pl.Float64})
    assert out.height == rows
    if rows:  # SQL: the sum of no rows is NULL, their count 0
        assert out.row(0) == (None, 0, None)


def test_aggregate_lineage() -> None:
    agg = make(
        "aggregate",
        {"input": "sales", "by": "région", "aggs": {"t": "sum(amount * qty)", "n": "count(*)"}},
    )
    lineage = {c.column: (c.sources, c.how) for c in agg.columns({"sales": SALES.schema})}
    assert lineage == {
        "région": ((("sales", "région"),), "direct"),
        "t": ((("sales", "amount"), ("sales", "qty")), "aggregated"),
        "n": ((), "aggregated"),
    }


# -- join ------------------------------------------------------------------------------------
LEFT = pl.DataFrame(
    {"id": [1, 2, 3, None], "name": ["ana", "bo", "chloé", "dan"], "v": [1, 2, 3, 4]}
)
RIGHT = pl.DataFrame(
    {"id": [2, 3, 4, None], "ville": ["Lyon", "Nice", "Pau", "Metz"], "v": [20, 30, 40, 50]}
)


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        pytest.param(
            "inner",
            {
                "id": [2, 3],
                "name": ["bo", "chloé"],
                "v": [2, 3],
                "ville": ["Lyon", "Nice"],
                "v_right": [20, 30],
            },
            id="inner",
        ),
        pytest.param(
            "left",
            {
                "id": [1, 2, 3, None],
                "name": ["ana", "bo", "chloé", "dan"],
                "v": [1, 2, 3, 4],
                "ville": [None, "Lyon", "Nice", None],
                "v_right": [None, 20, 30, None],
            },
            id="left-null-keys-do-not-match",
        ),
        pytest.param(
            "right",
            {
                "name": ["bo", "chloé", None, None],
                "v": [2, 3, None, None],
                "id": [2, 3, 4, None],
                "ville": ["Lyon", "Nice", "Pau", "Metz"],
                "v_right": [20, 30, 40, 50],
            },
            id="right",
        ),
        pytest.param(
            "full",
            {
                "id": [1, 2, 3, None, 4, None],
                "name": ["ana", "bo", "chloé", "dan", None, None],
                "v": [1, 2, 3, 4, None, None],
                "ville": [None, "Lyon", "Nice", None, "Pau", "Metz"],
                "v_right": [None, 20, 30, None, 40, 50],
            },
            id="full",
        ),
        pytest.param("semi", {"id": [2, 3], "name": ["bo", "chloé"], "v": [2, 3]}, id="semi"),
        pytest.param("anti", {"id": [1, None], "name": ["ana", "dan"], "v": [1, 4]}, id="anti"),
    ],
)
def test_join_hows(how: str, expected: dict[str, list[Any]], same_as_code: Any) -> None:
    join = make("join", {"left": "people", "right": "towns", "on": "id", "how": how})
    out = same_as_code(join, {"people": LEFT, "towns": RIGHT})
    assert out.to_dict(as_series=False) == expected


def test_cross_join_takes_no_keys(same_as_code: Any) -> None:
    join = make("join", {"left": "a", "right": "b", "how": "cross", "suffix": "_b"})
    out = same_as_code(join, {"a": LEFT.head(2), "b": RIGHT.head(2)})
    assert out.columns == ["id", "name", "v", "id_b", "ville", "v_b"]
    assert out.select("name", "ville").rows() == [
        ("ana", "Lyon"),
        ("ana", "Nice"),
        ("bo", "Lyon"),
        ("bo", "Nice"),
    ]


@pytest.mark.parametrize(
    ("params", "columns", "rows"),
    [
        pytest.param(
            {"on": ["pays", "ville"]},
            ["pays", "ville", "n", "m"],
            [("fr", "Nice", 1, 10), ("it", "Roma", 3, 30)],
            id="many-keys",
        ),
        pytest.param(
            {"left_on": ["pays", "ville"], "right_on": ["pays", "ville"], "suffix": "_r"},
            ["pays", "ville", "n", "m"],
            [("fr", "Nice", 1, 10), ("it", "Roma", 3, 30)],
            id="left-on-right-on",
        ),
        pytest.param(
            {"on": ["pays", "ville"], "coalesce": False, "suffix": "_r"},
            ["pays", "ville", "n", "pays_r", "ville_r", "m"],
            [("fr", "Nice", 1, "fr", "Nice", 10), ("it", "Roma", 3, "it", "Roma", 30)],
            id="no-coalesce-suffix",
        ),
        pytest.param(
            {"on": "pays", "suffix": " (droite)"},
            ["pays", "ville", "n", "ville (droite)", "m"],
            [
                ("fr", "Nice", 1, "Nice", 10),
                ("fr", "Nice", 1, "Lyon", 20),
                ("fr", "Paris", 2, "Nice", 10),
                ("fr", "Paris", 2, "Lyon", 20),
                ("it", "Roma", 3, "Roma", 30),
            ],
            id="suffix-with-spaces",
        ),
    ],
)
def test_join_keys(
    params: dict[str, Any], columns: list[str], rows: list[tuple[Any, ...]], same_as_code: Any
) -> None:
    left = pl.DataFrame(
        {"pays": ["fr", "fr", "it"], "ville": ["Nice", "Paris", "Roma"], "n": [1, 2, 3]}
    )
    right = pl.DataFrame(
        {"pays": ["fr", "fr", "it"], "ville": ["Nice", "Lyon", "Roma"], "m": [10, 20, 30]}
    )
    out = same_as_code(make("join", {"left": "l", "right": "r", **params}), {"l": left, "r": right})
    assert out.columns == columns
    assert out.rows() == rows


def test_join_unicode_keys_and_pandas_inputs() -> None:
    left = pd.DataFrame({"clé": ["é", "ß", "漢"], "n": [1, 2, 3]})
    right = pl.DataFrame({"code": ["漢", "é"], "m": [30, 10]})
    join = make("join", {"left": "l", "right": "r", "left_on": "clé", "right_on": "code"})
    out = join.build({"l": left, "r": right}).collect()
    assert out.to_dict(as_series=False) == {"clé": ["é", "漢"], "n": [1, 3], "m": [10, 30]}


@pytest.mark.parametrize("how", ["inner", "left", "right", "full", "semi", "anti", "cross"])
@pytest.mark.parametrize("empty", ["left", "right", "both"])
def test_join_of_empty_inputs(how: str, empty: str, same_as_code: Any) -> None:
    left = LEFT.clear() if empty in ("left", "both") else LEFT
    right = RIGHT.clear() if empty in ("right", "both") else RIGHT
    params = {"left": "people", "right": "towns", "how": how}
    if how != "cross":
        params["on"] = "id"
    out = same_as_code(make("join", params), {"people": left, "towns": right})
    full = make("join", params).build({"people": LEFT, "towns": RIGHT}).collect()
    assert out.schema == full.schema
    # Rows kept when one side is empty; every other case keeps none.
    expected_rows = {
        ("left", "left"): 0,
        ("right", "left"): 4,
        ("left", "right"): 4,
        ("right", "right"): 0,
        ("left", "full"): 4,
        ("right", "full"): 4,
        ("right", "anti"): 4,
    }
    assert out.height == expected_rows.get((empty, how), 0)


def test_join_lineage() -> None:
    join = make(
        "join",
        {"left": "people", "right": "towns", "left_on": "id", "right_on": "id", "how": "full"},
    )
    lineage = {
        c.column: c.sources for c in join.columns({"people": LEFT.schema, "towns": RIGHT.schema})
    }
    assert lineage == {
        "id": (("people", "id"), ("towns", "id")),
        "name": (("people", "name"),),
        "v": (("people", "v"),),
        "ville": (("towns", "ville"),),
        "v_right": (("towns", "v"),),
    }
    assert {c.how for c in join.columns({"people": LEFT.schema, "towns": RIGHT.schema})} == {
        "direct"
    }


def test_self_join_reads_one_node(same_as_code: Any) -> None:
    join = make("join", {"left": "people", "right": "people", "on": "id", "suffix": "_2"})
    assert join.input_names() == ("people",)
    out = same_as_code(join, {"people": LEFT})
    assert out.columns == ["id", "name", "v", "name_2", "v_2"]
    assert out.height == 3


# -- union -----------------------------------------------------------------------------------
JAN = pl.DataFrame({"id": [1, 2], "montant": [1.5, None], "état": ["ok", "ko"]})
FEB = pl.DataFrame({"id": [3], "montant": [2], "pays": ["fr"]})


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param(
            {"inputs": ["jan", "feb"]},
            {
                "id": [1, 2, 3],
                "montant": [1.5, None, 2.0],
                "état": ["ok", "ko", None],
                "pays": [None, None, "fr"],
            },
            id="by-name-fills-missing",
        ),
        pytest.param(
            {"inputs": ["jan", "feb"], "source_column": "mois"},
            {
                "mois": ["jan", "jan", "feb"],
                "id": [1, 2, 3],
                "montant": [1.5, None, 2.0],
                "état": ["ok", "ko", None],
                "pays": [None, None, "fr"],
            },
            id="source-column",
        ),
        pytest.param(
            {"inputs": ["jan", "feb"], "how": "by_position"},
            {"id": [1, 2, 3], "montant": [1.5, None, 2.0], "état": ["ok", "ko", "fr"]},
            id="by-position",
        ),
        pytest.param(
            {"inputs": ["jan", "jan", "feb"], "how": "by_position", "distinct": True},
            {"id": [1, 2, 3], "montant": [1.5, None, 2.0], "état": ["ok", "ko", "fr"]},
            id="distinct",
        ),
        pytest.param(
            {"inputs": ["jan", "jan"]},
            {"id": [1, 2, 1, 2], "montant": [1.5, None, 1.5, None], "état": ["ok", "ko"] * 2},
            id="union-all-keeps-duplicates",
        ),
    ],
)
def test_union(params: dict[str, Any], expected: dict[str, list[Any]], same_as_code: Any) -> None:
    out = same_as_code(make("union", params), {"jan": JAN, "feb": FEB})
    assert out.to_dict(as_series=False) == expected


def test_union_of_empty_and_pandas_inputs() -> None:
    union = make("union", {"inputs": ["a", "b"], "source_column": "src"})
    out = union.build({"a": JAN.clear(), "b": FEB.to_pandas()}).collect()
    assert out.schema == pl.Schema(
        {
            "src": pl.String,
            "id": pl.Int64,
            "montant": pl.Float64,
            "état": pl.String,
            "pays": pl.String,
        }
    )
    assert out.rows() == [("b", 3, 2.0, None, "fr")]
    both_empty = union.build({"a": JAN.clear(), "b": FEB.clear()}).collect()
    assert both_empty.height == 0
    assert both_empty.columns == ["src", "id", "montant", "état", "pays"]


def test_union_lineage() -> None:
    union = make("union", {"inputs": ["jan", "feb"], "source_column": "mois"})
    lineage = {
        c.column: (c.sources, c.how) for c in union.columns({"jan": JAN.schema, "feb": FEB.schema})
    }
    assert lineage == {
        "mois": ((), "derived"),
        "id": ((("jan", "id"), ("feb", "id")), "direct"),
        "montant": ((("jan", "montant"), ("feb", "montant")), "direct"),
        "état": ((("jan", "état"),), "direct"),
        "pays": ((("feb", "pays"),), "direct"),
    }


# -- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        pytest.param(
            "aggregate", {"input": "s", "by": "x"}, "parameter 'aggs' is required", id="agg-missing"
        ),
        pytest.param(
            "aggregate", {"input": "s", "aggs": "sum(x)"}, "parameter 'aggs'", id="agg-mistyped"
        ),
        pytest.param(
            "aggregate",
            {"input": "s", "aggs": {"t": "sum(x)"}, "group_by": "x"},
            "unknown parameter 'group_by' (known: input, by, aggs, maintain_order; "
            "did you mean 'by'?)",
            id="agg-other-tools-group-by",
        ),
        pytest.param(
            "aggregate",
            {"input": "s", "by": "k", "aggs": {"k": "sum(x)"}},
            "overwrite group key",
            id="agg-output-is-a-key",
        ),
        pytest.param("join", {"left": "a", "right": "b"}, "needs keys", id="join-no-keys"),
        pytest.param(
            "join",
            {"left": "a", "right": "b", "on": "k", "how": "outer"},
            "parameter 'how'",
            id="join-bad-how",
        ),
        pytest.param(
            "join",
            {"left": "a", "right": "b", "how": "cross", "on": "k"},
            "cross join takes no keys",
            id="join-cross-with-keys",
        ),
        pytest.param(
            "join",
            {"left": "a", "right": "b", "on": "k", "left_on": "k"},
            "either 'on' or 'left_on'",
            id="join-on-and-left-on",
        ),
        pytest.param(
            "join",
            {"left": "a", "right": "b", "left_on": "k"},
            "go together",
            id="join-left-on-alone",
        ),
        pytest.param(
            "join",
            {"left": "a", "right": "b", "left_on": ["k", "j"], "right_on": "k"},
            "same number of columns",
            id="join-key-counts",
        ),
        pytest.param(
            "join",
            {"left": 3, "right": "b", "on": "k"},
            "parameter 'left'",
            id="join-left-not-a-name",
        ),
        pytest.param("union", {"inputs": []}, "parameter 'inputs'", id="union-no-inputs"),
        pytest.param(
            "union", {"inputs": ["a"], "how": "diagonal"}, "parameter 'how'", id="union-bad-how"
        ),
    ],
)
def test_bad_parameters(kind: str, params: dict[str, Any], message: str) -> None:
    with pytest.raises(ComponentError) as info:
        make(kind, params)
    assert message in str(info.value)
    assert info.value.hint and info.value.hint.startswith(f"{kind} parameters:")


@pytest.mark.parametrize(
    ("kind", "params", "message", "hint"),
    [
        pytest.param(
            "aggregate",
            {"input": "sales", "by": "region", "aggs": {"t": "sum(amount)"}},
            "parameter 'by' names column(s) 'region'",
            "did you mean 'région'?",
            id="agg-unknown-key",
        ),
        pytest.param(
            "aggregate",
            {"input": "sales", "aggs": {"t": "sum(amont)"}},
            "parameter 'aggs.t' names column(s) 'amont'",
            "did you mean 'amount'?",
            id="agg-unknown-column",
        ),
        pytest.param(
            "aggregate",
            {"input": "sales", "aggs": {"t": "sum(amount"}},
            "parameter 'aggs.t' is not a valid SQL expression",
            "",
            id="agg-unparsable",
        ),
        pytest.param(
            "aggregate",
            {"input": "sales", "by": "store", "aggs": {"t": "amount"}},
            "is not an aggregate",
            "sum(x)",
            id="agg-not-an-aggregate",
        ),
        pytest.param(
            "aggregate",
            {"input": "sales", "aggs": {"t": "mode(amount)"}},
            "unsupported function 'mode'",
            "",
            id="agg-unknown-function",
        ),
        pytest.param(
            "join",
            {"left": "sales", "right": "sales", "on": "stor"},
            "parameter 'on' names column(s) 'stor'",
            "did you mean 'store'?",
            id="join-unknown-key",
        ),
        pytest.param(
            "join",
            {"left": "sales", "right": "sales", "left_on": "store", "right_on": "amout"},
            "parameter 'right_on' names column(s) 'amout'",
            "did you mean 'amount'?",
            id="join-unknown-right-key",
        ),
        pytest.param(
            "union",
            {"inputs": ["sales", "sales"], "source_column": "store"},
            "source_column 'store' is already a column",
            "another",
            id="union-source-column-clash",
        ),
    ],
)
def test_bad_columns_and_expressions(
    kind: str, params: dict[str, Any], message: str, hint: str
) -> None:
    with pytest.raises(ComponentError) as info:
        make(kind, params).build({"sales": SALES})
    assert message in info.value.message
    assert hint in (info.value.hint or "")
    assert info.value.node == "out"


@pytest.mark.parametrize(
    "expression",
    [
        pytest.param("__import__('os').system('touch /tmp/pwned2')", id="python-call"),
        pytest.param("sum(amount); import os", id="statement"),
        pytest.param("eval('1+1')", id="eval"),
        pytest.param("sum(amount)) FROM sales; DROP TABLE sales; --", id="sql-injection"),
    ],
)
def test_code_injection_in_aggregates_stays_sql(expression: str) -> None:
    with pytest.raises(ComponentError):  # refused when the parameters are read
        make("aggregate", {"input": "sales", "aggs": {"x": expression}}).build(
            {"sales": SALES}
        ).collect()
    assert not Path("/tmp/pwned2").exists()


@pytest.mark.parametrize(
    ("left_type", "right_type"),
    [
        pytest.param(pl.Int64, pl.String, id="int-string"),
        pytest.param(pl.String, pl.Int32, id="string-int"),
        pytest.param(pl.Int64, pl.Float64, id="int-float"),
        pytest.param(pl.Date, pl.Datetime("us"), id="date-datetime"),
    ],
)
def test_join_keys_of_incompatible_types(left_type: pl.DataType, right_type: pl.DataType) -> None:
    left = pl.DataFrame({"customer_id": [1, 2]}).cast({"customer_id": left_type})
    right = pl.DataFrame({"cid": [1, 2], "x": [0, 1]}).cast({"cid": right_type})
    join = make(
        "join",
        {"left": "orders", "right": "customers", "left_on": "customer_id", "right_on": "cid"},
    )
    with pytest.raises(ComponentError) as info:
        join.build({"orders": left, "customers": right})
    message = info.value.message
    assert "'customer_id'" in message and "'cid'" in message
    assert str(left.schema["customer_id"]) in message and str(right.schema["cid"]) in message
    assert "cast" in (info.value.hint or "")


def test_join_keys_of_compatible_widths(same_as_code: Any) -> None:
    left = pl.DataFrame({"k": [1, 2]}, schema={"k": pl.Int32})
    right = pl.DataFrame({"k": [2, 3], "x": ["b", "c"]}, schema={"k": pl.UInt8, "x": pl.String})
    out = same_as_code(
        make("join", {"left": "a", "right": "b", "on": "k"}), {"a": left, "b": right}
    )
    assert out.rows() == [(2, "b")]


def test_union_of_columns_without_a_common_type() -> None:
    a = pl.DataFrame({"k": [1]})
    b = pl.DataFrame({"k": [[1, 2]]})
    with pytest.raises(ComponentError) as info:
        make("union", {"inputs": ["a", "b"]}).build({"a": a, "b": b})
    assert "'k' (a: Int64, b: List(Int64))" in info.value.message
    assert "cast" in (info.value.hint or "")


def test_union_by_position_needs_equal_widths() -> None:
    with pytest.raises(ComponentError, match="equal width"):
        make("union", {"inputs": ["jan", "feb"], "how": "by_position"}).build(
            {"jan": JAN, "feb": FEB.drop("pays")}
        )


# -- as pipeline nodes -------------------------------------------------------------------------
def _frames_pipeline() -> Pipeline:
    pipeline = Pipeline("shop")
    pipeline.add(
        Node(
            "orders",
            code="import polars as pl\n"
            "pl.DataFrame({'customer_id': [1, 2, 1, 3], 'amount': [10.0, 5.0, 2.5, 1.0]})",
        )
    )
    pipeline.add(
        Node(
            "customers",
            code="import pandas as pd\n"
            "pd.DataFrame({'customer_id': [1, 2, 4], 'région': ['nord', 'sud', 'est']})",
        )
    )
    return pipeline


def test_join_aggregate_union_as_nodes() -> None:
    pipeline = _frames_pipeline()
    pipeline.add(
        Node(
            "enriched",
            component="join",
            params={"left": "orders", "right": "customers", "on": "customer_id", "how": "left"},
        )
    )
    pipeline.add(
        Node(
            "by_region",
            component="aggregate",
            params={"input": "enriched", "by": "région", "aggs": {"total": "sum(amount)"}},
        )
    )
    pipeline.add(
        Node(
            "everyone",
            component="union",
            params={"inputs": ["customers", "orders"], "source_column": "from"},
        )
    )
    assert pipeline.validate() == []
    assert pipeline.dependencies("enriched") == ("orders", "customers")
    assert pipeline.dependencies("by_region") == ("enriched",)
    assert pipeline.dependencies("everyone") == ("orders", "customers")
    result = pipeline.run(hooks=[])
    assert result.status == "succeeded", result.node_runs
    assert_frame_equal(
        result.outputs["by_region"],
        pl.DataFrame({"région": ["nord", "sud", None], "total": [12.5, 5.0, 1.0]}),
    )
    everyone = result.outputs["everyone"]
    assert everyone.columns == ["from", "customer_id", "région", "amount"]
    assert everyone["from"].to_list() == ["customers"] * 3 + ["orders"] * 4


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        pytest.param("join", {"left": "orders", "right": "customers"}, "needs keys", id="join"),
        pytest.param(
            "aggregate", {"input": "orders", "aggs": {}}, "parameter 'aggs'", id="aggregate"
        ),
        pytest.param("union", {"inputs": "orders"}, "parameter 'inputs'", id="union"),
    ],
)
def test_validate_reports_bad_parameters(kind: str, params: dict[str, Any], message: str) -> None:
    pipeline = _frames_pipeline()
    pipeline.add(Node("bad", component=kind, params=params))
    issues = pipeline.validate()
    assert [(i.code, i.node) for i in issues] == [("bad-parameters", "bad")]
    assert message in issues[0].message

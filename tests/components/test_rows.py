"""Row components: filter, sort, deduplicate, fill_null, drop_nulls, sample, limit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline_lab.components import ComponentError, get_component
from pipeline_lab.graph import Node, Pipeline

D1, D3, D4 = date(2024, 1, 1), date(2024, 1, 3), date(2024, 1, 4)
MEAN = pytest.approx([10.0, 20.75 / 3, 3.5, 7.25, 20.75 / 3])


def _sampled(rows: int) -> Callable[[pl.DataFrame, pl.DataFrame], None]:
    """A sample of ``rows`` input rows, in input order."""

    def check(out: pl.DataFrame, orders: pl.DataFrame) -> None:
        assert out.height == rows
        numbered = orders.with_row_index("row")
        found = out.join(numbered, on=list(orders.columns), how="left", nulls_equal=True)
        assert found["row"].null_count() == 0  # every sampled row is an input row
        assert found["row"].is_sorted()

    return check


# (component, parameters, expected columns of the output, or a check)
CASES = [
    pytest.param(
        "filter", {"condition": '"montant €" > 5'}, {"id": [1, None]}, id="filter-unicode"
    ),
    pytest.param("filter", {"condition": "名前 = 'bo'"}, {"id": [2, 2]}, id="filter-eq"),
    pytest.param("filter", {"condition": "day IS NULL"}, {"id": [2, 5]}, id="filter-is-null"),
    pytest.param("filter", {"condition": "名前 LIKE 'é%'"}, {"id": [5]}, id="filter-like"),
    pytest.param(
        "sort",
        {"by": "montant €"},
        {"montant €": [None, None, 3.5, 7.25, 10.0], "id": [2, 5, 2, None, 1]},
        id="sort-nulls-first-stable",
    ),
    pytest.param(
        "sort",
        {"by": ["名前", "id"], "descending": [True, False], "nulls_last": True},
        {"名前": ["émile", "bo", "bo", "ana", None]},
        id="sort-two-keys",
    ),
    pytest.param(
        "sort",
        {"by": ["day"], "descending": True, "nulls_last": True},
        {"id": [None, 2, 1, 2, 5]},
        id="sort-date-desc",
    ),
    pytest.param(
        "deduplicate",
        {"subset": ["名前"]},
        {"名前": ["ana", "bo", None, "émile"], "montant €": [10.0, None, 7.25, None]},
        id="dedup-first",
    ),
    pytest.param(
        "deduplicate",
        {"subset": ["名前"], "keep": "last"},
        {"montant €": [10.0, 3.5, 7.25, None]},
        id="dedup-last",
    ),
    pytest.param(
        "deduplicate", {"subset": ["id"], "keep": "none"}, {"id": [1, None, 5]}, id="dedup-none"
    ),
    pytest.param("deduplicate", {}, {"id": [1, 2, 2, None, 5]}, id="dedup-all-columns"),
    pytest.param("deduplicate", {"subset": ["day"]}, {"id": [1, 2, 2, None]}, id="dedup-null-keys"),
    pytest.param(
        "fill_null",
        {"value": 0},
        {
            "id": [1, 2, 2, 0, 5],
            "montant €": [10.0, 0.0, 3.5, 7.25, 0.0],
            "名前": ["ana", "bo", "bo", None, "émile"],
        },
        id="fill-int-numeric",
    ),
    pytest.param(
        "fill_null",
        {"value": 0, "columns": ["montant €"]},
        {"id": [1, 2, 2, None, 5], "montant €": [10.0, 0.0, 3.5, 7.25, 0.0]},
        id="fill-named-column",
    ),
    pytest.param(
        "fill_null",
        {"value": 2.5},
        {"id": [1, 2, 2, None, 5], "montant €": [10.0, 2.5, 3.5, 7.25, 2.5]},
        id="fill-float-floats-only",
    ),
    pytest.param(
        "fill_null", {"value": "?"}, {"名前": ["ana", "bo", "bo", "?", "émile"]}, id="fill-string"
    ),
    pytest.param(
        "fill_null",
        {"value": date(2000, 1, 1)},
        {"day": [D1, date(2000, 1, 1), D3, D4, date(2000, 1, 1)]},
        id="fill-date",
    ),
    pytest.param(
        "fill_null",
        {"strategy": "forward"},
        {
            "id": [1, 2, 2, 2, 5],
            "montant €": [10.0, 10.0, 3.5, 7.25, 7.25],
            "day": [D1, D1, D3, D4, D4],
        },
        id="fill-forward",
    ),
    pytest.param(
        "fill_null",
        {"strategy": "backward", "limit": 1, "columns": ["montant €"]},
        {"montant €": [10.0, 3.5, 3.5, 7.25, None]},
        id="fill-backward-limit",
    ),
    pytest.param(
        "fill_null",
        {"strategy": "mean", "columns": ["montant €"]},
        {"montant €": MEAN},
        id="fill-mean",
    ),
    pytest.param(
        "fill_null",
        {"strategy": "zero"},
        {"id": [1, 2, 2, 0, 5], "名前": ["ana", "bo", "bo", None, "émile"]},
        id="fill-zero-numeric-only",
    ),
    pytest.param(
        "fill_null",
        {"strategy": "max", "columns": ["名前"]},
        {"名前": ["ana", "bo", "bo", "émile", "émile"]},
        id="fill-max-string",
    ),
    pytest.param("drop_nulls", {}, {"id": [1, 2]}, id="drop-nulls-any"),
    pytest.param(
        "drop_nulls", {"subset": ["montant €"]}, {"id": [1, 2, None]}, id="drop-nulls-subset"
    ),
    pytest.param("sample", {"n": 3}, _sampled(3), id="sample-n"),
    pytest.param("sample", {"fraction": 0.4, "seed": 7}, _sampled(2), id="sample-fraction"),
    pytest.param("sample", {"n": 10}, {"id": [1, 2, 2, None, 5]}, id="sample-more-than-rows"),
    pytest.param(
        "sample",
        {"n": 7, "with_replacement": True},
        lambda out, _: out.height == 7,
        id="sample-replacement",
    ),
    pytest.param("limit", {"n": 2}, {"id": [1, 2]}, id="limit"),
    pytest.param("limit", {"n": 2, "offset": 3}, {"id": [None, 5]}, id="limit-offset"),
    pytest.param("limit", {"n": 0}, {"id": []}, id="limit-zero"),
    pytest.param("limit", {"n": 10, "offset": 4}, {"id": [5]}, id="limit-past-end"),
]


def make(kind: str, params: dict[str, Any], node: str | None = "out") -> Any:
    return get_component(kind)({"input": "orders", **params}, node=node)


@pytest.mark.parametrize(("kind", "params", "expected"), CASES)
def test_output(
    kind: str, params: dict[str, Any], expected: Any, orders: pl.DataFrame, same_as_code: Any
) -> None:
    out = same_as_code(make(kind, params), {"orders": orders})
    assert out.schema == orders.schema
    if callable(expected):
        assert expected(out, orders) is not False
    else:
        assert {c: out[c].to_list() for c in expected} == expected


@pytest.mark.parametrize(("kind", "params", "expected"), CASES)
def test_empty_input_gives_empty_output(
    kind: str, params: dict[str, Any], expected: Any, orders: pl.DataFrame, same_as_code: Any
) -> None:
    out = same_as_code(make(kind, params), {"orders": orders.clear()})
    assert out.height == 0
    assert out.schema == orders.schema


@pytest.mark.parametrize(("kind", "params", "expected"), CASES)
def test_pandas_input(
    kind: str, params: dict[str, Any], expected: Any, orders: pl.DataFrame
) -> None:
    component = make(kind, params)
    from_pandas = component.build({"orders": orders.to_pandas(use_pyarrow_extension_array=True)})
    assert_frame_equal(from_pandas.collect(), component.build({"orders": orders}).collect())


def test_plain_pandas_input_nan_is_null() -> None:
    frame = pd.DataFrame({"montant €": [1.5, float("nan"), 3.0], "名前": ["a", None, "c"]})
    out = make("fill_null", {"value": 0}).build({"orders": frame}).collect()
    assert out["montant €"].to_list() == [1.5, 0.0, 3.0]
    out = make("drop_nulls", {}).build({"orders": frame}).collect()
    assert out["名前"].to_list() == ["a", "c"]


@pytest.mark.parametrize(("kind", "params", "expected"), CASES)
def test_lineage(kind: str, params: dict[str, Any], expected: Any, orders: pl.DataFrame) -> None:
    lineage = make(kind, params).columns({"orders": orders.schema})
    assert [c.column for c in lineage] == orders.columns
    assert all(c.sources == (("orders", c.column),) for c in lineage)
    how = {c.column: c.how for c in lineage}
    if kind == "sort":
        assert set(how.values()) == {"direct"}
    elif kind == "fill_null":
        filled = make(kind, params).build({"orders": orders}).collect()
        changed = {c for c in orders.columns if not filled[c].equals(orders[c])}
        assert changed <= {c for c, h in how.items() if h == "derived"}
    else:
        assert set(how.values()) == {"filtered"}


def test_sample_is_reproducible_and_seeded(orders: pl.DataFrame) -> None:
    big = pl.DataFrame({"n": range(1000)})
    first = make("sample", {"n": 10}).build({"orders": big}).collect()
    assert_frame_equal(first, make("sample", {"n": 10}).build({"orders": big}).collect())
    other = make("sample", {"n": 10, "seed": 1}).build({"orders": big}).collect()
    assert not first.equals(other)


def test_fill_null_keeps_column_types() -> None:
    frame = pl.DataFrame({"small": pl.Series([1, None], dtype=pl.Int8), "f": [None, 1.0]})
    out = make("fill_null", {"value": 2.0}).build({"orders": frame}).collect()
    assert out.schema == frame.schema  # 2.0 fills the Int8 column as 2, not as a float
    assert out.rows() == [(1, 2.0), (2, 1.0)]


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "params", "words"),
    [
        pytest.param("filter", {}, ["'condition' is required"], id="filter-missing"),
        pytest.param("sort", {}, ["'by' is required"], id="sort-missing"),
        pytest.param("limit", {}, ["'n' is required"], id="limit-missing"),
        pytest.param(
            "filter", {"condition": 5}, ["'condition'", "valid string"], id="filter-mistyped"
        ),
        pytest.param("sort", {"by": 5}, ["'by", "valid string", "valid list"], id="sort-mistyped"),
        pytest.param(
            "sort",
            {"by": "id", "descending": "maybe"},
            ["'descending", "valid boolean"],
            id="sort-flag-mistyped",
        ),
        pytest.param("limit", {"n": "ten"}, ["'n'", "valid integer"], id="limit-mistyped"),
        pytest.param(
            "limit", {"n": -1}, ["'n'", "greater than or equal to 0"], id="limit-negative"
        ),
        pytest.param(
            "deduplicate",
            {"keep": "middle"},
            ["'keep'", "'first', 'last' or 'none'"],
            id="dedup-keep",
        ),
        pytest.param(
            "drop_nulls", {"subset": "名前"}, ["'subset'", "valid list"], id="drop-nulls-mistyped"
        ),
        pytest.param("sample", {"n": 1.5}, ["'n'", "valid integer"], id="sample-mistyped"),
        pytest.param(
            "sort",
            {"by": "id", "ascending": True},
            ["unknown parameter 'ascending'", "known: input, by"],
            id="sort-unknown",
        ),
        pytest.param(
            "limit", {"n": 1, "rows": 2}, ["unknown parameter 'rows'"], id="limit-unknown"
        ),
        pytest.param(
            "sort",
            {"by": ["id", "day"], "descending": [True]},
            ["'descending' has 1 flags for 2"],
            id="sort-flags",
        ),
        pytest.param("sample", {}, ["exactly one of 'n'"], id="sample-neither"),
        pytest.param("sample", {"n": 1, "fraction": 0.5}, ["exactly one of 'n'"], id="sample-both"),
        pytest.param(
            "sample", {"fraction": 1.5}, ["with_replacement"], id="sample-fraction-above-1"
        ),
        pytest.param("sample", {"n": 1, "seed": -1}, ["'seed'"], id="sample-seed"),
        pytest.param("fill_null", {}, ["exactly one of 'value'", "'strategy'"], id="fill-neither"),
        pytest.param(
            "fill_null",
            {"value": 0, "strategy": "mean"},
            ["exactly one of 'value'"],
            id="fill-both",
        ),
        pytest.param(
            "fill_null",
            {"strategy": "median"},
            ["'strategy'", "'forward'"],
            id="fill-unknown-strategy",
        ),
        pytest.param(
            "fill_null", {"value": 0, "limit": 1}, ["'limit' only applies"], id="fill-limit-value"
        ),
        pytest.param(
            "fill_null",
            {"strategy": "mean", "limit": 1},
            ["'limit' only applies"],
            id="fill-limit-mean",
        ),
        pytest.param(
            "fill_null",
            {"value": datetime(2024, 1, 1, tzinfo=timezone.utc)},
            ["without time zone"],
            id="fill-aware-datetime",
        ),
    ],
)
def test_bad_parameters(kind: str, params: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(ComponentError) as error:
        make(kind, params)
    assert error.value.node == "out"
    for word in [f"component '{kind}'", *words]:
        assert word in str(error.value)


def test_missing_input_parameter() -> None:
    with pytest.raises(ComponentError, match="parameter 'input' is required"):
        get_component("sort")({"by": "id"})


@pytest.mark.parametrize(
    ("kind", "params", "closest"),
    [
        pytest.param("filter", {"condition": '"montant" > 1'}, "'montant €'", id="filter"),
        pytest.param("sort", {"by": ["id", "dya"]}, "'day'", id="sort"),
        pytest.param("deduplicate", {"subset": ["montant"]}, "'montant €'", id="dedup"),
        pytest.param("fill_null", {"value": 0, "columns": ["ids"]}, "'id'", id="fill"),
        pytest.param("drop_nulls", {"subset": ["days"]}, "'day'", id="drop-nulls"),
    ],
)
def test_unknown_column_lists_closest(
    kind: str, params: dict[str, Any], closest: str, orders: pl.DataFrame
) -> None:
    with pytest.raises(ComponentError) as error:
        make(kind, params).build({"orders": orders})
    text = str(error.value)
    assert "does not have" in text and f"did you mean {closest}" in text
    assert "columns: id, montant €, 名前, day" in text
    with pytest.raises(ComponentError):  # lineage checks the same way
        make(kind, params).columns({"orders": orders.schema})


@pytest.mark.parametrize(
    "condition",
    [
        pytest.param("montant € >", id="unfinished"),
        pytest.param("id = = 1", id="double-operator"),
        pytest.param("id > 1; DROP TABLE orders", id="statement"),
        pytest.param("frobnicate(id)", id="unknown-function"),
    ],
)
def test_sql_that_does_not_parse(condition: str, orders: pl.DataFrame) -> None:
    with pytest.raises(ComponentError, match="parameter 'condition' is not a valid SQL expression"):
        make("filter", {"condition": condition}).build({"orders": orders})


def test_sql_type_error_names_the_parameter(orders: pl.DataFrame) -> None:
    with pytest.raises(ComponentError) as error:
        make("filter", {"condition": "名前 + 1"}).build({"orders": orders})
    assert "parameter 'condition'" in str(error.value) and "does not fit the input" in str(
        error.value
    )


@pytest.mark.parametrize(
    "template",
    [
        pytest.param("__import__('os').system('touch {path}')", id="dunder-import"),
        pytest.param("\"); import os; os.system('touch {path}'); (\"", id="quote-escape"),
        pytest.param('eval(\'open("{path}", "w")\')', id="eval"),
        pytest.param('exec(\'open("{path}", "w")\')', id="exec"),
    ],
)
def test_code_injection_stays_sql(template: str, tmp_path: Path, orders: pl.DataFrame) -> None:
    marker = tmp_path / "pwned"
    condition = template.format(path=marker)
    with pytest.raises(ComponentError):
        make("filter", {"condition": condition}).build({"orders": orders}).collect()
    assert not marker.exists()


@pytest.mark.parametrize(
    ("params", "words"),
    [
        pytest.param(
            {"strategy": "mean", "columns": ["名前"]},
            ["mean does not fit column '名前'", "String"],
            id="mean-string",
        ),
        pytest.param(
            {"value": "x", "columns": ["id"]},
            ["value 'x' does not fit column 'id'", "Int64"],
            id="string-into-int",
        ),
        pytest.param(
            {"value": 1.5, "columns": ["id"]},
            ["value 1.5 does not fit column 'id'"],
            id="float-into-int",
        ),
    ],
)
def test_fill_null_value_must_fit_named_columns(
    params: dict[str, Any], words: list[str], orders: pl.DataFrame
) -> None:
    with pytest.raises(ComponentError) as error:
        make("fill_null", params).build({"orders": orders})
    for word in words:
        assert word in str(error.value)


# -- as notebook nodes ------------------------------------------------------------------------------
ORDERS_CELL = """\
import polars as pl
from datetime import date
orders = pl.DataFrame({
    "id": [1, 2, 2, None, 5],
    "montant €": [10.0, None, 3.5, 7.25, None],
    "名前": ["ana", "bo", "bo", None, "émile"],
    "day": [date(2024, 1, 1), None, date(2024, 1, 3), date(2024, 1, 4), None],
})
"""

NODE_CASES = [
    pytest.param("filter", {"condition": '"montant €" > 5'}, {"condition": 1}, id="filter"),
    pytest.param(
        "sort",
        {"by": "montant €", "descending": True},
        {"by": "id", "nulls_last": "often"},
        id="sort",
    ),
    pytest.param(
        "deduplicate", {"subset": ["名前"], "keep": "last"}, {"keep": "all"}, id="deduplicate"
    ),
    pytest.param(
        "fill_null", {"strategy": "forward"}, {"value": 1, "strategy": "forward"}, id="fill_null"
    ),
    pytest.param("drop_nulls", {"subset": ["day"]}, {"subset": "day"}, id="drop_nulls"),
    pytest.param("sample", {"fraction": 0.6, "seed": 3}, {"fraction": 0.6, "n": 2}, id="sample"),
    pytest.param("limit", {"n": 3, "offset": 1}, {"n": 3, "skip": 1}, id="limit"),
]


@pytest.mark.parametrize(("kind", "params", "bad"), NODE_CASES)
def test_runs_as_a_notebook_node(
    kind: str, params: dict[str, Any], bad: dict[str, Any], orders: pl.DataFrame
) -> None:
    pipeline = Pipeline("rows")
    pipeline.add(Node("orders", code=ORDERS_CELL))
    pipeline.add(Node("out", component=kind, params={"input": "orders", **params}))
    assert pipeline.validate() == []
    result = pipeline.run(hooks=[])
    assert result.status == "succeeded", result.node_runs["out"].error
    expected = make(kind, params).build({"orders": orders}).collect()
    assert_frame_equal(result.outputs["out"], expected)


@pytest.mark.parametrize(("kind", "params", "bad"), NODE_CASES)
def test_validate_reports_bad_parameters(
    kind: str, params: dict[str, Any], bad: dict[str, Any]
) -> None:
    pipeline = Pipeline("rows")
    pipeline.add(Node("orders", code=ORDERS_CELL))
    pipeline.add(Node("out", component=kind, params={"input": "orders", **bad}))
    issues = pipeline.validate()
    assert [(i.code, i.node) for i in issues] == [("bad-parameters", "out")]
    assert f"component '{kind}'" in issues[0].message


def test_unknown_column_fails_the_node_not_the_run_call() -> None:
    pipeline = Pipeline("rows")
    pipeline.add(Node("orders", code=ORDERS_CELL))
    pipeline.add(Node("out", component="sort", params={"input": "orders", "by": "montant"}))
    result = pipeline.run(hooks=[])
    assert result.status == "failed"
    assert "did you mean 'montant €'" in (result.node_runs["out"].error or "")

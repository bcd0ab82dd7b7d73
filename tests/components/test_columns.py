"""Column components: select, drop, rename, cast, derive."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline_lab.components import ComponentError, get_component
from pipeline_lab.graph import Node, Pipeline

D1, D3, D4 = date(2024, 1, 1), date(2024, 1, 3), date(2024, 1, 4)
IDS = [1, 2, 2, None, 5]
PARIS = ZoneInfo("Europe/Paris")

# (component, parameters, input fixture, expected output columns in order, with their values)
CASES = [
    pytest.param(
        "select",
        {"columns": ["名前", "id"]},
        "orders",
        {"名前": ["ana", "bo", "bo", None, "émile"], "id": IDS},
        id="select-reorders",
    ),
    pytest.param(
        "select", {"columns": ["day"]}, "orders", {"day": [D1, None, D3, D4, None]}, id="select-one"
    ),
    pytest.param(
        "drop",
        {"columns": ["montant €", "名前"]},
        "orders",
        {"id": IDS, "day": [D1, None, D3, D4, None]},
        id="drop",
    ),
    pytest.param(
        "drop",
        {"columns": ["montant €", "名前", "nope"], "strict": False},
        "orders",
        {"id": IDS, "day": [D1, None, D3, D4, None]},
        id="drop-lenient",
    ),
    pytest.param(
        "rename",
        {"columns": {"名前": "name", "montant €": "amount"}},
        "orders",
        {
            "id": IDS,
            "amount": [10.0, None, 3.5, 7.25, None],
            "name": ["ana", "bo", "bo", None, "émile"],
            "day": [D1, None, D3, D4, None],
        },
        id="rename",
    ),
    pytest.param(
        "rename",
        {"columns": {"id": "day", "day": "id"}},
        "orders",
        {
            "day": IDS,
            "montant €": [10.0, None, 3.5, 7.25, None],
            "名前": ["ana", "bo", "bo", None, "émile"],
            "id": [D1, None, D3, D4, None],
        },
        id="rename-swap",
    ),
    pytest.param(
        "cast",
        {"columns": {"id": "string", "montant €": "float32"}},
        "orders",
        {
            "id": ["1", "2", "2", None, "5"],
            "montant €": [10.0, None, 3.5, 7.25, None],
            "名前": ["ana", "bo", "bo", None, "émile"],
            "day": [D1, None, D3, D4, None],
        },
        id="cast-numbers",
    ),
    pytest.param(
        "cast",
        {"columns": {"montant €": "int32"}, "strict": False},
        "orders",
        {
            "id": IDS,
            "montant €": [10, None, None, None, None],  # only whole numbers become integers
            "名前": ["ana", "bo", "bo", None, "émile"],
            "day": [D1, None, D3, D4, None],
        },
        id="cast-whole-numbers-only",
    ),
    pytest.param(
        "cast",
        {"columns": {"day": "Datetime(ms, Europe/Paris)", "montant €": "decimal(10, 2)"}},
        "orders",
        {
            "id": IDS,
            "montant €": [Decimal("10.00"), None, Decimal("3.50"), Decimal("7.25"), None],
            "名前": ["ana", "bo", "bo", None, "émile"],
            "day": [
                datetime(2024, 1, 1, tzinfo=PARIS),  # a date is midnight in the zone
                None,
                datetime(2024, 1, 3, tzinfo=PARIS),
                datetime(2024, 1, 4, tzinfo=PARIS),
                None,
            ],
        },
        id="cast-datetime-decimal",
    ),
    pytest.param(
        "cast",
        {"columns": {"名前": "categorical", "day": "string"}},
        "orders",
        {
            "id": IDS,
            "montant €": [10.0, None, 3.5, 7.25, None],
            "名前": ["ana", "bo", "bo", None, "émile"],
            "day": ["2024-01-01", None, "2024-01-03", "2024-01-04", None],
        },
        id="cast-categorical-string",
    ),
    pytest.param(
        "cast",
        {"columns": {"id": "int64", "day": "date", "montant €": "float"}, "strict": False},
        "raw_orders",
        {
            "id": [1, 2, None, None, 5],
            "montant €": [10.5, None, 3.25, 7.0, None],
            "名前": ["ana", "bo", None, "chloé", "émile"],
            "day": [D1, date(2024, 1, 2), None, None, date(2024, 1, 5)],
        },
        id="cast-lenient-strings",
    ),
    pytest.param(
        "derive",
        {"columns": {"double": '"montant €" * 2'}},
        "orders",
        {"double": [20.0, None, 7.0, 14.5, None]},
        id="derive-unicode",
    ),
    pytest.param(
        "derive",
        {"columns": {"double": '"montant €" * 2', "quad": "double * 2"}},
        "orders",
        {"quad": [40.0, None, 14.0, 29.0, None]},
        id="derive-chained",
    ),
    pytest.param(
        "derive",
        {"columns": {"名前": "upper(名前)"}},
        "orders",
        {"名前": ["ANA", "BO", "BO", None, "ÉMILE"]},
        id="derive-replaces",
    ),
    pytest.param(
        "derive",
        {
            "columns": {
                "size": "CASE WHEN id > 1 THEN 'big' ELSE 'small' END",
                "year": "EXTRACT(YEAR FROM day)",
                "one": "1",
                "id_or_0": "COALESCE(id, 0)",
            }
        },
        "orders",
        {
            "size": ["small", "big", "big", "small", "big"],
            "year": [2024, None, 2024, 2024, None],
            "one": [1] * 5,
            "id_or_0": [1, 2, 2, 0, 5],
        },
        id="derive-sql",
    ),
]


def make(kind: str, params: dict[str, Any], node: str | None = "out") -> Any:
    return get_component(kind)({"input": "orders", **params}, node=node)


@pytest.mark.parametrize(("kind", "params", "source", "expected"), CASES)
def test_output(
    kind: str,
    params: dict[str, Any],
    source: str,
    expected: dict[str, list[Any]],
    request: pytest.FixtureRequest,
    same_as_code: Any,
) -> None:
    frame = request.getfixturevalue(source)
    out = same_as_code(make(kind, params), {"orders": frame})
    if kind != "derive":
        assert out.columns == list(expected)
    else:
        assert out.columns[: frame.width] == frame.columns
    assert {c: out[c].to_list() for c in expected} == expected


@pytest.mark.parametrize(("kind", "params", "source", "expected"), CASES)
def test_empty_input_gives_empty_output(
    kind: str,
    params: dict[str, Any],
    source: str,
    expected: Any,
    request: pytest.FixtureRequest,
    same_as_code: Any,
) -> None:
    frame = request.getfixturevalue(source)
    out = same_as_code(make(kind, params), {"orders": frame.clear()})
    assert out.height == 0
    assert out.schema == make(kind, params).run({"orders": frame}).schema


@pytest.mark.parametrize(("kind", "params", "source", "expected"), CASES)
def test_pandas_input(
    kind: str, params: dict[str, Any], source: str, expected: Any, request: pytest.FixtureRequest
) -> None:
    frame = request.getfixturevalue(source)
    component = make(kind, params)
    from_pandas = component.run({"orders": frame.to_pandas(use_pyarrow_extension_array=True)})
    assert_frame_equal(from_pandas, component.run({"orders": frame}))


def test_plain_pandas_input() -> None:
    frame = pd.DataFrame({"montant €": [1.5, float("nan")], "名前": ["a", None], "n": ["1", "2"]})
    out = make("cast", {"columns": {"n": "int8", "montant €": "string"}}).run({"orders": frame})
    assert out.rows() == [("1.5", "a", 1), (None, None, 2)]
    out = make("derive", {"columns": {"x": '"montant €" + 1'}}).build({"orders": frame})
    assert out.collect()["x"].to_list() == [2.5, None]


@pytest.mark.parametrize(("kind", "params", "source", "expected"), CASES)
def test_lineage_covers_every_output_column(
    kind: str, params: dict[str, Any], source: str, expected: Any, request: pytest.FixtureRequest
) -> None:
    frame = request.getfixturevalue(source)
    lineage = make(kind, params).columns({"orders": frame.schema})
    out = make(kind, params).run({"orders": frame})
    assert [c.column for c in lineage] == out.columns
    for column in lineage:
        assert all(node == "orders" and name in frame.columns for node, name in column.sources)


def test_lineage_how_and_sources(orders: pl.DataFrame) -> None:
    schemas = {"orders": orders.schema}
    rename = make("rename", {"columns": {"名前": "name"}}).columns(schemas)
    assert rename[2].column == "name" and rename[2].sources == (("orders", "名前"),)
    assert {c.how for c in rename} == {"direct"}
    cast = {c.column: c.how for c in make("cast", {"columns": {"id": "string"}}).columns(schemas)}
    assert cast == {"id": "derived", "montant €": "direct", "名前": "direct", "day": "direct"}
    derive = make("derive", {"columns": {"d": '"montant €" * id', "e": "d + 1", "one": "1"}})
    found = {c.column: c for c in derive.columns(schemas)}
    assert found["e"].how == "derived"
    assert set(found["e"].sources) == {("orders", "montant €"), ("orders", "id")}
    assert found["one"].sources == ()
    assert found["id"].how == "direct" and found["id"].sources == (("orders", "id"),)


# -- cast: strictness and types ------------------------------------------------------------------
def test_strict_cast_reports_column_count_and_examples() -> None:
    frame = pl.DataFrame({"n": ["1", "x", "y", "x", None, "2", "1e3"]})
    cast = make("cast", {"columns": {"n": "int64"}})
    collected = cast.build({"orders": frame}).collect()  # lazy: the plan counts the failures
    with pytest.raises(ComponentError) as error:
        cast.finish(collected)  # ... and the error is raised once it is collected
    text = str(error.value)
    assert "column 'n': 4 of 6 non-null values do not convert to int64" in text
    assert "'x', 'y', '1e3'" in text and "strict: false" in text
    assert error.value.node == "out"


@pytest.mark.parametrize(
    ("columns", "words"),
    [
        pytest.param(
            {"montant €": "int64"},
            ["'montant €': 2 of 3", "int64, e.g. '10.5', '3.25'"],  # '' is missing: not counted
            id="fractions-to-integer",
        ),
        pytest.param({"day": "date"}, ["'day': 1 of 4", "'2024-02-30'"], id="impossible-date"),
        pytest.param({"id": "uint8"}, ["'id': 1 of 4", "'x'"], id="not-a-number"),
    ],
)
def test_strict_cast_failures(
    columns: dict[str, str], words: list[str], raw_orders: pl.DataFrame
) -> None:
    with pytest.raises(ComponentError) as error:
        make("cast", {"columns": columns}).run({"orders": raw_orders})
    for word in words:
        assert word in str(error.value)


def test_lenient_cast_nulls_what_does_not_convert(raw_orders: pl.DataFrame) -> None:
    out = make("cast", {"columns": {"id": "int8"}, "strict": False}).run({"orders": raw_orders})
    assert out["id"].to_list() == [1, 2, None, None, 5]


def test_overflow_is_a_failure() -> None:
    frame = pl.DataFrame({"n": [1, 300, -5]})
    with pytest.raises(ComponentError, match="2 of 3 non-null values do not convert to uint8"):
        make("cast", {"columns": {"n": "uint8"}}).run({"orders": frame})


def test_cast_parses_booleans_from_text() -> None:
    frame = pl.DataFrame({"ok": [" yes", "No", "1", "f", None, ""]})
    out = make("cast", {"columns": {"ok": "boolean"}}).run({"orders": frame})
    assert out["ok"].to_list() == [True, False, True, False, None, None]
    with pytest.raises(ComponentError, match=r"'ok': 2 of 3 non-null values .* e.g. 'maybe'"):
        make("cast", {"columns": {"ok": "bool"}}).run(
            {"orders": pl.DataFrame({"ok": ["maybe"] * 2 + ["y"]})}
        )


def test_cast_between_types_polars_cannot_convert_points_to_derive(
    orders: pl.DataFrame,
) -> None:
    with pytest.raises(ComponentError) as error:
        make("cast", {"columns": {"day": "bool"}}).build({"orders": orders})
    assert "cast: column 'day' of type Date cannot be cast to bool" in str(error.value)
    assert "derive" in str(error.value)


def test_to_code_before_a_run_parses_strings(raw_orders: pl.DataFrame) -> None:
    component = make("cast", {"columns": {"day": "date", "id": "int64"}, "strict": False})
    code = component.to_code()
    assert "pl.col('day').str.strip_chars().str.to_date('%Y-%m-%d', strict=False)" in code
    assert "pl.col('id').str.strip_chars().str.to_integer(dtype=pl.Int64, strict=False)" in code
    result = eval(code, {"pl": pl, "orders": raw_orders.lazy()})  # our generated code
    assert_frame_equal(result.collect(), component.run({"orders": raw_orders}))


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "params", "words"),
    [
        pytest.param("select", {}, ["'columns' is required"], id="select-missing"),
        pytest.param("rename", {}, ["'columns' is required"], id="rename-missing"),
        pytest.param(
            "select", {"columns": "id"}, ["'columns'", "valid list"], id="select-mistyped"
        ),
        pytest.param(
            "select", {"columns": []}, ["'columns'", "at least 1 item"], id="select-empty"
        ),
        pytest.param(
            "select", {"columns": ["id", "id"]}, ["'id' more than once"], id="select-twice"
        ),
        pytest.param("drop", {"columns": [1]}, ["'columns.0'", "valid string"], id="drop-mistyped"),
        pytest.param(
            "drop",
            {"columns": ["id"], "strict": "sometimes"},
            ["'strict'", "valid boolean"],
            id="drop-strict",
        ),
        pytest.param(
            "rename", {"columns": ["id"]}, ["'columns'", "valid dictionary"], id="rename-list"
        ),
        pytest.param(
            "rename", {"columns": {"id": " "}}, ["new column name is empty"], id="rename-empty"
        ),
        pytest.param(
            "rename",
            {"columns": {"id": "x", "day": "x"}},
            ["'x' more than once"],
            id="rename-twice",
        ),
        pytest.param(
            "derive", {"columns": {"x": 5}}, ["'columns.x'", "valid string"], id="derive-mistyped"
        ),
        pytest.param(
            "derive",
            {"columns": {"x": "1"}, "as": "y"},
            ["unknown parameter 'as'"],
            id="derive-unknown",
        ),
        pytest.param(
            "select",
            {"columns": ["id"], "cols": ["id"]},
            ["unknown parameter 'cols'"],
            id="select-unknown",
        ),
        pytest.param(
            "cast",
            {"columns": {"id": "int65"}},
            ["unknown type 'int65'", "int64", "decimal(PRECISION, SCALE)", "categorical"],
            id="cast-unknown-type",
        ),
        pytest.param(
            "cast", {"columns": {"id": "decimal(50, 2)"}}, ["precision <= 38"], id="cast-precision"
        ),
        pytest.param(
            "cast",
            {"columns": {"id": "datetime(us, Mars/Base)"}},
            ["unknown time zone"],
            id="cast-zone",
        ),
        pytest.param("cast", {"columns": {"id": "datetime(s)"}}, ["unknown type"], id="cast-unit"),
        pytest.param(
            "cast", {"columns": {"id": 64}}, ["'columns.id'", "valid string"], id="cast-mistyped"
        ),
    ],
)
def test_bad_parameters(kind: str, params: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(ComponentError) as error:
        make(kind, params)
    assert error.value.node == "out"
    for word in [f"component '{kind}'", *words]:
        assert word in str(error.value)


@pytest.mark.parametrize(
    ("kind", "params", "closest"),
    [
        pytest.param("select", {"columns": ["id", "montant"]}, "'montant €'", id="select"),
        pytest.param("drop", {"columns": ["dya"]}, "'day'", id="drop"),
        pytest.param("rename", {"columns": {"名前s": "name"}}, "'名前'", id="rename"),
        pytest.param("cast", {"columns": {"ids": "int64"}}, "'id'", id="cast"),
        pytest.param("derive", {"columns": {"x": "montnt * 2"}}, "'montant €'", id="derive"),
        pytest.param(
            "derive", {"columns": {"x": "id * 2", "y": "xx + 1"}}, "'x'", id="derive-later-column"
        ),
    ],
)
def test_unknown_column_lists_closest(
    kind: str, params: dict[str, Any], closest: str, orders: pl.DataFrame
) -> None:
    with pytest.raises(ComponentError) as error:
        make(kind, params).build({"orders": orders})
    assert "does not have" in str(error.value)
    assert f"did you mean {closest}" in str(error.value)
    with pytest.raises(ComponentError):
        make(kind, params).columns({"orders": orders.schema})


def test_rename_onto_an_existing_column(orders: pl.DataFrame) -> None:
    with pytest.raises(ComponentError, match="new name\\(s\\) 'day' are already columns"):
        make("rename", {"columns": {"id": "day"}}).build({"orders": orders})


@pytest.mark.parametrize(
    "expression",
    [
        pytest.param('"montant €" *', id="unfinished"),
        pytest.param("id +* 2", id="operators"),
        pytest.param("id; DELETE FROM orders", id="statement"),
        pytest.param("nosuchfunction(id)", id="unknown-function"),
    ],
)
def test_sql_that_does_not_parse(expression: str, orders: pl.DataFrame) -> None:
    with pytest.raises(ComponentError, match=r"'columns\.x' is not a valid SQL expression"):
        make("derive", {"columns": {"x": expression}}).build({"orders": orders})


def test_sql_type_error_names_the_column(orders: pl.DataFrame) -> None:
    with pytest.raises(ComponentError, match=r"'columns\.y' .* does not fit the input 'orders'"):
        make("derive", {"columns": {"x": "id * 2", "y": "名前 - x"}}).build({"orders": orders})


@pytest.mark.parametrize(
    "template",
    [
        pytest.param("__import__('os').system('touch {path}')", id="dunder-import"),
        pytest.param("\"); import os; os.system('touch {path}'); (\"", id="quote-escape"),
        pytest.param('eval(\'open("{path}", "w")\')', id="eval"),
        pytest.param('id + exec(\'open("{path}", "w")\')', id="exec"),
    ],
)
def test_code_injection_stays_sql(template: str, tmp_path: Path, orders: pl.DataFrame) -> None:
    marker = tmp_path / "pwned"
    params = {"columns": {"x": template.format(path=marker)}}
    with pytest.raises(ComponentError):
        make("derive", params).build({"orders": orders}).collect()
    assert not marker.exists()


# -- as notebook nodes ------------------------------------------------------------------------------
ORDERS_CELL = """\
import polars as pl
orders = pl.DataFrame({"id": ["1", "2", None], "montant €": [1.5, None, 3.0], "名前": ["a", "b", None]})
"""
NODE_INPUT = pl.DataFrame(
    {"id": ["1", "2", None], "montant €": [1.5, None, 3.0], "名前": ["a", "b", None]}
)

NODE_CASES = [
    pytest.param("select", {"columns": ["名前"]}, {"columns": "名前"}, id="select"),
    pytest.param("drop", {"columns": ["名前"]}, {"columns": ["名前"], "strict": "?"}, id="drop"),
    pytest.param("rename", {"columns": {"名前": "name"}}, {"columns": {"名前": 1}}, id="rename"),
    pytest.param("cast", {"columns": {"id": "int16"}}, {"columns": {"id": "integer16"}}, id="cast"),
    pytest.param("derive", {"columns": {"x": '"montant €" * 2'}}, {"columns": "x"}, id="derive"),
]


@pytest.mark.parametrize(("kind", "params", "bad"), NODE_CASES)
def test_runs_as_a_notebook_node(kind: str, params: dict[str, Any], bad: Any) -> None:
    pipeline = Pipeline("columns")
    pipeline.add(Node("orders", code=ORDERS_CELL))
    pipeline.add(Node("out", component=kind, params={"input": "orders", **params}))
    assert pipeline.validate() == []
    result = pipeline.run(hooks=[])
    assert result.status == "succeeded", result.node_runs["out"].error
    expected = make(kind, params).run({"orders": NODE_INPUT})
    assert_frame_equal(result.outputs["out"], expected)


@pytest.mark.parametrize(("kind", "params", "bad"), NODE_CASES)
def test_validate_reports_bad_parameters(kind: str, params: Any, bad: dict[str, Any]) -> None:
    pipeline = Pipeline("columns")
    pipeline.add(Node("orders", code=ORDERS_CELL))
    pipeline.add(Node("out", component=kind, params={"input": "orders", **bad}))
    issues = pipeline.validate()
    assert [(i.code, i.node) for i in issues] == [("bad-parameters", "out")]
    assert f"component '{kind}'" in issues[0].message


def test_strict_cast_failure_fails_the_node() -> None:
    pipeline = Pipeline("columns")
    pipeline.add(
        Node("orders", code='import polars as pl\norders = pl.DataFrame({"n": ["1", "x"]})')
    )
    pipeline.add(
        Node("out", component="cast", params={"input": "orders", "columns": {"n": "int64"}})
    )
    result = pipeline.run(hooks=[])
    assert result.status == "failed"
    assert "column 'n': 1 of 2 non-null values do not convert to int64" in (
        result.node_runs["out"].error or ""
    )


def test_derive_with_an_expression_that_needs_column_types() -> None:
    """DATE_TRUNC needs the column's type: it runs through the frame's SQL context."""
    import datetime as dt

    from pipeline_lab.components import get_component

    frame = pl.DataFrame({"ts": [dt.datetime(2025, 1, 5, 3), dt.datetime(2025, 2, 7)], "a": [1, 2]})
    derive = get_component("derive")(
        {"input": "src", "columns": {"month": "date_trunc('month', ts)", "ts2": "a * 2"}}
    )
    out = derive.build({"src": frame}).collect()
    assert out["month"].to_list() == [dt.datetime(2025, 1, 1), dt.datetime(2025, 2, 1)]
    assert out.columns == ["ts", "a", "month", "ts2"]
    pasted = eval(derive.to_code(), {"pl": pl, "src": frame.lazy()}).collect()
    assert pasted.equals(out)
    lineage = {c.column: c for c in derive.columns({"src": frame.schema})}
    assert lineage["month"].sources == (("src", "ts"),) and lineage["month"].how == "derived"
    bad = get_component("derive")({"input": "src", "columns": {"m": "date_trunc('month', tz)"}})
    with pytest.raises(ComponentError, match="does not fit the input"):
        bad.build({"src": frame})


def test_a_date_function_on_csv_text_says_to_parse_the_dates(tmp_path) -> None:
    """The README's derive example on a CSV read with pipeline_lab.read: the error says how to
    parse the dates, and parsing them makes it work."""
    from pipeline_lab import Node, NodeStatus, Pipeline
    from pipeline_lab.graph import Cell

    (tmp_path / "orders.csv").write_text("order_date,amount\n2025-01-15,10\n2025-02-03,20\n")
    for options, expected in (
        ("", NodeStatus.FAILED),
        (", try_parse_dates=True", NodeStatus.SUCCEEDED),
    ):
        pipeline = Pipeline("dates", setup=[Cell("import pipeline_lab")])
        pipeline.add(
            Node("orders", code=f"pipeline_lab.read({str(tmp_path / 'orders.csv')!r}{options})")
        )
        pipeline.add(
            Node(
                "monthly",
                component="derive",
                params={"input": "orders", "columns": {"month": "date_trunc('month', order_date)"}},
            )
        )
        run = pipeline.run(hooks=[]).node_runs["monthly"]
        assert run.status is expected, run.error
        if expected is NodeStatus.FAILED:
            assert "derive failed" in (run.error or "")
            assert "try_parse_dates=True" in (run.error or "")

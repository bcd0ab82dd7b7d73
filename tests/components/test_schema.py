"""The schema component: typed columns from text, strict gate, lenient nulls, column policies."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline_lab import Node, Pipeline
from pipeline_lab.components import ComponentError, get_component
from pipeline_lab.frames import to_polars

PARIS = ZoneInfo("Europe/Paris")
UTC = ZoneInfo("UTC")


def schema(columns: dict[str, Any], **options: Any) -> Any:
    return get_component("schema")({"input": "raw", "columns": columns, **options}, node="typed")


def convert(values: list[Any], spec: Any, dtype: Any = None, **options: Any) -> pl.Series:
    frame = pl.DataFrame({"v": values}, schema={"v": dtype} if dtype is not None else None)
    return schema({"v": spec}, **options).run({"raw": frame}).get_column("v")


CASTS = [
    pytest.param(
        [" 1", "-2", "+3", None, ""],
        "int64",
        pl.Int64,
        [1, -2, 3, None, None],
        id="int64-spaces-signs-nulls-blank",
    ),
    pytest.param(["127", "-128"], "int8", pl.Int8, [127, -128], id="int8-bounds"),
    pytest.param(["0", "65535"], "uint16", pl.UInt16, [0, 65535], id="uint16"),
    pytest.param(
        ["1,234", "12", "-1,000,000"],
        {"type": "int32", "thousands": ","},
        pl.Int32,
        [1234, 12, -1_000_000],
        id="int-thousands",
    ),
    pytest.param(
        ["1.5", " 2 ", "1e3", "-0.25"],
        "float64",
        pl.Float64,
        [1.5, 2.0, 1000.0, -0.25],
        id="float64",
    ),
    pytest.param(["1.5"], "float32", pl.Float32, [1.5], id="float32"),
    pytest.param(
        ["1,5", "-2,25", "3"],
        {"type": "float64", "decimal": ","},
        pl.Float64,
        [1.5, -2.25, 3.0],
        id="decimal-comma",
    ),
    pytest.param(
        ["1.234,5", "12,75"],
        {"type": "float64", "decimal": ",", "thousands": "."},
        pl.Float64,
        [1234.5, 12.75],
        id="decimal-comma-thousands-dot",
    ),
    pytest.param(
        ["12.34", " 0.5", "-3", None],
        "decimal(10,2)",
        pl.Decimal(10, 2),
        [Decimal("12.34"), Decimal("0.50"), Decimal("-3.00"), None],
        id="decimal",
    ),
    pytest.param(
        ["1 234,50"],
        {"type": "decimal(12, 2)", "decimal": ",", "thousands": " "},
        pl.Decimal(12, 2),
        [Decimal("1234.50")],
        id="decimal-french",
    ),
    pytest.param(
        ["true", "False", " YES ", "no", "y", "N", "1", "0", "t", "F", "on", "OFF", None],
        "bool",
        pl.Boolean,
        [True, False, True, False, True, False, True, False, True, False, True, False, None],
        id="bool-every-spelling",
    ),
    pytest.param(
        ["Oui", "non"],
        {"type": "boolean", "true_values": ["oui"], "false_values": ["NON"]},
        pl.Boolean,
        [True, False],
        id="bool-custom-spellings",
    ),
    pytest.param(
        ["2024-01-05", "2024-12-31", None],
        "date",
        pl.Date,
        [date(2024, 1, 5), date(2024, 12, 31), None],
        id="date-iso",
    ),
    pytest.param(
        ["05/01/2024", "31/12/2024"],
        {"type": "date", "format": "%d/%m/%Y"},
        pl.Date,
        [date(2024, 1, 5), date(2024, 12, 31)],
        id="date-day-first",
    ),
    pytest.param(
        ["01/05/2024", "12/31/2024"],
        {"type": "date", "format": "%m/%d/%Y"},
        pl.Date,
        [date(2024, 1, 5), date(2024, 12, 31)],
        id="date-month-first",
    ),
    pytest.param(
        ["2024-01-05T10:30:00", "2024-01-05 10:30:00.250", "2024-01-05 10:30", "2024-01-05"],
        "datetime",
        pl.Datetime("us"),
        [
            datetime(2024, 1, 5, 10, 30),
            datetime(2024, 1, 5, 10, 30, 0, 250000),
            datetime(2024, 1, 5, 10, 30),
            datetime(2024, 1, 5),
        ],
        id="datetime-iso-variants",
    ),
    pytest.param(
        ["05/01/2024 10:30"],
        {"type": "datetime", "format": "%d/%m/%Y %H:%M", "time_unit": "ms"},
        pl.Datetime("ms"),
        [datetime(2024, 1, 5, 10, 30)],
        id="datetime-format-ms",
    ),
    pytest.param(
        ["2024-01-05 10:00", "2024-07-05 10:00"],
        {"type": "datetime", "time_zone": "Europe/Paris"},
        pl.Datetime("us", "Europe/Paris"),
        [datetime(2024, 1, 5, 10, tzinfo=PARIS), datetime(2024, 7, 5, 10, tzinfo=PARIS)],
        id="datetime-naive-in-zone",
    ),
    pytest.param(
        ["2024-01-05T10:00:00+02:00", "2024-01-05T10:00:00Z", "2024-01-05 11:00"],
        {"type": "datetime", "time_zone": "Europe/Paris"},
        pl.Datetime("us", "Europe/Paris"),
        [
            datetime(2024, 1, 5, 9, tzinfo=PARIS),
            datetime(2024, 1, 5, 11, tzinfo=PARIS),
            datetime(2024, 1, 5, 11, tzinfo=PARIS),
        ],
        id="datetime-aware-converted",
    ),
    pytest.param(
        ["05/01/2024 10:00 +0100"],
        {"type": "datetime", "format": "%d/%m/%Y %H:%M %z"},
        pl.Datetime("us", "UTC"),
        [datetime(2024, 1, 5, 9, tzinfo=UTC)],
        id="datetime-format-with-offset-is-utc",
    ),
    pytest.param(
        ["2024-10-27 02:30"],
        {"type": "datetime", "time_zone": "Europe/Paris", "ambiguous": "earliest"},
        pl.Datetime("us", "Europe/Paris"),
        [datetime(2024, 10, 27, 0, 30, tzinfo=UTC).astimezone(PARIS)],
        id="dst-ambiguous-earliest",
    ),
    pytest.param(
        ["2024-10-27 02:30"],
        {"type": "datetime", "time_zone": "Europe/Paris", "ambiguous": "latest"},
        pl.Datetime("us", "Europe/Paris"),
        [datetime(2024, 10, 27, 1, 30, tzinfo=UTC).astimezone(PARIS)],
        id="dst-ambiguous-latest",
    ),
    pytest.param(
        ["10:30", "10:30:05", "23:59:59.5"],
        "time",
        pl.Time,
        [time(10, 30), time(10, 30, 5), time(23, 59, 59, 500000)],
        id="time-iso",
    ),
    pytest.param(
        ["10h30"], {"type": "time", "format": "%Hh%M"}, pl.Time, [time(10, 30)], id="time-format"
    ),
    pytest.param(
        ["a", "b", "a", None],
        "categorical",
        pl.Categorical,
        ["a", "b", "a", None],
        id="categorical",
    ),
    pytest.param(
        [" keep spaces ", ""], "string", pl.String, [" keep spaces ", ""], id="string-untouched"
    ),
]


@pytest.mark.parametrize(("values", "spec", "dtype", "expected"), CASTS)
def test_casts_text(
    values: list[Any], spec: Any, dtype: Any, expected: list[Any], run_code: Any
) -> None:
    component = schema({"v": spec})
    raw = pl.DataFrame({"v": values}, schema={"v": pl.String})
    out = component.run({"raw": raw})
    assert out.schema["v"] == dtype
    assert out.get_column("v").to_list() == expected
    assert_frame_equal(run_code(component.to_code(), {"raw": raw}).collect(), out)


NON_TEXT = [
    pytest.param([2.0, -3.0, None], pl.Float64, "int64", [2, -3, None], id="whole-floats-to-int"),
    pytest.param([1, 2], pl.Int64, "float32", [1.0, 2.0], id="int-to-float"),
    pytest.param([1, 0, None], pl.Int64, "bool", [True, False, None], id="int-to-bool"),
    pytest.param([True, False], pl.Boolean, "int8", [1, 0], id="bool-to-int"),
    pytest.param([1, 2], pl.Int64, "categorical", ["1", "2"], id="int-to-categorical"),
    pytest.param([1.5], pl.Float64, "string", ["1.5"], id="float-to-string"),
    pytest.param(
        [datetime(2024, 1, 5, 10)],
        pl.Datetime("us"),
        "date",
        [date(2024, 1, 5)],
        id="datetime-to-date",
    ),
    pytest.param(
        [date(2024, 1, 5)],
        pl.Date,
        {"type": "datetime", "time_zone": "UTC"},
        [datetime(2024, 1, 5, tzinfo=UTC)],
        id="date-to-datetime-utc",
    ),
    pytest.param(
        [datetime(2024, 1, 5, 10)],
        pl.Datetime("us"),
        {"type": "datetime", "time_zone": "Europe/Paris"},
        [datetime(2024, 1, 5, 10, tzinfo=PARIS)],
        id="naive-datetime-localized",
    ),
    pytest.param(
        [datetime(2024, 1, 5, 9, tzinfo=UTC)],
        pl.Datetime("us", "UTC"),
        {"type": "datetime", "time_zone": "Europe/Paris"},
        [datetime(2024, 1, 5, 10, tzinfo=PARIS)],
        id="aware-datetime-converted",
    ),
    pytest.param(
        [datetime(2024, 1, 5, 9, tzinfo=UTC)],
        pl.Datetime("ns", "UTC"),
        "datetime",
        [datetime(2024, 1, 5, 9, tzinfo=UTC)],
        id="aware-datetime-kept",
    ),
    pytest.param([None, None], pl.Null, "int64", [None, None], id="all-null-column"),
]


@pytest.mark.parametrize(("values", "source", "spec", "expected"), NON_TEXT)
def test_casts_typed_columns(
    values: list[Any], source: Any, spec: Any, expected: list[Any], run_code: Any
) -> None:
    component = schema({"v": spec})
    raw = pl.DataFrame({"v": values}, schema={"v": source})
    out = component.run({"raw": raw})
    assert out.get_column("v").to_list() == expected
    assert_frame_equal(run_code(component.to_code(), {"raw": raw}).collect(), out)


FAILURES = [
    pytest.param(["1", "x", "1.5", None, ""], "int64", ["'x'", "'1.5'"], 2, 3, id="int-junk"),
    pytest.param(["300"], "int8", ["'300'"], 1, 1, id="int8-overflow"),
    pytest.param(["1,5"], "float64", ["'1,5'"], 1, 1, id="decimal-comma-not-declared"),
    pytest.param(["1,234"], "int64", ["'1,234'"], 1, 1, id="thousands-not-declared"),
    pytest.param(
        ["12,34"], {"type": "int64", "thousands": ","}, ["'12,34'"], 1, 1, id="thousands-misplaced"
    ),
    pytest.param(["maybe", "yes"], "bool", ["'maybe'"], 1, 2, id="bool-unknown-spelling"),
    pytest.param(
        ["2024-02-30", "2024-02-28"], "date", ["'2024-02-30'"], 1, 2, id="date-impossible"
    ),
    pytest.param(["05/01/2024"], "date", ["'05/01/2024'"], 1, 1, id="date-not-iso"),
    pytest.param(
        ["2024-01-05T10:00:00+02:00"],
        "datetime",
        ["'2024-01-05T10:00:00+02:00'"],
        1,
        1,
        id="offset-without-time-zone",
    ),
    pytest.param(
        ["2024-10-27 02:30"],
        {"type": "datetime", "time_zone": "Europe/Paris"},
        ["'2024-10-27 02:30'"],
        1,
        1,
        id="dst-ambiguous",
    ),
    pytest.param(
        ["2024-03-31 02:30"],
        {"type": "datetime", "time_zone": "Europe/Paris"},
        ["'2024-03-31 02:30'"],
        1,
        1,
        id="dst-gap",
    ),
    pytest.param(["25:00"], "time", ["'25:00'"], 1, 1, id="time-out-of-range"),
]


@pytest.mark.parametrize(("values", "spec", "examples", "failed", "total"), FAILURES)
def test_strict_failure_names_column_type_count_and_examples(
    values: list[Any], spec: Any, examples: list[str], failed: int, total: int
) -> None:
    component = schema({"v": spec})
    plan = component.build({"raw": pl.DataFrame({"v": values}, schema={"v": pl.String})})
    collected = plan.collect()  # the plan counts the failures ...
    with pytest.raises(ComponentError) as caught:
        component.finish(collected)  # ... and finish raises, once the plan is collected
    message = str(caught.value)
    assert "node 'typed'" in message
    assert f"column 'v' -> {spec if isinstance(spec, str) else spec['type']}" in message
    assert f"{failed} of {total} values do not convert" in message
    assert all(e in message for e in examples), message
    assert "mode: lenient" in message


def test_strict_failure_lists_every_failing_column_with_five_examples(
    raw_orders: pl.DataFrame,
) -> None:
    raw = raw_orders.with_columns(pl.col("montant €").fill_null("n/a"))
    more = pl.DataFrame(
        {
            "id": [f"bad{i}" for i in range(8)],
            "montant €": ["1"] * 8,
            "名前": ["z"] * 8,
            "day": ["2024-01-01"] * 8,
        }
    )
    component = schema({"id": "int64", "montant €": "float64", "day": "date"})
    with pytest.raises(ComponentError) as caught:
        component.run({"raw": pl.concat([raw, more])})
    message = str(caught.value)
    assert (
        "column 'id' -> int64: 9 of 12 values do not convert, e.g. 'x', 'bad0', 'bad1', 'bad2', 'bad3'\n"
        in message
    )
    assert "'bad4'" not in message
    assert "column 'montant €' -> float64: 1 of 12 values do not convert, e.g. 'n/a'" in message
    assert "column 'day' -> date: 1 of 12 values do not convert, e.g. '2024-02-30'" in message


def test_strict_mode_is_lazy_until_collected(raw_orders: pl.DataFrame) -> None:
    """Building the plan reads no data; the gate runs when the plan is collected, streaming too."""
    calls = []

    def source(frame: pl.DataFrame) -> pl.DataFrame:
        calls.append(1)
        return frame

    lazy = raw_orders.lazy().map_batches(source)
    component = schema({"id": "int64"})
    plan = component.build({"raw": lazy})
    assert calls == []
    assert "id" in plan.explain()
    collected = plan.collect(engine="streaming")
    assert calls == [1]
    with pytest.raises(ComponentError, match="column 'id' -> int64: 1 of 4"):
        component.finish(collected)


def test_strict_failure_fails_the_node_in_a_pipeline(raw_orders: pl.DataFrame) -> None:
    pipeline = Pipeline("typing")
    pipeline.add(Node.from_function(lambda: raw_orders, name="raw"))
    pipeline.add(
        Node("typed", component="schema", params={"input": "raw", "columns": {"id": "int64"}})
    )
    pipeline.add(Node("big", component="filter", params={"input": "typed", "condition": "id > 1"}))
    result = pipeline.run(hooks=[])
    assert not result.ok
    # The gate is collected where it is, never fused downstream: its own node fails.
    assert result.node_runs["typed"].status.value == "failed"
    assert "column 'id' -> int64: 1 of 4 values do not convert, e.g. 'x'" in (
        result.node_runs["typed"].error or ""
    )
    assert result.node_runs["big"].status.value == "skipped"


def test_pipeline_runs_schema_then_filter_as_one_plan(raw_orders: pl.DataFrame) -> None:
    pipeline = Pipeline("typing")
    pipeline.add(Node.from_function(lambda: raw_orders, name="raw"))
    pipeline.add(
        Node(
            "typed",
            component="schema",
            params={"input": "raw", "columns": {"id": "int64", "day": "date"}, "mode": "lenient"},
        )
    )
    pipeline.add(
        Node(
            "late",
            component="filter",
            params={"input": "typed", "condition": "day > DATE '2024-01-01'"},
        )
    )
    result = pipeline.run(hooks=[])
    assert result.ok, result.node_runs
    late = to_polars(result.outputs["late"])
    assert late.get_column("id").to_list() == [2, 5]
    assert late.schema["day"] == pl.Date


def test_lenient_nulls_failures_and_reports_counts(raw_orders: pl.DataFrame) -> None:
    component = schema(
        {"id": "int64", "montant €": "float64", "day": "date", "名前": "string"}, mode="lenient"
    )
    out = component.build({"raw": raw_orders}).collect()
    assert out.get_column("id").to_list() == [1, 2, None, None, 5]
    assert out.get_column("montant €").to_list() == [10.5, None, 3.25, 7.0, None]
    assert out.get_column("day").to_list() == [
        date(2024, 1, 1),
        date(2024, 1, 2),
        None,
        None,
        date(2024, 1, 5),
    ]
    assert component.conversion_report(raw_orders) == {"id": 1, "montant €": 0, "day": 1, "名前": 0}
    assert component.conversion_report(raw_orders.to_pandas()) == component.conversion_report(
        raw_orders.lazy()
    )


def test_lenient_code_is_one_expression_with_the_same_result(
    raw_orders: pl.DataFrame, same_as_code: Any
) -> None:
    component = schema(
        {"id": "int64", "day": {"type": "date", "format": "%Y-%m-%d"}}, mode="lenient"
    )
    same_as_code(component, {"raw": raw_orders})


def test_strict_code_checks_like_the_component(raw_orders: pl.DataFrame, run_code: Any) -> None:
    component = schema({"id": "int64"})
    with pytest.raises(ValueError, match="'id': 1"):
        run_code(component.to_code(), {"raw": raw_orders})
    clean = raw_orders.filter(pl.col("id") != "x")
    assert_frame_equal(
        run_code(component.to_code(), {"raw": clean}).collect(), component.run({"raw": clean})
    )


def test_to_code_before_any_run_assumes_text_columns() -> None:
    code = schema({"n": "int64"}).to_code()
    assert "pl.col('n').str.strip_chars().str.to_integer(dtype=pl.Int64, strict=False)" in code


@pytest.mark.parametrize(
    ("policy", "columns"),
    [
        pytest.param("keep", ["id", "montant €", "名前", "day"], id="keep"),
        pytest.param("drop", ["day", "id"], id="drop-in-declared-order"),
    ],
)
def test_extra_columns_keep_or_drop(
    raw_orders: pl.DataFrame, policy: str, columns: list[str]
) -> None:
    component = schema({"day": "date", "id": "int64"}, extra_columns=policy, mode="lenient")
    out = component.build({"raw": raw_orders}).collect()
    assert out.columns == columns
    assert out.schema["id"] == pl.Int64


def test_extra_columns_error_names_them(raw_orders: pl.DataFrame) -> None:
    with pytest.raises(ComponentError, match="undeclared column\\(s\\) 'montant €', '名前'"):
        schema({"id": "int64", "day": "date"}, extra_columns="error").build({"raw": raw_orders})


def test_missing_column_error_suggests_the_closest(raw_orders: pl.DataFrame) -> None:
    with pytest.raises(ComponentError) as caught:
        schema({"dya": "date"}).build({"raw": raw_orders})
    assert "'dya'" in str(caught.value) and "did you mean 'day'" in str(caught.value)


def test_missing_column_filled_with_typed_nulls(raw_orders: pl.DataFrame) -> None:
    out = schema({"region": "categorical", "id": "int64"}, missing_columns="null", mode="lenient")
    frame = out.build({"raw": raw_orders}).collect()
    assert frame.schema["region"] == pl.Categorical
    assert frame.get_column("region").null_count() == frame.height


@pytest.mark.parametrize("mode", ["strict", "lenient"])
def test_not_nullable_column_fails_on_nulls(raw_orders: pl.DataFrame, mode: str) -> None:
    component = schema({"名前": {"type": "string", "nullable": False}}, mode=mode)
    assert component.must_collect
    with pytest.raises(
        ComponentError, match="column '名前' -> string is not nullable but has 1 null values"
    ):
        component.run({"raw": raw_orders})


def test_pandas_input(raw_orders: pl.DataFrame) -> None:
    frame = raw_orders.to_pandas()
    assert isinstance(frame, pd.DataFrame)
    out = schema({"id": "int64", "day": "date"}, mode="lenient").build({"raw": frame}).collect()
    assert out.get_column("id").to_list() == [1, 2, None, None, 5]
    assert out.schema["day"] == pl.Date


def test_empty_input_gives_the_declared_schema(raw_orders: pl.DataFrame) -> None:
    columns = {
        "id": "int64",
        "montant €": "decimal(10,2)",
        "day": {"type": "datetime", "time_zone": "UTC"},
    }
    out = schema(columns).run({"raw": raw_orders.clear()})
    assert out.height == 0
    assert out.schema == pl.Schema(
        {
            "id": pl.Int64,
            "montant €": pl.Decimal(10, 2),
            "名前": pl.String,
            "day": pl.Datetime("us", "UTC"),
        }
    )


def test_column_lineage(raw_orders: pl.DataFrame) -> None:
    lineage = schema({"id": "int64"}).columns({"raw": dict(raw_orders.schema)})
    assert [(c.column, c.how) for c in lineage] == [
        ("id", "derived"),
        ("montant €", "direct"),
        ("名前", "direct"),
        ("day", "direct"),
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param(
            {"columns": {"n": "integr"}}, "column 'n': unknown type 'integr'", id="unknown-type"
        ),
        pytest.param({"columns": {"n": "integr"}}, "known: int8", id="unknown-type-lists-known"),
        pytest.param({"columns": {"n": "decimal"}}, "decimal(12,2)", id="decimal-needs-scale"),
        pytest.param(
            {"columns": {"t": {"type": "datetime", "time_zone": "Mars/Base"}}},
            "unknown time zone 'Mars/Base'",
            id="unknown-zone",
        ),
        pytest.param(
            {"columns": {"n": {"type": "float64", "decimal": ",", "thousands": ","}}},
            "both ','",
            id="same-separators",
        ),
        pytest.param(
            {"columns": {"n": {"type": "int64", "fromat": "x"}}},
            "column 'n': unknown option 'fromat' (known: type, format,",
            id="misspelled-option",
        ),
        pytest.param(
            {"columns": {"n": {"format": "%Y"}}},
            "column 'n': option 'type' is required",
            id="no-type",
        ),
        pytest.param({"columns": {"n": 3}}, "a type is a name such as 'int64'", id="not-a-spec"),
        pytest.param(
            {"columns": {"n": {"type": "date", "nullable": "perhaps"}}},
            "option 'nullable'",
            id="bad-option-value",
        ),
        pytest.param(
            {"columns": {"n": "int64"}, "mode": "strickt"}, "parameter 'mode'", id="bad-mode"
        ),
        pytest.param(
            {"columns": {"n": "int64"}, "extra_columns": "ignore"},
            "parameter 'extra_columns'",
            id="bad-extra-policy",
        ),
        pytest.param({}, "parameter 'columns' is required", id="no-columns"),
    ],
)
def test_bad_parameters_name_the_parameter(params: dict[str, Any], expected: str) -> None:
    with pytest.raises(ComponentError) as caught:
        get_component("schema")({"input": "raw", **params})
    assert expected in str(caught.value)

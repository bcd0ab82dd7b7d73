"""One type vocabulary: ``cast`` and ``schema`` read every type name, and convert, alike."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipeline_lab.components import ComponentError, get_component
from pipeline_lab.components._types import parse_type


def cast(kind: str, strict: bool = True) -> Any:
    return get_component("cast")({"input": "raw", "columns": {"v": kind}, "strict": strict})


def schema(kind: str | dict[str, str], strict: bool = True) -> Any:
    mode = "strict" if strict else "lenient"
    return get_component("schema")({"input": "raw", "columns": {"v": kind}, "mode": mode})


NAMES = [
    *(pytest.param(n, getattr(pl, n.capitalize())(), id=n) for n in ("int8", "int16", "int32")),
    pytest.param("int64", pl.Int64(), id="int64"),
    *(pytest.param(f"uint{b}", getattr(pl, f"UInt{b}")(), id=f"uint{b}") for b in (8, 16, 32, 64)),
    pytest.param("float32", pl.Float32(), id="float32"),
    pytest.param("float64", pl.Float64(), id="float64"),
    pytest.param("bool", pl.Boolean(), id="bool"),
    pytest.param("string", pl.String(), id="string"),
    pytest.param("date", pl.Date(), id="date"),
    pytest.param("datetime", pl.Datetime("us"), id="datetime"),
    pytest.param("time", pl.Time(), id="time"),
    pytest.param("categorical", pl.Categorical(), id="categorical"),
    # aliases
    pytest.param("int", pl.Int64(), id="alias-int"),
    pytest.param("integer", pl.Int64(), id="alias-integer"),
    pytest.param("float", pl.Float64(), id="alias-float"),
    pytest.param("double", pl.Float64(), id="alias-double"),
    pytest.param("boolean", pl.Boolean(), id="alias-boolean"),
    pytest.param("str", pl.String(), id="alias-str"),
    pytest.param("utf8", pl.String(), id="alias-utf8"),
    pytest.param("text", pl.String(), id="alias-text"),
    pytest.param("category", pl.Categorical(), id="alias-category"),
    # case, spaces and parameters
    pytest.param(" Int64 ", pl.Int64(), id="case-and-spaces"),
    pytest.param("decimal(10)", pl.Decimal(10, 0), id="decimal-scale-0"),
    pytest.param("Decimal(12, 2)", pl.Decimal(12, 2), id="decimal-precision-scale"),
    pytest.param("datetime(ms)", pl.Datetime("ms"), id="datetime-unit"),
    pytest.param("datetime(us)", pl.Datetime("us"), id="datetime-default-unit"),
    pytest.param("DATETIME(ns, UTC)", pl.Datetime("ns", "UTC"), id="datetime-unit-zone"),
    pytest.param(
        "datetime(us, Europe/Paris)", pl.Datetime("us", "Europe/Paris"), id="datetime-zone-case"
    ),
]


@pytest.mark.parametrize(("name", "dtype"), NAMES)
def test_cast_and_schema_read_a_type_name_alike(name: str, dtype: pl.DataType) -> None:
    raw = pl.DataFrame({"v": ["1", None]}, schema={"v": pl.String})
    for component in (cast(name, strict=False), schema(name, strict=False)):
        assert component.run({"raw": raw}).schema["v"] == dtype, component.name
    canonical = parse_type(name).text
    assert cast(name).params.columns["v"] == canonical
    assert schema(name).params.specs()["v"].name == canonical


UNKNOWN = [
    pytest.param("int65", "unknown type 'int65'", id="unknown"),
    pytest.param("integr", "did you mean 'integer'", id="misspelled"),
    pytest.param("", "unknown type ''", id="empty"),
    pytest.param("list[int]", "unknown type 'list[int]'", id="nested"),
    pytest.param("decimal", "decimal needs a precision and a scale", id="decimal-bare"),
    pytest.param("decimal(50, 2)", "precision <= 38", id="decimal-precision"),
    pytest.param("decimal(5, 6)", "scale <= precision", id="decimal-scale"),
    pytest.param("datetime(s)", "unknown type 'datetime(s)'", id="datetime-unit"),
    pytest.param("datetime(ms, Mars/Base)", "unknown time zone 'Mars/Base'", id="datetime-zone"),
]


@pytest.mark.parametrize(("name", "words"), UNKNOWN)
def test_cast_and_schema_refuse_a_type_name_alike(name: str, words: str) -> None:
    with pytest.raises(ValueError) as parsed:
        parse_type(name)
    message = str(parsed.value)
    assert words in message
    for make in (cast, schema):
        with pytest.raises(ComponentError) as refused:
            make(name)
        assert message in str(refused.value)


def test_an_unknown_name_lists_every_known_form() -> None:
    with pytest.raises(ValueError) as parsed:
        parse_type("int65")
    for name in ("int8", "uint64", "categorical", "datetime(UNIT[, TIME_ZONE])", "decimal("):
        assert name in str(parsed.value)


TEXT = [" 12 ", "", "x", None, "1,5", "-3", "2024-01-05", "2024-01-05T10:30", "true", "10:30"]


@pytest.mark.parametrize("name", [p.values[0] for p in NAMES])
def test_cast_converts_text_as_schema_does(name: str) -> None:
    """cast is schema with its default options: same values, same failures."""
    raw = pl.DataFrame({"v": TEXT}, schema={"v": pl.String})
    lenient = [make(name, strict=False).run({"raw": raw}) for make in (cast, schema)]
    assert_frame_equal(*lenient)
    counts = []
    for make in (cast, schema):
        try:
            make(name).run({"raw": raw})
            counts.append(None)
        except ComponentError as exc:
            counts.append(re.search(r"(\d+ of \d+)", exc.message).group(1))  # type: ignore[union-attr]
    assert counts[0] == counts[1]


def test_empty_text_is_missing_not_a_failure() -> None:
    raw = pl.DataFrame({"v": ["1", "", "  "]})
    for make in (cast, schema):
        assert make("int64").run({"raw": raw})["v"].to_list() == [1, None, None]


SOURCES = {
    "int": pl.Series([1, 0, None], dtype=pl.Int64),
    "float": pl.Series([1.0, 2.5, None]),
    "bool": pl.Series([True, False, None]),
    "text": pl.Series(["1", "no", None]),
    "date": pl.Series([date(2024, 1, 5), None, None]),
    "datetime": pl.Series([datetime(2024, 1, 5, 10), None, None]),
    "aware": pl.Series([datetime(2024, 1, 5, 10), None, None]).dt.replace_time_zone("UTC"),
    "time": pl.Series([time(10, 30), None, None]),
    "decimal": pl.Series([Decimal("1.50"), None, None], dtype=pl.Decimal(10, 2)),
    "categorical": pl.Series(["a", "1", None], dtype=pl.Categorical),
    "null": pl.Series([None, None, None]),
    "list": pl.Series([[1], [2], None]),
}
TARGETS = [
    "int8",
    "uint64",
    "float32",
    "bool",
    "string",
    "date",
    "datetime",
    "datetime(ms, UTC)",
    "time",
    "categorical",
    "decimal(10,2)",
]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("source", list(SOURCES))
def test_every_conversion_runs_or_is_refused_when_built(source: str, target: str) -> None:
    """No pair of types fails only when the data is read: polars' refusals show at build."""
    raw = pl.DataFrame({"v": SOURCES[source]})
    for make in (cast, schema):
        component = make(target, strict=False)
        try:
            plan = component.build({"raw": raw})
        except ComponentError as exc:
            assert f"cannot be cast to {target}" in exc.message
            assert "derive" in (exc.hint or "")
            continue
        out = component.finish(plan.collect())
        expected = parse_type(target).dtype()
        if (source, target) == ("aware", "datetime"):  # an aware time keeps its zone
            expected = pl.Datetime("us", "UTC")
        assert out.schema["v"] == expected


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        pytest.param(
            {"type": "datetime(ms)", "time_unit": "ns"},
            "type 'datetime(ms)' has time_unit 'ms' but option 'time_unit' is 'ns'",
            id="unit",
        ),
        pytest.param(
            {"type": "datetime(ms, UTC)", "time_zone": "Europe/Paris"},
            "has time_zone 'UTC' but option 'time_zone' is 'Europe/Paris'",
            id="zone",
        ),
    ],
)
def test_a_datetime_name_and_its_options_must_agree(spec: dict[str, str], words: str) -> None:
    with pytest.raises(ComponentError, match=re.escape(words)):
        schema(spec)
    same = {**spec, "time_unit": "ms"} if "time_unit" in spec else {**spec, "time_zone": "UTC"}
    assert schema(same).params.specs()["v"].dtype() == parse_type(spec["type"]).dtype()

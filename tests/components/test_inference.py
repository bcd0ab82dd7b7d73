"""Type advice for string columns: what they look like, how sure, and what does not fit."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from pipeline_lab.components import get_component
from pipeline_lab.components._inference import TypeAdvice, infer_types, schema_suggestion

ADVICE = [
    pytest.param(["1", " 2", "-30", None, ""], "int64", id="ints"),
    pytest.param(
        ["1,000", "2,500,000", "12"], {"type": "int64", "thousands": ","}, id="ints-thousands"
    ),
    pytest.param(["1.5", "2", "1e3"], "float64", id="floats"),
    pytest.param(["1,5", "2,25", "3"], {"type": "float64", "decimal": ","}, id="decimal-comma"),
    pytest.param(
        ["1.234,5", "2,5"],
        {"type": "float64", "decimal": ",", "thousands": "."},
        id="decimal-comma-thousands-dot",
    ),
    pytest.param(["1,234.5", "2.5"], {"type": "float64", "thousands": ","}, id="floats-thousands"),
    pytest.param(["yes", "No", "TRUE", "off", "y"], "bool", id="booleans"),
    pytest.param(["2024-01-05", "2023-12-31"], "date", id="iso-dates"),
    pytest.param(
        ["13/01/2024", "05/02/2024"], {"type": "date", "format": "%d/%m/%Y"}, id="day-first-dates"
    ),
    pytest.param(
        ["01/13/2024", "02/05/2024"], {"type": "date", "format": "%m/%d/%Y"}, id="month-first-dates"
    ),
    pytest.param(["31.12.2024"], {"type": "date", "format": "%d.%m.%Y"}, id="dotted-dates"),
    pytest.param(["2024-01-05T10:00:00", "2024-01-05 11:30"], "datetime", id="iso-datetimes"),
    pytest.param(
        ["2024-01-05T10:00:00+02:00", "2024-01-05T10:00:00Z"],
        {"type": "datetime", "time_zone": "UTC"},
        id="datetimes-with-offsets",
    ),
    pytest.param(
        ["13/01/2024 10:30"],
        {"type": "datetime", "format": "%d/%m/%Y %H:%M"},
        id="day-first-datetimes",
    ),
    pytest.param(["10:30", "23:59:59"], "time", id="times"),
]


@pytest.mark.parametrize(("values", "suggested"), ADVICE)
def test_suggests_the_type_that_converts(values: list[str | None], suggested: Any) -> None:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    [advice] = infer_types(frame)
    assert advice.column == "v" and advice.current == "String"
    assert advice.suggested == suggested
    assert advice.confidence == 1.0 and advice.examples == ()
    # The suggestion is a spec the schema component takes as it is, and it converts every value.
    typed = get_component("schema")({"input": "raw", "columns": {"v": suggested}})
    out = typed.build({"raw": frame}).collect()
    assert (
        out.get_column("v").null_count()
        == frame.get_column("v").str.strip_chars().replace("", None).null_count()
    )


def test_ambiguous_dates_say_so() -> None:
    [advice] = infer_types(pl.DataFrame({"d": ["01/02/2024", "03/04/2024"]}))
    assert advice.suggested == {"type": "date", "format": "%d/%m/%Y"}
    assert "also read as month-first" in advice.note


def test_mixed_junk_gets_low_confidence_and_examples() -> None:
    frame = pl.DataFrame({"n": ["1", "2", "x", "3", "n/a", "4", "x", "5", "-", "6"]})
    [advice] = infer_types(frame)
    assert advice.suggested == "int64"
    assert advice.confidence == pytest.approx(0.6)
    assert advice.examples == ("x", "n/a", "-")
    assert "60% convert" in str(advice) and "'n/a'" in str(advice)
    assert schema_suggestion(frame) == {}  # not ready for strict mode
    assert schema_suggestion(frame, min_confidence=0.5) == {"n": "int64"}


def test_text_and_typed_columns_get_no_advice() -> None:
    frame = pl.DataFrame({"name": ["ana", "bo", "1"], "n": [1, 2, 3], "empty": ["", None, " "]})
    assert infer_types(frame) == []


def test_only_the_sample_is_read() -> None:
    frame = pl.DataFrame({"n": [str(i) for i in range(100)] + ["junk"]})
    assert infer_types(frame, sample=100)[0].confidence == 1.0
    assert infer_types(frame, sample=101)[0].examples == ("junk",)


def test_schema_suggestion_is_a_ready_columns_mapping(raw_orders: pl.DataFrame) -> None:
    clean = raw_orders.filter(pl.col("id") != "x", pl.col("day") != "2024-02-30")
    columns = schema_suggestion(clean.to_pandas())  # pandas works too
    assert columns == {"id": "int64", "montant €": "float64", "day": "date"}
    typed = get_component("schema")({"input": "raw", "columns": columns}).run({"raw": clean})
    assert typed.schema == pl.Schema(  # strict mode accepts every value
        {"id": pl.Int64, "montant €": pl.Float64, "名前": pl.String, "day": pl.Date}
    )


def test_advice_reads_as_text() -> None:
    advice = TypeAdvice(
        "amount", "String", {"type": "float64", "decimal": ","}, 0.5, ("abc",), "decimal comma"
    )
    assert (
        str(advice)
        == "amount: String -> {'type': 'float64', 'decimal': ','} (50% convert; decimal comma), e.g. not 'abc'"
    )

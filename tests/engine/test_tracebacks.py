"""A failed node shows the user's frames only: its own code, the notebook's helpers and the
user's modules; none of Pipeline Lab, polars or the standard library; the message stays."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from pipeline_lab import Node, Pipeline
from pipeline_lab.graph import Cell

SETUP = (
    "import polars as pl\nimport pipeline_lab\n\n"
    "def first_column(frame):\n    return frame.select(pl.col('nope'))"
)


def traceback_of(code: str, *, setup: str = SETUP) -> str:
    pipeline = Pipeline("p", setup=[Cell(setup, index=0)])
    pipeline.add(Node("n", code=code))
    run = pipeline.run(hooks=[]).node_runs["n"]
    assert run.status.value == "failed"
    return run.traceback or ""


def files(tb: str) -> list[str]:
    """The files of the frames ``tb`` shows, in order."""
    return re.findall(r'^\s*File "([^"]+)"', tb, flags=re.MULTILINE)


@pytest.mark.parametrize(
    ("code", "frames", "last_line"),
    [
        pytest.param(
            "x = 1\npipeline_lab.read('no_such_file.csv')",
            ["<pipeline node n>"],
            "pipeline_lab.errors.ConnectorError: dataset ",
            id="our-read-of-a-missing-file",
        ),
        pytest.param(
            "frame = pl.DataFrame({'a': [1]})\nframe.select(pl.col('b'))",
            ["<pipeline node n>"],
            'polars.exceptions.ColumnNotFoundError: unable to find column "b"',
            id="a-polars-method-that-raises",
        ),
        pytest.param(
            "first_column(pl.DataFrame({'a': [1]}))",
            ["<pipeline node n>", "<notebook cell 1>"],
            'polars.exceptions.ColumnNotFoundError: unable to find column "nope"',
            id="a-setup-helper-calling-polars",
        ),
        pytest.param(
            "def f(v):\n    return v / 0\n"
            "pl.DataFrame({'a': [1]}).with_columns(pl.col('a').map_elements(f, return_dtype=pl.Int64))",
            ["<pipeline node n>", "<pipeline node n>"],
            "ZeroDivisionError: division by zero",
            id="polars-calling-back-the-users-function",
            marks=pytest.mark.filterwarnings(
                "ignore::polars.exceptions.PolarsInefficientMapWarning"
            ),
        ),
        pytest.param(
            "import json\njson.loads('{not json')",
            ["<pipeline node n>"],
            "json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes",
            id="the-standard-library",
        ),
    ],
)
def test_only_the_users_frames_are_shown(code: str, frames: list[str], last_line: str) -> None:
    tb = traceback_of(code)
    assert tb.startswith("Traceback (most recent call last):")
    assert files(tb) == frames
    assert last_line in tb
    assert "site-packages" not in tb and "/pipeline_lab/" not in tb


def test_a_users_own_module_is_the_users_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = tmp_path / "shop_rules.py"
    module.write_text(
        "import polars as pl\n\ndef paid(frame):\n    return frame.filter(pl.col('status') == 1)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "shop_rules", raising=False)
    tb = traceback_of(
        "paid(pl.DataFrame({'amount': [1]}))",
        setup="import polars as pl\nfrom shop_rules import paid",
    )
    assert files(tb) == ["<pipeline node n>", str(module)]
    assert "return frame.filter(pl.col('status') == 1)" in tb
    assert "ColumnNotFoundError" in tb


def test_a_chained_exception_keeps_its_message_without_library_frames() -> None:
    tb = traceback_of(
        "try:\n    pl.DataFrame({'a': [1]}).select(pl.col('b'))\n"
        "except Exception as exc:\n    raise ValueError('orders have no column b') from exc"
    )
    assert files(tb) == ["<pipeline node n>", "<pipeline node n>"]
    assert "ColumnNotFoundError" in tb
    assert "The above exception was the direct cause" in tb
    assert tb.rstrip().endswith("ValueError: orders have no column b")
    assert "site-packages" not in tb

"""What anyone sharing a store typed is shown as typed: never read as Rich markup."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_lab import Node, Pipeline, PipelineDefinitionError

BIN = Path(sys.executable).parent / "pipeline-lab"
HOSTILE = [
    pytest.param("[link=evil.example]click", id="hyperlink"),
    pytest.param("[bold red]alarm", id="style"),
]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name", HOSTILE)
def test_pipeline_names_are_text_in_every_listing(
    name: str, write_notebook: Callable[..., Path]
) -> None:
    notebook = write_notebook("%%pipeline a\n1", "%%pipeline broken\n1 / 0", name=f"{name}.ipynb")
    ran = cli("run", str(notebook))
    assert ran.returncode == 1, ran.stderr
    assert f"pipeline {name}" in ran.stdout
    listed = cli("runs")
    assert listed.returncode == 0, listed.stderr  # a shared store stays readable for everyone
    assert name in listed.stdout
    run_id = json.loads(cli("runs", "--json").stdout)[0]["run_id"]
    shown = cli("runs", "show", run_id)
    assert name in shown.stdout and "ZeroDivisionError" in shown.stdout
    filtered = cli("runs", "--pipeline", name + "x")
    assert f"no runs of pipeline '{name}x'" in filtered.stdout


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("closes[/]", id="closing-tag"),
        pytest.param("[link=http://evil.example]click[/link]", id="hyperlink"),
    ],
)
def test_a_store_holding_any_name_stays_readable(name: str) -> None:
    """Names a record may hold from before names were checked (or from another tool)."""
    from pipeline_lab.store import StoreObserver, close_stores, open_store
    from pipeline_lab.store._models import RunRecord

    pipeline = Pipeline("plain")
    pipeline.add(Node("a", code="1"))
    result = pipeline.run(hooks=[StoreObserver()])
    with open_store().session() as session:
        session.get(RunRecord, result.run_id).pipeline = name
    close_stores()
    listed = cli("runs")
    assert listed.returncode == 0, listed.stderr
    assert name in listed.stdout
    shown = cli("runs", "show", result.run_id[:8])
    assert shown.returncode == 0 and name in shown.stdout, shown.stderr


def test_piped_tables_keep_whole_lines(write_notebook: Callable[..., Path]) -> None:
    """Not a terminal (a log, CI): no table cut or wrapped at 80 columns."""
    long_node = "n" + "_very_long_node_name" * 6
    notebook = write_notebook(f"%%pipeline {long_node}\n1", name="wide.ipynb")
    ran = cli("run", str(notebook))
    assert ran.returncode == 0, ran.stderr
    assert any(long_node in line for line in ran.stdout.splitlines())


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("", "is empty", id="empty"),
        pytest.param(" padded ", "starts or ends with spaces", id="spaces"),
        pytest.param("a/b", "a control character or a slash", id="slash"),
        pytest.param("bell\x07", "a control character or a slash", id="control"),
    ],
)
def test_the_api_refuses_names_the_magic_refuses(name: str, expected: str) -> None:
    pipeline = Pipeline(name)
    pipeline.add(Node("a", code="1"))
    with pytest.raises(PipelineDefinitionError, match=expected):
        pipeline.run(hooks=[])


def test_names_from_notebooks_need_not_be_identifiers() -> None:
    pipeline = Pipeline("Revenue report 2025-Q3 [draft]")
    pipeline.add(Node("a", code="1"))
    assert pipeline.run(hooks=[]).ok


CONTROLS = (
    "\x1b]0;pwned\x07\x1b[2J\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\\x9b31m\u202eevil"
)
"""Retitle the terminal, clear it, a hyperlink, an 8-bit CSI colour, a right-to-left override."""


def _obeyed(text: str) -> list[str]:
    return [c for c in text if c in "\x1b\x07\x9b\u202e"]


def test_control_characters_from_a_run_are_shown_not_obeyed(
    write_notebook: Callable[..., Path],
) -> None:
    notebook = write_notebook(f"%%pipeline broken\nraise ValueError({CONTROLS!r})")
    ran = cli("run", str(notebook))
    assert ran.returncode == 1, ran.stderr
    assert "ValueError: \\x1b]0;pwned" in ran.stdout and "\\u202eevil" in ran.stdout
    run_id = json.loads(cli("runs", "--json").stdout)[0]["run_id"]
    shown = cli("runs", "show", run_id)
    assert "\\x1b[2J" in shown.stdout and "\\x9b31m" in shown.stdout
    listed = cli("runs")
    for out in (ran, shown, listed):
        assert _obeyed(out.stdout + out.stderr) == []


def test_control_characters_in_an_error_or_a_validation_issue_are_shown(
    write_notebook: Callable[..., Path], tmp_path: Path
) -> None:
    missing = cli("run", str(tmp_path / f"x{CONTROLS[:14]}.ipynb"))
    assert missing.returncode == 2
    assert "\\x1b]0;pwned" in missing.stderr and _obeyed(missing.stderr) == []
    notebook = write_notebook("%%pipeline a\n1", f"%%pipeline {CONTROLS[:5]}\n2")
    checked = cli("validate", str(notebook))
    assert checked.returncode != 0
    assert "\\x1b" in checked.stdout + checked.stderr
    assert _obeyed(checked.stdout + checked.stderr) == []

"""An executed notebook read without a kernel still shows the pipeline (a real kernel runs it)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter


def execute(cells: list[str], tmp_path: Path) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    return notebook


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[nbformat.NotebookNode]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PIPELINE_LAB_STORE", "off")
        yield execute(
            [
                "%load_ext pipeline_lab",
                "import polars as pl",
                "%%pipeline orders --no-run\npl.DataFrame({'x': [1, 2, 3]})",
                "%%pipeline big --no-run\norders.filter(pl.col('x') > 1)",
                "%pipeline show",
                "%pipeline run",
            ],
            tmp_path_factory.mktemp("report"),
        )


def test_the_show_output_keeps_a_static_drawing_with_final_statuses(
    report: nbformat.NotebookNode,
) -> None:
    outputs = report.cells[4].outputs
    widget, static = outputs[0], outputs[1]
    assert "application/vnd.jupyter.widget-view+json" in widget["data"]
    assert "text/html" not in widget["data"]  # the drawing is its own output
    html = static["data"]["text/html"]
    assert "pipeline-lab-graph-static" in html and "<script" not in html
    # Drawn when %pipeline show ran (pending), redrawn when %pipeline run finished:
    assert re.search(r'data-id="big">.*?fill="#dafbe1"', html, re.S)
    assert "2 rows" in html


def test_nbconvert_html_shows_the_drawing(report: nbformat.NotebookNode) -> None:
    html, _ = HTMLExporter().from_notebook_node(report)
    start = re.search(r"""class=["']pipeline-lab-graph-static["']""", html)
    assert start is not None
    static = html[start.start() :]
    assert 'data-id="orders"' in static and 'data-id="big"' in static
    assert "2 succeeded" in static

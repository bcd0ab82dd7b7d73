"""The default threads executor under parallel load: what used to fail, hang or corrupt data.

Each shape here failed on the code before the core redesign: parallel reads in the first layer
(a registry race) and nodes changing their input in place (their siblings saw the change). The
deadlock of a strict ``schema`` fanning out to parallel nodes has its 50-run test in
``tests/components/test_checks.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from pipeline_lab import Node, NodeStatus, Pipeline

BIN = Path(sys.executable).parent / "pipeline-lab"


def _notebook(path: Path, *sources: str) -> Path:
    cells = [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": f"c{i}",
            "metadata": {},
            "outputs": [],
            "source": source,
        }
        for i, source in enumerate(sources)
    ]
    path.write_text(
        json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    return path


def test_parallel_reads_in_the_first_layer_of_a_fresh_process(tmp_path: Path) -> None:
    """Four nodes read a CSV at once in a new process: every one finds the file connector."""
    pl.DataFrame({"a": range(100), "b": [str(i) for i in range(100)]}).write_csv(tmp_path / "d.csv")
    notebook = _notebook(
        tmp_path / "reads.ipynb",
        "import pipeline_lab",
        *(f"%%pipeline r{i}\npipeline_lab.read('d.csv')" for i in range(4)),
    )
    for _ in range(3):
        done = subprocess.run(
            [str(BIN), "run", str(notebook), "--json"],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PIPELINE_LAB_STORE": "off"},
        )
        result = json.loads(done.stdout)
        errors = {n: r["error"] for n, r in result["nodes"].items() if r["error"]}
        assert result["status"] == "succeeded", errors
        assert all(r["rows"] == 100 for r in result["nodes"].values())


@pytest.mark.parametrize("executor", ["threads", "sequential"])
def test_a_node_changing_its_input_in_place_does_not_change_it_for_its_siblings(
    executor: str,
) -> None:
    pipeline = Pipeline("in_place")
    pipeline.add(Node("frame", code="import pandas as pd\npd.DataFrame({'x': range(6)})"))
    pipeline.add(Node("dropper", code="frame.drop(frame.index[:3])\nframe['x'] = -1\nlen(frame)"))
    pipeline.add(
        Node(
            "dropper_inplace",
            code="frame.iloc[0, 0] = 99\nframe.insert(1, 'y', 0)\nint(frame['x'].max())",
        )
    )
    pipeline.add(Node("counter", code="(len(frame), int(frame['x'].sum()))"))
    pipeline.add(Node("polars_side", code="import polars as pl\npl.from_pandas(frame).height"))
    for _ in range(20):
        result = pipeline.run(hooks=[], executor=executor)
        assert result.ok, {n: r.error for n, r in result.node_runs.items()}
        assert result.outputs["counter"] == (6, 15)
        assert result.outputs["dropper_inplace"] == 99
        assert result.outputs["polars_side"] == 6
        assert result.outputs["frame"]["x"].tolist() == list(range(6))


def test_a_polars_frame_changed_in_place_stays_whole_for_its_siblings() -> None:
    pipeline = Pipeline("polars_in_place")
    pipeline.add(Node("frame", code="import polars as pl\npl.DataFrame({'x': [1, 2, 3]})"))
    pipeline.add(
        Node(
            "grow",
            code="import polars as pl\nframe.insert_column(1, pl.Series('y', [0, 0, 0]))\nframe.width",
        )
    )
    pipeline.add(Node("width", code="frame.width"))
    result = pipeline.run(hooks=[], executor="sequential")
    assert result.node_runs["grow"].status is NodeStatus.SUCCEEDED
    assert (result.outputs["grow"], result.outputs["width"]) == (2, 1)

"""Reading a notebook from the command line: its pipeline, and what was skipped on the way."""

from __future__ import annotations

import warnings
from pathlib import Path

from pipeline_lab.errors import PipelineLabWarning
from pipeline_lab.graph import Pipeline, read_notebook


def read_pipeline(path: Path) -> tuple[Pipeline, list[str]]:
    """The notebook's pipeline and the notices (skipped magics) met while reading it.

    Cells that cannot be read do not stop the reading: they are issues of the pipeline's
    ``validate()``, listed with every other problem (and a run refuses to start).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PipelineLabWarning)
        pipeline = read_notebook(path, strict=False)
    return pipeline, [str(w.message) for w in caught if issubclass(w.category, PipelineLabWarning)]


def load_notebook(path: Path) -> tuple[Pipeline, list[str]]:
    """The notebook's pipeline to run, and the notices a run shows: skipped magics and the
    warnings of ``validate()`` (a node that produces no output says so in every run)."""
    pipeline, notices = read_pipeline(path)
    for issue in pipeline.validate():
        if issue.severity == "warning":
            notices.append(str(issue).removeprefix("warning: "))
    return pipeline, notices

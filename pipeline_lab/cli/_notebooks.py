"""Reading a notebook from the command line: its pipeline, and what was skipped on the way."""

from __future__ import annotations

import warnings
from pathlib import Path

from pipeline_lab.errors import PipelineLabWarning
from pipeline_lab.graph import Pipeline


def load_notebook(path: Path) -> tuple[Pipeline, list[str]]:
    """The notebook's pipeline and the notices (skipped magics) met while reading it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PipelineLabWarning)
        pipeline = Pipeline.from_notebook(path)
    return pipeline, [str(w.message) for w in caught if issubclass(w.category, PipelineLabWarning)]

"""Lazy imports of heavy or optional dependencies, with the exact install line when missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from pipeline_lab.errors import PipelineLabError

_INSTALL = {
    "psycopg": "pip install 'pipeline-lab[postgres]'",
    "dask": "pip install 'dask[distributed]'",
}


def import_optional(module: str, *, purpose: str) -> ModuleType:
    """Import ``module`` or raise an error naming what needs it and how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        line = _INSTALL.get(top, f"pip install {top}")
        raise PipelineLabError(
            f"{purpose} needs the optional package '{top}', which is not installed",
            hint=f"run: {line}",
        ) from exc

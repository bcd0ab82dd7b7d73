"""IPython front door: ``%%pipeline NAME`` defines a node, ``%pipeline VERB`` manages the pipeline."""

from __future__ import annotations

from typing import Any

from pipeline_lab.errors import PipelineLabError
from pipeline_lab.magics._magics import NodeFailed, PipelineMagics, session_of, show_error

__all__ = [
    "NodeFailed",
    "PipelineMagics",
    "load_ipython_extension",
    "session_of",
    "unload_ipython_extension",
]


def load_ipython_extension(ipython: Any) -> None:
    ipython.register_magics(PipelineMagics(ipython))
    # Our errors already say what happened, where and how to fix it: show them without a
    # traceback of Pipeline Lab's internals. The cell still fails, so "Run All" stops there.
    ipython.set_custom_exc((PipelineLabError,), show_error)


def unload_ipython_extension(ipython: Any) -> None:
    magics = ipython.magics_manager.registry.get("PipelineMagics")
    if magics is not None:
        ipython.magics_manager.magics["line"].pop("pipeline", None)
        ipython.magics_manager.magics["cell"].pop("pipeline", None)
    if PipelineLabError in getattr(ipython, "custom_exceptions", ()):
        ipython.set_custom_exc((), None)

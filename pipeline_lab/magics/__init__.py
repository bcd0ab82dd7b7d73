"""IPython front door: ``%%pipeline NAME`` defines a node, ``%pipeline VERB`` manages the pipeline."""

from __future__ import annotations

from typing import Any

from pipeline_lab.magics._magics import NodeFailed, PipelineMagics, session_of

__all__ = [
    "NodeFailed",
    "PipelineMagics",
    "load_ipython_extension",
    "session_of",
    "unload_ipython_extension",
]


def load_ipython_extension(ipython: Any) -> None:
    # Our errors show themselves without a traceback of Pipeline Lab's internals
    # (``PipelineLabError._render_traceback_``); the cell still fails, so "Run All" stops.
    ipython.register_magics(PipelineMagics(ipython))


def unload_ipython_extension(ipython: Any) -> None:
    magics = ipython.magics_manager.registry.get("PipelineMagics")
    if magics is not None:
        magics.close()
        ipython.magics_manager.magics["line"].pop("pipeline", None)
        ipython.magics_manager.magics["cell"].pop("pipeline", None)

"""Pipeline Lab: build, run and trust data pipelines from Jupyter notebooks.

>>> %load_ext pipeline_lab          # in a notebook: %%pipeline NAME cells become nodes
>>> from pipeline_lab import Pipeline, Node
>>> orders = pipeline_lab.read("warehouse", table="orders")   # a URL, a path or a source name
"""

from __future__ import annotations

from typing import Any

from pipeline_lab.engine import NodeRun, RunOptions, RunResult
from pipeline_lab.errors import (
    ComplianceError,
    ConnectorError,
    NodeExecutionError,
    PipelineDefinitionError,
    PipelineLabError,
    QualityGateError,
    RunInterrupted,
    ScheduleError,
    StoreError,
    TransientError,
)
from pipeline_lab.events import (
    CheckResult,
    Gate,
    NodeFinished,
    NodeOutcome,
    NodeRetrying,
    NodeStarted,
    NodeStatus,
    Observer,
    RunFinished,
    RunInfo,
    RunObserver,
    RunStarted,
    RunStatus,
    Verdict,
)
from pipeline_lab.graph import Issue, Node, Pipeline, RetryPolicy

__version__ = "0.1.0"

__all__ = [
    "CheckResult",
    "ComplianceError",
    "ConnectorError",
    "Gate",
    "Issue",
    "Node",
    "NodeExecutionError",
    "NodeFinished",
    "NodeOutcome",
    "NodeRetrying",
    "NodeRun",
    "NodeStarted",
    "NodeStatus",
    "Observer",
    "Pipeline",
    "PipelineDefinitionError",
    "PipelineLabError",
    "QualityGateError",
    "RetryPolicy",
    "RunFinished",
    "RunInfo",
    "RunInterrupted",
    "RunObserver",
    "RunOptions",
    "RunResult",
    "RunStarted",
    "RunStatus",
    "ScheduleError",
    "StoreError",
    "TransientError",
    "Verdict",
    "__version__",
    "load_ipython_extension",
    "read",
    "transform",
    "unload_ipython_extension",
    "write",
]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext pipeline_lab``: register ``%%pipeline`` and ``%pipeline``."""
    from pipeline_lab.magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from pipeline_lab.magics import unload_ipython_extension as unload

    unload(ipython)


def __getattr__(name: str) -> Any:
    # ``pipeline_lab.transform`` loads the component library on first use, not at import.
    if name == "transform":
        from pipeline_lab.components.library.custom import transform

        return transform
    # The connectors' read/write (managed source names resolve through the store's catalog,
    # which plugs itself in); the connectors load on first use.
    if name in ("read", "write"):
        from pipeline_lab import connectors

        return getattr(connectors, name)
    raise AttributeError(f"module 'pipeline_lab' has no attribute {name!r}")

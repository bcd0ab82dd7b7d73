"""The run context: what code running inside a node may ask about its run.

One context variable, set by the runner around each node (on whatever thread, process or
worker runs it): the run and node, the pipeline parameters (``:name`` in component SQL), the
catalog that resolves managed data source names, and where connectors report the datasets
they read and write. Outside a run, :func:`current_run` is an empty context.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping
from types import MappingProxyType, TracebackType
from typing import Any, NamedTuple

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class RunContext(NamedTuple):
    """The run a node belongs to (read-only); it pickles without ``report``, which belongs to
    the process that set it (a worker sets its own)."""

    run_id: str | None = None
    pipeline: str | None = None
    node: str | None = None
    attempt: int = 0
    params: Mapping[str, Any] = _EMPTY
    """Pipeline parameter values (component SQL reads them as ``:name``)."""
    catalog: Any = None
    """Where managed data source names resolve (a ``SourceCatalog``), or ``None``."""
    report: Callable[[Any], None] | None = None
    """Receives each ``DatasetUse`` a connector reports while the node runs."""

    def __reduce__(self) -> tuple[Any, ...]:
        values = (*self[:4], dict(self.params), self.catalog, None)
        return (RunContext, values)


_NONE = RunContext()
_current: contextvars.ContextVar[RunContext] = contextvars.ContextVar(
    "pipeline_lab_run", default=_NONE
)


def current_run() -> RunContext:
    """The context of the node running on this thread (an empty one outside a run)."""
    return _current.get()


class running:
    """Make ``context`` the current run context inside a ``with`` block."""

    __slots__ = ("_context", "_token")

    def __init__(self, context: RunContext) -> None:
        self._context = context

    def __enter__(self) -> RunContext:
        self._token = _current.set(self._context)
        return self._context

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        _current.reset(self._token)

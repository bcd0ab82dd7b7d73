"""The run context: what code running inside a node may ask about its run.

One context variable, set by the runner around each node (on whatever thread, process or
worker runs it): the run and node, the pipeline parameters (``:name`` in component SQL), the
catalog that resolves managed data source names, and where connectors report the datasets
they read and write. Outside a run, :func:`current_run` is an empty context.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class RunContext:
    """The run a node belongs to; serializable except ``report``, which stays where it is set."""

    run_id: str | None = None
    pipeline: str | None = None
    node: str | None = None
    attempt: int = 0
    params: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    """Pipeline parameter values (component SQL reads them as ``:name``)."""
    catalog: Any = None
    """Where managed data source names resolve (a ``SourceCatalog``), or ``None``."""
    report: Callable[[Any], None] | None = field(default=None, compare=False)
    """Receives each ``DatasetUse`` a connector reports while the node runs."""

    def __getstate__(self) -> dict[str, Any]:
        # The dataset collector belongs to the process that set it; a worker sets its own.
        state = {name: getattr(self, name) for name in self.__dataclass_fields__}
        state["report"] = None
        state["params"] = dict(self.params)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)

    def but(self, **changes: Any) -> RunContext:
        """This context with some fields changed."""
        return replace(self, **changes)


_NONE = RunContext()
_current: contextvars.ContextVar[RunContext] = contextvars.ContextVar(
    "pipeline_lab_run", default=_NONE
)


def current_run() -> RunContext:
    """The context of the node running on this thread (an empty one outside a run)."""
    return _current.get()


@contextmanager
def running(context: RunContext) -> Iterator[RunContext]:
    """Make ``context`` the current run context inside this block."""
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)

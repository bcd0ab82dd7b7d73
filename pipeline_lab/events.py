"""A run as a stream of typed, frozen events, and the typed protocols that consume them.

The runner emits :class:`RunStarted`, then per node :class:`NodeStarted` (each attempt),
:class:`NodeRetrying` and :class:`NodeFinished` (with the node's final, read-only
:class:`NodeOutcome`), and always, last, :class:`RunFinished` (also on Ctrl-C, SIGTERM and
crashes). The store, metrics, checks, the CLI's progress, widgets and lineage all consume this
one stream; each keeps its own state. Observers run on the thread that drives the run (the
kernel's thread in a notebook); one that raises is logged and reported on the run, never
allowed to stop it. A :class:`Gate` (quality, compliance) is asked for a :class:`Verdict` on a
node's outcome before it is final, and may fail the node on purpose.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal, NamedTuple, Protocol, runtime_checkable


class NodeStatus(str, enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CACHED = "cached"
    STALE = "stale"
    """Shown only: the node's value predates a re-run of something upstream of it."""

    def __str__(self) -> str:
        return self.value

    @property
    def finished(self) -> bool:
        return self in _FINISHED

    @property
    def ok(self) -> bool:
        return self is NodeStatus.SUCCEEDED or self is NodeStatus.CACHED


_FINISHED = frozenset(
    {NodeStatus.SUCCEEDED, NodeStatus.FAILED, NodeStatus.SKIPPED, NodeStatus.CACHED}
)


class RunStatus(str, enum.Enum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    """Ctrl-C, SIGTERM or a kernel interrupt stopped the run."""
    CRASHED = "crashed"
    """Pipeline Lab itself failed after the run started (a bug, or a broken environment)."""
    ABANDONED = "abandoned"
    """The process running it died (SIGKILL, a lost machine): found later by its heartbeat."""
    TIMED_OUT = "timed_out"

    def __str__(self) -> str:
        return self.value

    @property
    def finished(self) -> bool:
        return self is not RunStatus.RUNNING


@dataclass(frozen=True)
class CheckResult:
    """One quality rule evaluated on one node's output."""

    rule: str
    passed: bool
    failed_rows: int = 0
    total_rows: int = 0
    severity: Literal["error", "warn"] = "error"
    sample: tuple[Mapping[str, Any], ...] = ()
    """Some failing rows (column -> value), for the report."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "passed": self.passed,
            "failed_rows": self.failed_rows,
            "total_rows": self.total_rows,
            "sample": [dict(row) for row in self.sample],
        }


@dataclass(frozen=True)
class Verdict:
    """A gate's judgement of a node's outcome; ``error`` fails the node on purpose."""

    checks: tuple[CheckResult, ...] = ()
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class NodeOutcome(NamedTuple):
    """What one node's run produced: the one description of a node run, read-only.

    Executors return it (it crosses thread, process and machine boundaries: everything in
    it pickles except, possibly, ``output``/``display``/``exception``, which are the node's
    own values); the runner finalizes it (gates, skips) and hands it to observers in
    :class:`NodeFinished` and to the caller in ``RunResult.node_runs``.
    """

    name: str
    status: NodeStatus = NodeStatus.PENDING
    attempts: int = 0
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_s: float | None = None
    cpu_s: float | None = None
    rows: int | None = None
    columns: int | None = None
    error: str | None = None
    """One line: ``ErrorType: message`` (our errors add their hint)."""
    traceback: str | None = None
    """The user's traceback: only frames of the node's own code and what it calls."""
    timed_out: bool = False
    checks: tuple[CheckResult, ...] = ()
    datasets: tuple[Any, ...] = ()
    """The datasets the node read and wrote (``DatasetUse``), as its connectors reported."""
    output: Any = None
    """The node's value; for a node a gate failed, the value it refused (nothing downstream
    gets it, and it is not among the run's outputs)."""
    display: Any = None
    """What the cell shows (its last expression), which may differ from ``output``."""
    exception: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.status.ok

    def summary(self) -> dict[str, Any]:
        """The JSON-ready record of the run (no output value, no exception object)."""
        return {
            "status": self.status.value,
            "attempts": self.attempts,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "duration_s": self.duration_s,
            "cpu_s": self.cpu_s,
            "rows": self.rows,
            "columns": self.columns,
            "error": self.error,
            "timed_out": self.timed_out,
            "checks": [c.to_dict() for c in self.checks],
            "datasets": [_dataset(d) for d in self.datasets],
        }

    def __repr__(self) -> str:
        shape = f", rows={self.rows}" if self.rows is not None else ""
        error = f", error={self.error!r}" if self.error else ""
        return (
            f"NodeOutcome({self.name!r}, {self.status.value}, attempts={self.attempts}"
            f"{shape}{error})"
        )


def _dataset(use: Any) -> dict[str, Any]:
    dataset = getattr(use, "dataset", use)
    return {
        "namespace": getattr(dataset, "namespace", None),
        "name": getattr(dataset, "name", str(dataset)),
        "direction": getattr(use, "direction", None),
    }


@dataclass(frozen=True)
class RunInfo:
    """The run every event belongs to."""

    run_id: str
    pipeline: Any
    """The ``Pipeline`` being run; read it, never change it."""
    params: Mapping[str, Any]
    nodes: tuple[str, ...]
    """The nodes this run executes, in topological order."""
    source: str
    """Who started it: ``api``, ``kernel``, ``cli``, ``schedule``..."""
    executor: str
    started_at: datetime
    host: str
    pid: int

    @property
    def name(self) -> str:
        """The pipeline's name."""
        return str(self.pipeline.name)


@dataclass(frozen=True)
class RunStarted:
    handler: ClassVar[str] = "on_run_started"
    run: RunInfo


@dataclass(frozen=True)
class NodeStarted:
    """An attempt of ``node`` starts (``attempt`` counts from 1)."""

    handler: ClassVar[str] = "on_node_started"
    run: RunInfo
    node: str
    attempt: int
    at: datetime


@dataclass(frozen=True)
class NodeRetrying:
    """Attempt ``attempt`` of ``node`` failed with ``error``; the next starts in ``delay`` s."""

    handler: ClassVar[str] = "on_node_retrying"
    run: RunInfo
    node: str
    attempt: int
    error: str
    delay: float


@dataclass(frozen=True)
class NodeFinished:
    """``node`` is done: succeeded, failed (its code, a gate, a timeout), skipped or cached."""

    handler: ClassVar[str] = "on_node_finished"
    run: RunInfo
    outcome: NodeOutcome

    @property
    def node(self) -> str:
        return self.outcome.name


@dataclass(frozen=True)
class RunFinished:
    """The run is over, however it ended; always the last event of a run."""

    handler: ClassVar[str] = "on_run_finished"
    run: RunInfo
    status: RunStatus
    ended_at: datetime
    duration_s: float
    reason: str | None = None
    """Why it ended so, in one word: ``interrupt``, ``sigterm``, ``setup_failed``, ``crash``..."""
    error: str | None = None
    result: Any = None
    """The ``RunResult`` the caller gets."""


RunEvent = RunStarted | NodeStarted | NodeRetrying | NodeFinished | RunFinished


@runtime_checkable
class Observer(Protocol):
    """Anything that consumes run events: ``observer(event)``."""

    def __call__(self, event: RunEvent) -> None: ...


@runtime_checkable
class Gate(Protocol):
    """Judges a node's outcome before it is final (``None``: no opinion)."""

    def judge(self, run: RunInfo, node: Any, outcome: NodeOutcome) -> Verdict | None: ...


class RunObserver:
    """An observer base class: each event goes to the method named for it; override those
    you need (``on_run_started``, ``on_node_started``, ``on_node_retrying``,
    ``on_node_finished``, ``on_run_finished``)."""

    def __call__(self, event: RunEvent) -> None:
        getattr(self, event.handler)(event)

    def on_run_started(self, event: RunStarted) -> None:
        """The run begins, before its setup cells run."""

    def on_node_started(self, event: NodeStarted) -> None:
        """An attempt of a node starts."""

    def on_node_retrying(self, event: NodeRetrying) -> None:
        """An attempt failed and another one is coming."""

    def on_node_finished(self, event: NodeFinished) -> None:
        """A node is done (its outcome is final)."""

    def on_run_finished(self, event: RunFinished) -> None:
        """The run is over (always called, whatever happened)."""

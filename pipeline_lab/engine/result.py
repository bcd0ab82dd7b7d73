"""What a run produced: per-node records while it runs, and the final ``RunResult``."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline_lab.graph import Pipeline


class NodeStatus(str, enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CACHED = "cached"

    def __str__(self) -> str:
        return self.value

    @property
    def finished(self) -> bool:
        return self in _FINISHED

    @property
    def ok(self) -> bool:
        return self in (NodeStatus.SUCCEEDED, NodeStatus.CACHED)


_FINISHED = frozenset(
    {NodeStatus.SUCCEEDED, NodeStatus.FAILED, NodeStatus.SKIPPED, NodeStatus.CACHED}
)


@dataclass
class NodeRun:
    """One node's run: updated while it runs, final once ``status.finished``."""

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
    traceback: str | None = None
    timed_out: bool = False
    checks: list[Any] = field(default_factory=list)
    datasets: list[Any] = field(default_factory=list)
    """The datasets the node read and wrote (``DatasetUse``), as its connectors reported."""
    output: Any = field(default=None, repr=False, compare=False)
    display: Any = field(default=None, repr=False, compare=False)
    exception: BaseException | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
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
        }


@dataclass
class Run:
    """The run in progress, as hooks see it."""

    run_id: str
    pipeline: Pipeline
    params: dict[str, Any]
    executor: str
    selected: tuple[str, ...]
    source: str
    started_at: datetime
    node_runs: dict[str, NodeRun]
    values: dict[str, Any] = field(default_factory=dict, repr=False)
    hook_errors: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    datasets: list[Any] = field(default_factory=list)


@dataclass
class RunResult:
    """The outcome of ``Pipeline.run``: status, outputs and one ``NodeRun`` per node run."""

    run_id: str
    pipeline: str
    status: str
    outputs: dict[str, Any] = field(repr=False)
    node_runs: dict[str, NodeRun]
    params: dict[str, Any]
    executor: str
    started_at: datetime
    ended_at: datetime
    duration_s: float
    setup_error: str | None = None
    report_errors: dict[int, str] = field(default_factory=dict)  # by cell number, from 1
    hook_errors: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    @property
    def failed(self) -> list[str]:
        return [n for n, r in self.node_runs.items() if r.status is NodeStatus.FAILED]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``pipeline-lab run --json``."""
        return {
            "run_id": self.run_id,
            "pipeline": self.pipeline,
            "status": self.status,
            "duration_s": self.duration_s,
            "setup_error": self.setup_error,
            "report_errors": {str(k): v for k, v in self.report_errors.items()},
            "hook_errors": list(self.hook_errors),
            "nodes": {
                name: {
                    k: run.to_dict()[k]
                    for k in ("status", "rows", "duration_s", "attempts", "error")
                }
                for name, run in self.node_runs.items()
            },
        }

    def __str__(self) -> str:
        counts: dict[str, int] = {}
        for run in self.node_runs.values():
            counts[run.status.value] = counts.get(run.status.value, 0) + 1
        detail = ", ".join(f"{n} {s}" for s, n in counts.items())
        return f"run {self.run_id[:8]} of '{self.pipeline}': {self.status} ({detail}) in {self.duration_s:.2f}s"

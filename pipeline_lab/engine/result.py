"""What a run produced: ``RunResult``, with one read-only ``NodeOutcome`` per node."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline_lab.events import NodeOutcome, NodeStatus, RunStatus

NodeRun = NodeOutcome
"""A node's run as ``RunResult.node_runs`` holds it (the same class as ``NodeOutcome``)."""


@dataclass(frozen=True)
class RunResult:
    """The outcome of ``Pipeline.run``: status, outputs and one ``NodeOutcome`` per node run."""

    run_id: str
    pipeline: str
    status: RunStatus
    outputs: Mapping[str, Any] = field(repr=False)
    node_runs: Mapping[str, NodeOutcome]
    params: Mapping[str, Any]
    executor: str
    started_at: datetime
    ended_at: datetime
    duration_s: float
    reason: str | None = None
    """Why it ended so: ``setup_failed``, ``interrupt``, ``sigterm``, ``crash``, ..."""
    error: str | None = None
    """What stopped the run when it was not a node (a crash, an interrupt)."""
    setup_error: str | None = None
    report_errors: Mapping[int, str] = field(default_factory=dict)  # by cell number, from 1
    hook_errors: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status is RunStatus.SUCCEEDED

    @property
    def failed(self) -> list[str]:
        return [n for n, r in self.node_runs.items() if r.status is NodeStatus.FAILED]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``pipeline-lab run --json``."""
        return {
            "run_id": self.run_id,
            "pipeline": self.pipeline,
            "status": self.status.value,
            "reason": self.reason,
            "error": self.error,
            "duration_s": self.duration_s,
            "setup_error": self.setup_error,
            "report_errors": {str(k): v for k, v in self.report_errors.items()},
            "hook_errors": list(self.hook_errors),
            "nodes": {
                name: {
                    k: v
                    for k, v in run.summary().items()
                    if k in ("status", "rows", "duration_s", "attempts", "error", "checks")
                }
                for name, run in self.node_runs.items()
            },
        }

    def __str__(self) -> str:
        counts: dict[str, int] = {}
        for run in self.node_runs.values():
            counts[run.status.value] = counts.get(run.status.value, 0) + 1
        detail = ", ".join(f"{n} {s}" for s, n in counts.items())
        return (
            f"run {self.run_id[:8]} of '{self.pipeline}': {self.status.value} ({detail}) "
            f"in {self.duration_s:.2f}s"
        )

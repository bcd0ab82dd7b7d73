"""Per-node performance: wall time, CPU time, rows and columns in and out.

:class:`MetricsObserver` follows a run's events and keeps, per run, the metrics of each
finished node; the rows a node read are the rows its upstream nodes produced, which it has
seen finish. It never writes into the engine's records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline_lab.events import NodeFinished, NodeOutcome, RunFinished, RunObserver, RunStarted


@dataclass(frozen=True)
class NodeMetrics:
    wall_s: float
    cpu_s: float
    rows_in: int | None
    columns_in: int | None
    rows_out: int | None
    columns_out: int | None

    def to_dict(self) -> dict[str, Any]:
        # Spelled out: dataclasses.asdict deep-copies and costs more than the rest of a
        # node's bookkeeping put together.
        return {
            "wall_s": self.wall_s,
            "cpu_s": self.cpu_s,
            "rows_in": self.rows_in,
            "columns_in": self.columns_in,
            "rows_out": self.rows_out,
            "columns_out": self.columns_out,
        }


class MetricsObserver(RunObserver):
    """Keeps the :class:`NodeMetrics` of every node of the runs it observes.

    ``metrics(run_id)`` is the run's metrics by node; a run's state is dropped
    ``keep`` runs after it finished.

    Examples
    --------
    >>> metrics = MetricsObserver()
    >>> result = pipeline.run(hooks=[metrics])
    >>> metrics.metrics(result.run_id)["orders"].rows_out
    """

    def __init__(self, keep: int = 16) -> None:
        self.keep = keep
        self._runs: dict[str, dict[str, NodeMetrics]] = {}
        self._shapes: dict[str, dict[str, NodeOutcome]] = {}

    def metrics(self, run_id: str) -> dict[str, NodeMetrics]:
        return dict(self._runs.get(run_id, {}))

    def on_run_started(self, event: RunStarted) -> None:
        self._runs[event.run.run_id] = {}
        self._shapes[event.run.run_id] = {}

    def on_node_finished(self, event: NodeFinished) -> None:
        run_id = event.run.run_id
        outcome = event.outcome
        seen = self._shapes.setdefault(run_id, {})
        seen[outcome.name] = outcome
        upstream = [seen[d] for d in event.run.pipeline.dependencies(outcome.name) if d in seen]
        metrics = node_metrics(outcome, upstream)
        if metrics is not None:
            self._runs.setdefault(run_id, {})[outcome.name] = metrics

    def on_run_finished(self, event: RunFinished) -> None:
        self._shapes.pop(event.run.run_id, None)
        while len(self._runs) > self.keep:
            del self._runs[next(iter(self._runs))]


def node_metrics(outcome: NodeOutcome, upstream: list[NodeOutcome]) -> NodeMetrics | None:
    """The metrics of a node that ran (``None`` for a skipped one), given its upstream runs."""
    if outcome.duration_s is None:
        return None
    rows_in: int | None = None
    columns_in: int | None = None
    for dep in upstream:
        if dep.rows is not None:
            rows_in = (rows_in or 0) + dep.rows
            columns_in = (columns_in or 0) + (dep.columns or 0)
    return NodeMetrics(
        wall_s=outcome.duration_s,
        cpu_s=outcome.cpu_s or 0.0,
        rows_in=rows_in,
        columns_in=columns_in,
        rows_out=outcome.rows,
        columns_out=outcome.columns,
    )

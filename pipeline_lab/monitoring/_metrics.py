"""The metrics hook: wall time, CPU time, rows and columns in and out, per node."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pipeline_lab.frames import shape


@dataclass(frozen=True)
class NodeMetrics:
    wall_s: float
    cpu_s: float
    rows_in: int | None
    columns_in: int | None
    rows_out: int | None
    columns_out: int | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class MetricsHook:
    """Records a :class:`NodeMetrics` for each finished node in ``run.metrics``."""

    gate = False

    def on_node_end(self, *, run: Any, node: Any, result: Any, **future: Any) -> None:
        if result.duration_s is None:
            return  # skipped: it never ran
        rows_in: int | None = None
        columns_in: int | None = None
        for dep in run.pipeline.dependencies(node.name):
            dims = shape(run.values.get(dep))
            if dims is not None:
                rows_in = (rows_in or 0) + dims[0]
                columns_in = (columns_in or 0) + dims[1]
        run.metrics[node.name] = NodeMetrics(
            wall_s=result.duration_s,
            cpu_s=result.cpu_s or 0.0,
            rows_in=rows_in,
            columns_in=columns_in,
            rows_out=result.rows,
            columns_out=result.columns,
        )

"""Per-node performance: time, CPU, rows and columns in and out."""

from __future__ import annotations

from pipeline_lab.monitoring._metrics import MetricsObserver, NodeMetrics, node_metrics

__all__ = ["MetricsObserver", "NodeMetrics", "node_metrics"]

"""Lineage: the datasets each node reads and writes (column lineage and OpenLineage events next)."""

from __future__ import annotations

from pipeline_lab.lineage._datasets import DatasetRef, DatasetUse, report_dataset

__all__ = ["DatasetRef", "DatasetUse", "report_dataset"]

"""Which datasets a node reads and writes, reported by connectors to the active run.

Connectors call :func:`report_dataset` on every read and write; the runner sets a collector
in the run context of each node (``RunContext.report``), so lineage works for code cells too.
Outside a run, reports go nowhere. Identities follow OpenLineage naming: a ``namespace``
such as ``postgres://host:5432`` or ``file``, and a ``name`` such as ``db.schema.table`` or
an absolute path. Secrets never appear in either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pipeline_lab.context import current_run

Direction = Literal["input", "output"]


@dataclass(frozen=True)
class DatasetRef:
    """A dataset's OpenLineage identity, with optional facets (schema, row count, ...)."""

    namespace: str
    name: str
    facets: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace != "file" else self.name


@dataclass(frozen=True)
class DatasetUse:
    dataset: DatasetRef
    direction: Direction


def report_dataset(dataset: DatasetRef, direction: Direction) -> None:
    """Tell the active run (if any) that the running node read or wrote ``dataset``."""
    collect = current_run().report
    if collect is not None:
        collect(DatasetUse(dataset, direction))

"""One problem of a pipeline, as :meth:`Pipeline.validate` and node linters report it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pipeline_lab.errors import PipelineDefinitionError


@dataclass(frozen=True)
class Issue:
    """One problem found by :meth:`Pipeline.validate`."""

    code: str
    message: str
    node: str | None = None
    hint: str | None = None
    severity: Literal["error", "warning"] = "error"
    subject: str | None = None
    """The name the issue is about (the missing input, the unknown parameter), if any."""
    cell: int | None = None
    """The notebook cell the issue is in, numbered from 1 as Jupyter's cells are counted."""

    def __str__(self) -> str:
        where = ""
        if self.node:
            where = f"node '{self.node}'" + (f" (cell {self.cell})" if self.cell else "") + ": "
        elif self.cell:
            where = f"cell {self.cell}: "
        text = f"{self.severity}: {where}{self.message}"
        return text + (f" (hint: {self.hint})" if self.hint else "")


class InvalidPipeline(PipelineDefinitionError):
    """A pipeline that cannot run; ``issues`` are its problems (each with node and cell)."""

    def __init__(self, message: str, issues: Iterable[Issue], **context: str | None) -> None:
        super().__init__(message, **context)
        self.issues = tuple(issues)

"""One problem of a pipeline, as :meth:`Pipeline.validate` and node linters report it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


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

    def __str__(self) -> str:
        where = f"node '{self.node}': " if self.node else ""
        text = f"{self.severity}: {where}{self.message}"
        return text + (f" (hint: {self.hint})" if self.hint else "")

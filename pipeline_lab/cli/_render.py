"""The console every command prints to: rich on a terminal, whole lines everywhere else."""

from __future__ import annotations

import sys
from typing import Any

PIPED_WIDTH = 400
"""Columns when stdout is not a terminal (a log, a pipe, CI): tables and paths stay whole."""


def console(*, stderr: bool = False) -> Any:
    """A rich console: highlighting off (our colours mean something), no cutting of long
    lines when the output goes to a file or a pipe, where rich would assume 80 columns."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    terminal = hasattr(stream, "isatty") and stream.isatty()
    return Console(
        stderr=stderr,
        highlight=False,
        soft_wrap=True,
        width=None if terminal else PIPED_WIDTH,
    )

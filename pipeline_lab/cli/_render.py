"""The console every command prints to: rich on a terminal, whole lines everywhere else.

What a command shows may come from anyone (a shared store's run records, an error quoting a
data value, a notebook from elsewhere), so terminal control characters in it are shown, never
obeyed: an escape sequence cannot recolour the terminal, retitle it, hide text or forge a link.
"""

from __future__ import annotations

import re
import sys
from typing import Any

PIPED_WIDTH = 400
"""Columns when stdout is not a terminal (a log, a pipe, CI): tables and paths stay whole."""

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""What a terminal obeys rather than shows: C0 (but tab and newline), DEL, C1 (8-bit CSI and
OSC among them), and the bidirectional overrides that make text read other than it is."""


def visible(text: str) -> str:
    """``text`` with every control character written as its escape (``\\x1b``)."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def escape(text: str) -> str:
    """``text`` for rich markup: shown as typed, brackets and control characters too."""
    from rich.markup import escape as escape_markup

    return escape_markup(visible(text))


def console(*, stderr: bool = False) -> Any:
    """A rich console: highlighting off (our colours mean something), no cutting of long
    lines when the output goes to a file or a pipe, where rich would assume 80 columns, and
    control characters in what it prints shown as escapes (its own styles still apply)."""
    from rich.console import Console
    from rich.segment import Segment

    class _Console(Console):
        def _render_buffer(self, buffer: Any) -> str:
            shown = (
                segment if segment.control else Segment(visible(segment.text), *segment[1:])
                for segment in buffer
            )
            return str(super()._render_buffer(shown))

    stream = sys.stderr if stderr else sys.stdout
    terminal = hasattr(stream, "isatty") and stream.isatty()
    return _Console(
        stderr=stderr,
        highlight=False,
        soft_wrap=True,
        width=None if terminal else PIPED_WIDTH,
    )

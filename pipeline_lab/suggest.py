"""Suggestions for a mistyped name: the one place that says "did you mean ...?"."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """``did you mean 'x' or 'y'?`` for the closest ``candidates``, or ``None``."""
    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    return f"did you mean {' or '.join(repr(c) for c in close)}?" if close else None

"""Stop requests: what a signal asked of this process's runs, kept where nothing can drop it.

A signal handler raises ``KeyboardInterrupt`` in whatever code the main thread runs; when
that is a garbage-collection callback or a finalizer, Python prints "Exception ignored" and
the interrupt is lost. So the handlers the CLI installs also *request* a stop here, and the
driver checks for one between steps: Ctrl-C always stops the run.
"""

from __future__ import annotations

from typing import Literal

from pipeline_lab.errors import Terminated

Kind = Literal["interrupt", "sigterm"]

_requested: Kind | None = None


def request(kind: Kind) -> None:
    """Ask every run of this process to stop (a signal handler calls it)."""
    global _requested
    _requested = kind


def requested() -> Kind | None:
    return _requested


def clear() -> None:
    global _requested
    _requested = None


def raise_if_requested() -> None:
    """Stop here, as the signal would have, if a stop was requested."""
    kind = _requested
    if kind == "sigterm":
        raise Terminated()
    if kind == "interrupt":
        raise KeyboardInterrupt()

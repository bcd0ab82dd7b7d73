"""One error root for Pipeline Lab, one base per subsystem.

Every error carries what happened, where (``node=``, ``dataset=``) and what to do (``hint=``);
``str(error)`` renders all three so a user sees the fix without reading a traceback.
"""

from __future__ import annotations


class PipelineLabError(Exception):
    """Root of every error Pipeline Lab raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        node: str | None = None,
        dataset: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.node = node
        self.dataset = dataset
        self.hint = hint

    def __str__(self) -> str:
        where = []
        if self.node is not None:
            where.append(f"node '{self.node}'")
        if self.dataset is not None:
            where.append(f"dataset '{self.dataset}'")
        text = f"{', '.join(where)}: {self.message}" if where else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def _render_traceback_(self) -> list[str]:
        """How IPython shows it: what, where and the fix, in red, without our internals."""
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}"]


class TransientError(PipelineLabError):
    """Marks a failure that a retry may fix (a dropped connection, a busy database)."""


class PipelineDefinitionError(PipelineLabError):
    """The pipeline as written cannot run: cycle, missing input, bad cell, bad parameter."""


class NodeExecutionError(PipelineLabError):
    """A node's own code failed while running."""


class NodeTimeoutError(NodeExecutionError, TransientError):
    """A node ran longer than its ``--timeout``; retries may try again."""


class ConnectorError(PipelineLabError):
    """Reading from or writing to a data source failed."""


class TransientConnectorError(ConnectorError, TransientError):
    """A connection failed in a way a retry may fix (refused, reset, timed out, rate limited)."""


class QualityGateError(PipelineLabError):
    """A quality check failed; it fails its node on purpose."""


class ComplianceError(PipelineLabError):
    """A compliance policy blocked a node; it fails its node on purpose."""


class ScheduleError(PipelineLabError):
    """A schedule is invalid or could not be run."""


class StoreError(PipelineLabError):
    """The metadata store is unreachable, outdated or refused a write."""


def describe(exc: BaseException) -> str:
    """``ErrorType: message`` on one line, even for an exception whose ``str()`` fails."""
    if isinstance(exc, SystemExit):
        return f"SystemExit: sys.exit({exc.code!r}) was called"
    try:
        text = str(exc)
    except Exception as broken:
        text = f"<its message cannot be shown: str() raised {type(broken).__name__}>"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Terminated(KeyboardInterrupt):
    """SIGTERM asked the process to stop; raised in the main thread, like Ctrl-C's interrupt."""


class RunInterrupted(KeyboardInterrupt):
    """A run was stopped by Ctrl-C, SIGTERM or a kernel interrupt, after recording itself.

    ``result`` is the ``RunResult`` with status ``interrupted``: what finished, what did not.
    """

    def __init__(self, result: object, *, terminated: bool = False) -> None:
        super().__init__(str(result))
        self.result = result
        self.terminated = terminated

    def _render_traceback_(self) -> list[str]:
        """How IPython shows it: what stopped and what was recorded, not our internals."""
        why = "SIGTERM" if self.terminated else "an interrupt"
        return [f"\x1b[0;31mRunInterrupted\x1b[0m: {why} stopped the run; recorded: {self}"]


class PipelineLabWarning(UserWarning):
    """Something worked but deserves attention (a skipped magic, an ignored option)."""


GATE_ERRORS: tuple[type[PipelineLabError], ...] = (QualityGateError, ComplianceError)
"""Errors that a run hook raises to fail its node on purpose."""

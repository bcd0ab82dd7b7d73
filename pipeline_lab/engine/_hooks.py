"""A run's hooks: observers of its event stream and gates on its nodes, failures isolated.

An observer that raises is logged and reported on the run (``RunResult.hook_errors``); the
run goes on. A gate that raises fails its node (it fails closed: a gate that cannot decide
does not vouch for the data).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from pipeline_lab.engine._task import summary
from pipeline_lab.errors import PipelineDefinitionError, PipelineLabError, describe
from pipeline_lab.events import (
    CheckResult,
    Gate,
    NodeFinished,
    NodeOutcome,
    NodeRetrying,
    NodeStarted,
    NodeStatus,
    RunEvent,
    RunFinished,
    RunInfo,
    RunObserver,
    RunStarted,
    Verdict,
)

log = logging.getLogger("pipeline_lab.hooks")


class Hooks:
    """The observers and gates of one run."""

    def __init__(self, hooks: Iterable[Any]) -> None:
        self.gates: list[Gate] = []
        self.observers: list[Any] = []
        for hook in hooks:
            if isinstance(hook, Gate):
                self.gates.append(hook)
            elif callable(hook):
                self.observers.append(hook)
            else:
                raise PipelineDefinitionError(
                    f"hook {hook!r} is neither an observer nor a gate",
                    hint="an observer is called with each run event (subclass "
                    "pipeline_lab.RunObserver); a gate has judge(run, node, outcome) -> Verdict",
                )
            if callable(hook) and isinstance(hook, Gate):
                self.observers.append(hook)  # a gate may watch the run too
        # Per event type, the observers that want it: a RunObserver that does not override
        # a handler is not called for that event (nor is the event built, if nobody wants it).
        self._wanting: dict[type, list[Any]] = {
            kind: [o for o in self.observers if _wants(o, kind)] for kind in EVENT_TYPES
        }
        self.errors: list[str] = []
        self.interrupt: KeyboardInterrupt | None = None
        """A Ctrl-C that arrived while an observer ran: the driver stops the run on it."""

    def wants(self, kind: type) -> bool:
        """Whether any observer takes events of type ``kind``."""
        return bool(self._wanting[kind])

    def emit(self, event: RunEvent) -> None:
        """Give ``event`` to every observer; none of them can stop the others or the run."""
        for observer in self._wanting[type(event)]:
            try:
                observer(event)
            except KeyboardInterrupt as exc:  # a signal landed in the observer: stop the run
                self.interrupt = self.interrupt or exc
                self._report(observer, type(event).__name__, exc)
            except BaseException as exc:  # sys.exit() in an observer must not end the process
                self._report(observer, type(event).__name__, exc)

    def judge(self, run: RunInfo, node: Any, outcome: NodeOutcome) -> NodeOutcome:
        """``outcome`` after every gate's verdict: its checks, and failed if a gate says so."""
        if not self.gates or not outcome.status.ok:
            return outcome
        checks: list[CheckResult] = []
        error: BaseException | None = None
        for gate in self.gates:
            try:
                verdict = gate.judge(run, node, outcome)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:
                verdict = Verdict(error=exc)
            if verdict is None:
                continue
            if not isinstance(verdict, Verdict):
                verdict = Verdict(error=_not_a_verdict(gate, verdict))
            checks.extend(verdict.checks)
            if error is None and verdict.error is not None:
                error = verdict.error
        if error is None:
            return outcome._replace(checks=(*outcome.checks, *checks)) if checks else outcome
        # The refused output stays on the outcome (never handed downstream): in a kernel it
        # is bound all the same, so the user can look at the rows that failed.
        return outcome._replace(
            status=NodeStatus.FAILED,
            checks=(*outcome.checks, *checks),
            error=summary(error),
            traceback=None,
            exception=error,
        )

    def _report(self, hook: Any, event: str, exc: BaseException) -> None:
        message = f"{_name(hook)} failed on {event}: {describe(exc)}"
        log.warning(message, exc_info=exc)
        self.errors.append(message)


EVENT_TYPES = (RunStarted, NodeStarted, NodeRetrying, NodeFinished, RunFinished)


def _wants(observer: Any, kind: type) -> bool:
    if not isinstance(observer, RunObserver) or type(observer).__call__ is not RunObserver.__call__:
        return True  # a plain callable (or a custom __call__) sees everything
    handler: str = kind.handler  # type: ignore[attr-defined]
    return getattr(type(observer), handler) is not getattr(RunObserver, handler)


def _name(hook: Any) -> str:
    return getattr(hook, "__qualname__", None) or type(hook).__name__


def _not_a_verdict(gate: Any, answer: Any) -> PipelineLabError:
    return PipelineLabError(
        f"the gate {_name(gate)} answered {type(answer).__name__}, not a Verdict or None; "
        "it fails the node, as a gate that cannot decide does",
        hint="return pipeline_lab.Verdict(checks=..., error=...) or None from judge()",
    )


def with_errors(result: Any, hooks: Hooks) -> Any:
    """``result`` (a ``RunResult``) with the hook errors reported so far."""
    return replace(result, hook_errors=tuple(hooks.errors))

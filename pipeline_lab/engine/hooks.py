"""Run hooks: how quality, lineage, metrics, persistence and live views observe a run.

A hook is any object with some of these methods; each takes keyword-only arguments and
``**future`` so new arguments never break it. Subclass :class:`RunHooks` for the no-op
defaults. A hook that raises is logged and reported on the run (``hook_errors``) and the
run goes on, except a *gate* (``gate = True``) raising from ``on_node_end``, typically a
``QualityGateError`` or ``ComplianceError``: that fails its node on purpose, and so does
any other error of a gate (it fails closed). Gates run before the other hooks, so
observers see the node's final status.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline_lab.engine.result import NodeRun, Run, RunResult
    from pipeline_lab.graph import Node

log = logging.getLogger("pipeline_lab.hooks")

HOOK_METHODS = ("on_run_start", "on_node_start", "on_node_retry", "on_node_end", "on_run_end")


class RunHooks:
    """Base class with no-op hook methods; override the ones you need."""

    gate = False

    def on_run_start(self, *, run: Run, **future: Any) -> None:
        """The run begins (before setup cells run)."""

    def on_node_start(self, *, run: Run, node: Node, **future: Any) -> None:
        """``node`` starts its first attempt, on the thread that runs it."""

    def on_node_retry(
        self,
        *,
        run: Run,
        node: Node,
        attempt: int,
        error: BaseException,
        delay: float,
        **future: Any,
    ) -> None:
        """Attempt ``attempt`` of ``node`` failed with ``error``; the next starts in ``delay`` s."""

    def on_node_end(self, *, run: Run, node: Node, result: NodeRun, **future: Any) -> None:
        """``node`` finished (succeeded, failed or skipped); ``result.output`` is its value."""

    def on_run_end(self, *, run: Run, result: RunResult, **future: Any) -> None:
        """The run finished; ``result`` is what ``Pipeline.run`` returns."""


class HookManager:
    """Calls the hooks that implement each method; isolates their failures."""

    def __init__(self, hooks: Iterable[Any]) -> None:
        hooks = list(hooks)
        ordered = [h for h in hooks if getattr(h, "gate", False)]
        ordered += [h for h in hooks if not getattr(h, "gate", False)]
        self.hooks = ordered
        self._methods = {name: self._implementations(name) for name in HOOK_METHODS}

    def _implementations(self, name: str) -> list[tuple[Any, Any]]:
        found = []
        for hook in self.hooks:
            method = getattr(hook, name, None)
            base = getattr(RunHooks, name)
            if method is not None and getattr(method, "__func__", None) is not base:
                found.append((hook, method))
        return found

    def call(self, name: str, run: Run, **kwargs: Any) -> None:
        for hook, method in self._methods[name]:
            try:
                method(run=run, **kwargs)
            except Exception as exc:
                self._report(run, hook, name, exc)

    def node_end(self, run: Run, node: Node, result: NodeRun) -> BaseException | None:
        """Call ``on_node_end``; return the gate error that failed the node, if any."""
        gate_error: BaseException | None = None
        for hook, method in self._methods["on_node_end"]:
            try:
                method(run=run, node=node, result=result)
            except Exception as exc:
                # A gate fails closed: if it cannot decide, the node's data is not trusted.
                if getattr(hook, "gate", False) and gate_error is None and result.status.ok:
                    gate_error = exc
                    fail_by_gate(result, exc)
                else:
                    self._report(run, hook, "on_node_end", exc)
        return gate_error

    @staticmethod
    def _report(run: Run, hook: Any, name: str, exc: Exception) -> None:
        message = f"{type(hook).__name__}.{name} failed: {type(exc).__name__}: {exc}"
        log.warning(message, exc_info=exc)
        run.hook_errors.append(message)


def fail_by_gate(result: NodeRun, exc: BaseException) -> None:
    """Turn a succeeded ``result`` into a failure caused by a gate."""
    from pipeline_lab.engine.result import NodeStatus

    result.status = NodeStatus.FAILED
    hint = getattr(exc, "hint", None)  # "did you mean 'amount'?" must reach the user too
    result.error = f"{type(exc).__name__}: {getattr(exc, 'message', exc)}" + (
        f" (hint: {hint})" if hint else ""
    )
    result.exception = exc
    result.output = None
    result.display = None

"""The driver: plans which node runs when, hands tasks to an executor, owns all run state.

Nodes start as soon as their inputs are ready (lowest topological position first), up to the
executor's capacity; a failed attempt is retried after its backoff delay without blocking
other nodes; a node whose input failed is skipped; gates judge each outcome before it is
final; every change is an event for the run's observers, emitted on the driver's thread.
"""

from __future__ import annotations

import heapq
import random
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from pipeline_lab._backoff import next_delay
from pipeline_lab.context import RunContext
from pipeline_lab.engine import stop
from pipeline_lab.engine._executors import Executor
from pipeline_lab.engine._hooks import Hooks
from pipeline_lab.engine._namespace import Namespace
from pipeline_lab.engine._task import NodeTask, retryable
from pipeline_lab.engine._transform import TransformationEngine
from pipeline_lab.events import (
    NodeFinished,
    NodeOutcome,
    NodeRetrying,
    NodeStarted,
    NodeStatus,
    RunInfo,
)
from pipeline_lab.frames import isolated
from pipeline_lab.graph import Pipeline


class Driver:
    """Runs the selected nodes of one run (see the module docstring)."""

    def __init__(
        self,
        pipeline: Pipeline,
        run: RunInfo,
        *,
        hooks: Hooks,
        executor: Executor,
        namespace: Namespace,
        context: RunContext,
        values: dict[str, Any],
        transform: TransformationEngine,
        rng: random.Random | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.run = run
        self.hooks = hooks
        self.executor = executor
        self.namespace = namespace
        self.context = context
        self.values = values
        """Outputs of finished nodes (and the values the caller gave)."""
        self.transform = transform
        self.rng = rng or random.Random()
        self.outcomes: dict[str, NodeOutcome] = {}
        self.running: dict[str, int] = {}
        """Nodes handed to the executor, with their attempt."""
        self._selected = run.nodes
        # The run's own view of its nodes: a pipeline edited while it runs does not change it.
        self._nodes = {name: pipeline.nodes[name] for name in run.nodes}
        self._started = hooks.wants(NodeStarted)
        self._retrying = hooks.wants(NodeRetrying)
        self._finished = hooks.wants(NodeFinished)
        self._gated = bool(hooks.gates)
        self._failed: set[str] = set()
        self._index = {name: i for i, name in enumerate(run.nodes)}
        deps = pipeline.dependencies
        self._deps = {name: deps(name) for name in run.nodes}
        index = self._index
        self._children: dict[str, list[str]] = {name: [] for name in run.nodes}
        self._waiting: dict[str, set[str]] = {}
        for name, upstream in self._deps.items():
            inside = {d for d in upstream if d in index} if upstream else set()
            self._waiting[name] = inside
            for dep in inside:
                self._children[dep].append(name)
        self._ready: list[int] = []
        self._retries: list[tuple[float, int, str]] = []
        self._attempt: dict[str, int] = {}
        self._first: dict[str, NodeOutcome] = {}
        """The first attempt's outcome of nodes being retried (the record spans them all)."""
        self._cpu: dict[str, float] = {}

    # -- the loop -------------------------------------------------------------------------
    def execute(self) -> dict[str, NodeOutcome]:
        """Run every selected node to an outcome; ``KeyboardInterrupt`` stops it."""
        __tracebackhide__ = True
        for name in self._selected:
            if not self._waiting[name]:
                self._become_ready(name)
        executor, running, ready, retries = self.executor, self.running, self._ready, self._retries
        capacity = executor.capacity
        hooks = self.hooks
        while ready or running or retries:
            if hooks.interrupt is not None:
                raise hooks.interrupt  # Ctrl-C landed in an observer
            stop.raise_if_requested()  # a signal whose KeyboardInterrupt Python dropped
            while ready and len(running) < capacity:
                self._start(self._selected[heapq.heappop(ready)])
            timeout = max(0.0, retries[0][0] - time.monotonic()) if retries else None
            if running:
                done = executor.wait(timeout)
            else:
                time.sleep(timeout or 0.0)  # only retries are pending: wait for the first
                done = []
            if retries:
                now = time.monotonic()
                while retries and retries[0][0] <= now:
                    _, index, _ = heapq.heappop(retries)
                    heapq.heappush(ready, index)
            for outcome in done:
                self._handle(outcome)
        return self.outcomes

    def close(self) -> None:
        """Close the executor; what it never started is no longer running (abort skips it)."""
        for name in self.executor.close():
            if self.running.pop(name, None) is not None:
                self._attempt[name] -= 1

    def abort(self, why: str) -> None:
        """Give every node without an outcome one: running ones failed, the rest skipped."""
        for name in self._selected:
            if name in self.outcomes:
                continue
            if name in self.running or name in self._first:
                started = self._first.get(name)
                doing = "was running" if name in self.running else "waited to retry"
                outcome = (started or NodeOutcome(name))._replace(
                    status=NodeStatus.FAILED,
                    attempts=self.running.get(name, self._attempt.get(name, 1)),
                    error=f"{why} while the node {doing}",
                    traceback=None,
                    output=None,
                    display=None,
                    exception=None,
                )
            else:
                outcome = NodeOutcome(name, NodeStatus.SKIPPED, error=f"skipped: {why}")
            self._finish(outcome)
        self.running.clear()

    # -- steps ----------------------------------------------------------------------------
    def _become_ready(self, name: str) -> None:
        if self._failed:
            for dep in self._deps[name]:
                if dep in self._failed:
                    self._skip(name, dep)
                    return
        heapq.heappush(self._ready, self._index[name])

    def _skip(self, name: str, because: str) -> None:
        error = f"skipped: upstream node '{because}' did not succeed"
        self._finish(NodeOutcome(name, NodeStatus.SKIPPED, error=error))

    def _start(self, name: str) -> None:
        node = self._nodes[name]
        attempt = self._attempt.get(name, 0) + 1
        self._attempt[name] = attempt
        values = self.values
        inputs = {dep: isolated(values[dep]) for dep in self._deps[name]}
        collect = streaming = None
        if node.component is not None:
            collect = name in self.transform.collected
            streaming = self.transform.use_streaming(inputs) if collect else None
        task = NodeTask(
            node, inputs, attempt, self.context, self.namespace, bool(collect), streaming
        )
        if self._started:
            self.hooks.emit(NodeStarted(self.run, name, attempt, datetime.now(timezone.utc)))
        self.running[name] = attempt
        self.executor.submit(task)

    def _handle(self, outcome: NodeOutcome) -> None:
        name = outcome.name
        if isinstance(outcome.exception, KeyboardInterrupt):
            # The node itself raised it (a kernel interrupt reaches the code that runs): stop
            # the run as Ctrl-C does; abort() records the node as interrupted while running.
            raise outcome.exception
        attempt = self.running[name]  # still running until it is finished (see abort)
        node = self._nodes[name]
        policy = node.retry
        if (
            policy.retries
            and outcome.status is NodeStatus.FAILED
            and attempt <= policy.retries
            and retryable(outcome.exception)
        ):
            del self.running[name]
            self._first.setdefault(name, outcome)
            self._cpu[name] = self._cpu.get(name, 0.0) + (outcome.cpu_s or 0.0)
            delay = next_delay(attempt, policy.delay, policy.factor, policy.cap, self.rng)
            if self._retrying:
                self.hooks.emit(NodeRetrying(self.run, name, attempt, outcome.error or "", delay))
            heapq.heappush(self._retries, (time.monotonic() + delay, self._index[name], name))
            return
        first = self._first.pop(name, None)
        if first is not None:  # retried: the record spans every attempt
            assert first.started_at is not None and outcome.ended_at is not None
            outcome = outcome._replace(
                started_at=first.started_at,
                duration_s=(outcome.ended_at - first.started_at).total_seconds(),
                cpu_s=self._cpu.pop(name, 0.0) + (outcome.cpu_s or 0.0),
            )
        if self._gated:
            outcome = self.hooks.judge(self.run, node, outcome)
        self._finish(outcome)

    def _finish(self, outcome: NodeOutcome) -> None:
        name = outcome.name
        self.running.pop(name, None)
        self.outcomes[name] = outcome
        if outcome.status.ok:
            self.values[name] = outcome.output
        else:
            self._failed.add(name)
        if self._finished:
            self.hooks.emit(NodeFinished(self.run, outcome))
        for child in self._children[name]:
            waiting = self._waiting[child]
            waiting.discard(name)
            if not waiting and child not in self.outcomes:
                self._become_ready(child)


def given_values(values: Mapping[str, Any], selected: tuple[str, ...]) -> dict[str, Any]:
    """The caller's values for nodes outside the run (a selected node always runs again)."""
    chosen = set(selected)
    return {name: value for name, value in values.items() if name not in chosen}

"""Run one node: namespace, attempts with backoff, timeout, gates, hooks."""

from __future__ import annotations

import linecache
import random
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from types import TracebackType
from typing import Any

from pipeline_lab._backoff import next_delay
from pipeline_lab.connectors import SourceCatalog
from pipeline_lab.context import RunContext, running
from pipeline_lab.engine._transform import TransformationEngine
from pipeline_lab.engine.hooks import HookManager
from pipeline_lab.engine.result import NodeRun, NodeStatus, Run
from pipeline_lab.errors import (
    GATE_ERRORS,
    NodeTimeoutError,
    PipelineLabError,
    TransientError,
)
from pipeline_lab.frames import shape
from pipeline_lab.graph import Node, Pipeline
from pipeline_lab.lineage import DatasetUse


def retryable(exc: BaseException) -> bool:
    """Our own errors are retried only when marked transient; the user's code errors always."""
    if isinstance(exc, PipelineLabError):
        return isinstance(exc, TransientError) and not isinstance(exc, GATE_ERRORS)
    return isinstance(exc, Exception)


class NodeRunner:
    """Runs nodes of one run; shared by all executors (thread-safe: no per-node state)."""

    def __init__(
        self,
        run: Run,
        hooks: HookManager,
        base_namespace: Mapping[str, Any],
        *,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transform: TransformationEngine | None = None,
        catalog: SourceCatalog | None = None,
    ) -> None:
        self.run = run
        self.pipeline: Pipeline = run.pipeline
        self.hooks = hooks
        self.base = base_namespace
        self.rng = rng or random.Random()
        self.sleep = sleep
        self._deps = {n: self.pipeline.dependencies(n) for n in run.selected}
        self.transform = transform or TransformationEngine(self.pipeline, run.selected)
        self.catalog = catalog  # where nodes look up managed data source names

    def skip(self, name: str, because: str) -> NodeRun:
        result = self.run.node_runs[name]
        result.status = NodeStatus.SKIPPED
        result.error = f"skipped: upstream node '{because}' did not succeed"
        self.hooks.node_end(self.run, self.pipeline.nodes[name], result)
        return result

    def execute(self, name: str) -> NodeRun:
        """Run node ``name`` to completion (all attempts); never raises for node errors."""
        __tracebackhide__ = True
        node = self.pipeline.nodes[name]
        result = self.run.node_runs[name]
        inputs = {dep: self.run.values[dep] for dep in self._deps[name]}
        result.started_at = datetime.now(timezone.utc)
        started = time.perf_counter()
        self.hooks.call("on_node_start", self.run, node=node)
        policy = node.retry
        while True:
            result.attempts += 1
            result.status = NodeStatus.RUNNING
            try:
                value, result.display, cpu = self._attempt(node, inputs)
                result.cpu_s = (result.cpu_s or 0.0) + cpu
            except BaseException as exc:
                if not isinstance(exc, Exception):
                    raise
                if result.attempts <= policy.retries and retryable(exc):
                    delay = next_delay(
                        result.attempts, policy.delay, policy.factor, policy.cap, self.rng
                    )
                    result.status = NodeStatus.RETRYING
                    result.error = _summary(exc)
                    self.hooks.call(
                        "on_node_retry",
                        self.run,
                        node=node,
                        attempt=result.attempts,
                        error=exc,
                        delay=delay,
                    )
                    self.sleep(delay)
                    continue
                self._fail(node, result, exc)
                break
            result.status = NodeStatus.SUCCEEDED
            result.error = None
            result.output = value
            dims = shape(value)
            if dims is not None:
                result.rows, result.columns = dims
            break
        result.ended_at = datetime.now(timezone.utc)
        result.duration_s = time.perf_counter() - started
        self.hooks.node_end(self.run, node, result)
        if result.status is NodeStatus.SUCCEEDED:
            self.run.values[name] = result.output
        return result

    def _fail(self, node: Node, result: NodeRun, exc: BaseException) -> None:
        result.status = NodeStatus.FAILED
        result.timed_out = isinstance(exc, NodeTimeoutError)
        result.exception = exc
        result.error = _summary(exc)
        result.traceback = user_traceback(exc, _code_filename(node))

    def _attempt(self, node: Node, inputs: dict[str, Any]) -> tuple[Any, Any, float]:
        __tracebackhide__ = True
        if node.timeout is None:
            return self._call(node, inputs)
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["value"] = self._call(node, inputs)
            except BaseException as exc:
                box["error"] = exc

        worker = threading.Thread(target=target, name=f"pipeline-node-{node.name}", daemon=True)
        worker.start()
        worker.join(node.timeout)
        if worker.is_alive():
            # A Python thread cannot be killed: it finishes in the background, its result is dropped.
            raise NodeTimeoutError(
                f"timed out after {node.timeout:g}s; its late result will be discarded",
                node=node.name,
                hint="raise --timeout, or make the node faster",
            )
        if "error" in box:
            raise box["error"]
        return box["value"]

    def _call(self, node: Node, inputs: dict[str, Any]) -> tuple[Any, Any, float]:
        """Evaluate the node once: its output, what the cell displays, and its CPU time here."""
        __tracebackhide__ = True
        context = RunContext(
            run_id=self.run.run_id,
            pipeline=self.pipeline.name,
            node=node.name,
            params=self.run.params,
            catalog=self.catalog,
            report=self._dataset_collector(node.name),
        )
        with running(context):
            return self._evaluate(node, inputs)

    def _dataset_collector(self, name: str) -> Callable[[DatasetUse], None]:
        uses = self.run.node_runs[name].datasets

        def collect(use: DatasetUse) -> None:
            if use not in uses:  # a retried attempt reports the same datasets again
                uses.append(use)

        return collect

    def _evaluate(self, node: Node, inputs: dict[str, Any]) -> tuple[Any, Any, float]:
        __tracebackhide__ = True
        cpu = time.thread_time()
        if node.func is not None:
            if node.inputs is not None:
                args = (inputs[d] if d in inputs else self.base[d] for d in node.inputs)
                value = node.func(*args)
            else:
                params = {p: self.base[p] for p in self.pipeline.parameters_of(node.name)}
                value = node.func(**params, **inputs)
        elif node.component is not None:
            value = self.transform.run(node, inputs)
        else:
            value, shown = self._exec(node, inputs)
            return value, shown, time.thread_time() - cpu
        return value, value, time.thread_time() - cpu

    def _exec(self, node: Node, inputs: dict[str, Any]) -> tuple[Any, Any]:
        __tracebackhide__ = True
        compiled = node.compiled
        # Always refresh: a re-run cell redefines the node under the same pseudo file name.
        lines = node.source_lines()
        linecache.cache[node.filename] = (sum(map(len, lines)), None, lines, node.filename)
        namespace = dict(self.base)
        namespace.update(inputs)
        exec(compiled.body, namespace)
        # The last expression runs even when NAME is the output: it may write or log something.
        last = eval(compiled.last, namespace) if compiled.last is not None else None
        if node.output_name is not None:
            # `report = ...` then `report.head()`: the output is all of report, the cell shows its head.
            return namespace[node.output_name], last if compiled.last is not None else namespace[
                node.output_name
            ]
        return last, last


def _code_filename(node: Node) -> str:
    """The file the node's own code runs from: its pseudo file, or its function's source."""
    code = getattr(node.func, "__code__", None)
    return code.co_filename if code is not None else node.filename


def _summary(exc: BaseException) -> str:
    if isinstance(exc, PipelineLabError):
        return f"{type(exc).__name__}: {exc.message}" + (f" (hint: {exc.hint})" if exc.hint else "")
    return f"{type(exc).__name__}: {exc}"


def user_frames(exc: BaseException, filename: str) -> TracebackType | None:
    """The part of ``exc``'s traceback that starts in the node's own code."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    return tb


def user_traceback(exc: BaseException, filename: str) -> str:
    """The traceback a user would see if the cell ran by itself (none of our frames)."""
    tb = user_frames(exc, filename)
    if tb is None:
        if isinstance(exc, PipelineLabError):
            return _summary(exc) + "\n"  # our own error: its message says where and what to do
        return "".join(traceback.format_exception_only(type(exc), exc))
    return "".join(traceback.format_exception(type(exc), exc, tb))

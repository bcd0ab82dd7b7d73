"""The portable unit of work: one attempt of one node, as a serializable :class:`NodeTask`.

An executor runs :func:`execute_task` wherever it likes (the caller's thread, a worker
thread, another process, a Dask worker) and hands back the :class:`NodeOutcome`; the driver
alone decides what happens next (retries, gates, skips) and emits the run's events.
"""

from __future__ import annotations

import functools
import linecache
import os
import threading
import time
import traceback
from collections.abc import Mapping
from datetime import datetime, timezone
from types import TracebackType
from typing import Any, NamedTuple

from pipeline_lab.context import RunContext, current_run, running
from pipeline_lab.engine._namespace import Namespace
from pipeline_lab.engine._transform import run_component
from pipeline_lab.errors import (
    GATE_ERRORS,
    NodeTimeoutError,
    PipelineLabError,
    TransientError,
    describe,
)
from pipeline_lab.events import NodeOutcome, NodeStatus
from pipeline_lab.frames import shape
from pipeline_lab.graph import Node, cell_source


class NodeTask(NamedTuple):
    """One attempt of one node, with everything it needs to run anywhere."""

    node: Node
    inputs: Mapping[str, Any]
    """The values of the nodes it reads, each its own copy (``frames.isolated``)."""
    attempt: int
    context: RunContext
    """The run's context; the attempt runs with ``node`` and ``attempt`` set in it."""
    namespace: Namespace
    """The globals the node's code starts from (parameters, setup cells)."""
    collect: bool = True
    """For a component: collect its plan (else its LazyFrame is handed on, fused)."""
    streaming: bool | None = None

    @property
    def name(self) -> str:
        return self.node.name


def execute_task(task: NodeTask) -> NodeOutcome:
    """Run one attempt of ``task``; a failure of the node's code is an outcome, never raised.

    ``KeyboardInterrupt`` (Ctrl-C, a kernel interrupt) is not a failure of the node: it
    propagates, so the run stops.
    """
    __tracebackhide__ = True
    node = task.node
    started_at = datetime.now(timezone.utc)
    started = time.perf_counter()
    datasets: list[Any] = []

    def report(use: Any) -> None:
        if use not in datasets:  # a retried read reports the same dataset again
            datasets.append(use)

    run = task.context
    context = RunContext(
        run.run_id, run.pipeline, node.name, task.attempt, run.params, run.catalog, report
    )
    try:
        with running(context):
            if node.timeout is None:
                value, shown, cpu = _evaluate(task)
            else:
                value, shown, cpu = _with_timeout(task, node.timeout)
    except KeyboardInterrupt:
        raise  # Ctrl-C or a kernel interrupt stops the run, it is not the node failing
    except BaseException as exc:  # sys.exit() in a node, or any exception of the user's
        return NodeOutcome(
            node.name,
            NodeStatus.FAILED,
            task.attempt,
            started_at,
            datetime.now(timezone.utc),
            time.perf_counter() - started,
            None,
            None,
            None,
            summary(exc),
            user_traceback(exc, _code_filename(node)),
            isinstance(exc, NodeTimeoutError),
            (),
            tuple(datasets),
            None,
            None,
            exc,
        )
    dims = shape(value)
    return NodeOutcome(
        node.name,
        NodeStatus.SUCCEEDED,
        task.attempt,
        started_at,
        datetime.now(timezone.utc),
        time.perf_counter() - started,
        cpu,
        None if dims is None else dims[0],
        None if dims is None else dims[1],
        None,
        None,
        False,
        (),
        tuple(datasets),
        value,
        shown,
        None,
    )


def retryable(exc: BaseException | None) -> bool:
    """Our own errors are retried only when marked transient; the user's code errors always."""
    if isinstance(exc, PipelineLabError):
        return isinstance(exc, TransientError) and not isinstance(exc, GATE_ERRORS)
    return isinstance(exc, Exception)


def _with_timeout(task: NodeTask, timeout: float) -> tuple[Any, Any, float]:
    __tracebackhide__ = True
    box: dict[str, Any] = {}
    context = current_run()  # the attempt's: the timed thread reports datasets the same way

    def target() -> None:
        try:
            with running(context):
                box["value"] = _evaluate(task)
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=target, name=f"pipeline-node-{task.name}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        # A Python thread cannot be killed: it finishes in the background, its result is dropped.
        raise NodeTimeoutError(
            f"timed out after {timeout:g}s; its late result will be discarded",
            node=task.name,
            hint="raise --timeout, or make the node faster",
        )
    if "error" in box:
        raise box["error"]
    value: tuple[Any, Any, float] = box["value"]
    return value


def _evaluate(task: NodeTask) -> tuple[Any, Any, float]:
    """Evaluate the node once: its output, what the cell displays, and its CPU time here."""
    __tracebackhide__ = True
    node, inputs = task.node, task.inputs
    cpu = time.thread_time()
    if node.func is not None:
        base = task.namespace.values
        if node.inputs is not None:
            value = node.func(*[inputs[d] if d in inputs else base[d] for d in node.inputs])
        else:
            params = task.namespace.parameters_of(node)
            value = node.func(**params, **inputs)
    elif node.component is not None:
        value = run_component(node, inputs, collect=task.collect, streaming=task.streaming)
    else:
        value, shown = _exec(node, inputs, task.namespace)
        return value, shown, time.thread_time() - cpu
    return value, value, time.thread_time() - cpu


def _exec(node: Node, inputs: Mapping[str, Any], base: Namespace) -> tuple[Any, Any]:
    __tracebackhide__ = True
    compiled = node.compiled
    # Always refresh: a re-run cell redefines the node under the same pseudo file name.
    # The node as its cell reads, header first, so traceback line numbers match the editor.
    lines = cell_source(node).splitlines(True)
    linecache.cache[node.filename] = (sum(map(len, lines)), None, lines, node.filename)
    namespace = dict(base.values)
    namespace.update(inputs)
    exec(compiled.body, namespace)
    # The last expression runs even when NAME is the output: it may write or log something.
    last = eval(compiled.last, namespace) if compiled.last is not None else None
    if node.output_name is not None:
        # `report = ...` then `report.head()`: the output is all of report, the cell shows its head.
        output = namespace[node.output_name]
        return output, last if compiled.last is not None else output
    return last, last


def _code_filename(node: Node) -> str:
    """The file the node's own code runs from: its pseudo file, or its function's source."""
    code = getattr(node.func, "__code__", None)
    return code.co_filename if code is not None else node.filename


def summary(exc: BaseException) -> str:
    """``ErrorType: message`` on one line (our errors add their hint)."""
    if isinstance(exc, PipelineLabError):
        return f"{type(exc).__name__}: {exc.message}" + (f" (hint: {exc.hint})" if exc.hint else "")
    return describe(exc)


def user_frames(exc: BaseException, filename: str) -> TracebackType | None:
    """The part of ``exc``'s traceback that starts in the node's own code."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    return tb


def user_traceback(exc: BaseException, filename: str) -> str:
    """The traceback a user would see if the cell ran by itself: from the node's own code
    down, with only the user's frames (none of Pipeline Lab's, of installed libraries or of
    the standard library) and the exception's own message at the end."""
    tb = user_frames(exc, filename)
    if tb is None:
        if isinstance(exc, PipelineLabError):
            return summary(exc) + "\n"  # our own error: its message says where and what to do
        return "".join(traceback.format_exception_only(type(exc), exc))
    shown = traceback.TracebackException(type(exc), exc, tb, compact=True)
    if isinstance(exc, PipelineLabError):
        # Our error wraps the foreign one once, at the boundary, and its message says it.
        shown.__cause__ = shown.__context__ = None
    for part in _chain(shown):
        part.stack = traceback.StackSummary.from_list(
            [frame for frame in part.stack if _is_users(frame.filename, filename)]
        )
    return "".join(shown.format())


def _chain(shown: traceback.TracebackException) -> list[traceback.TracebackException]:
    """``shown`` and the exceptions chained to it (causes, contexts, groups)."""
    found: list[traceback.TracebackException] = []
    todo = [shown]
    while todo:
        part = todo.pop()
        if any(part is seen for seen in found):
            continue
        found.append(part)
        todo += [p for p in (part.__cause__, part.__context__) if p is not None]
        todo += getattr(part, "exceptions", None) or []
    return found


def _is_users(path: str, filename: str) -> bool:
    """Whether a frame of ``path`` is the user's code: the node's own, a notebook cell's, or
    a file outside Pipeline Lab, the installed packages and the standard library."""
    if path == filename:
        return True
    if path.startswith("<"):  # <pipeline node x>, <notebook cell 3>; not <frozen ...>, <string>
        return path.startswith(("<pipeline node ", "<notebook cell "))
    real = os.path.realpath(path)
    return not any(real == root or real.startswith(root + os.sep) for root in _library_roots())


@functools.cache
def _library_roots() -> tuple[str, ...]:
    """Folders whose code is not the user's: Pipeline Lab, site-packages, the stdlib."""
    import site
    import sysconfig

    import pipeline_lab

    paths = sysconfig.get_paths()
    roots = [os.path.dirname(pipeline_lab.__file__)]
    roots += [paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths]
    roots += site.getsitepackages() if hasattr(site, "getsitepackages") else []
    roots.append(site.getusersitepackages())
    return tuple(dict.fromkeys(os.path.realpath(root) for root in roots if root))

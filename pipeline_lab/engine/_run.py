"""``run_pipeline``: prepare, set up, execute, report, finish — and finish always.

Whatever happens once a run has started (a node fails, the setup cells fail, Ctrl-C,
SIGTERM, a kernel interrupt, a crash of Pipeline Lab itself), every selected node gets an
outcome and :class:`RunFinished` is emitted with the run's status, so no run is left
``running``. Errors found before the run starts (an invalid pipeline, an unknown parameter
or executor) are raised and nothing is recorded.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pipeline_lab.connectors import active_catalog
from pipeline_lab.context import RunContext
from pipeline_lab.engine._driver import Driver, given_values
from pipeline_lab.engine._executors import EXECUTORS, ExecutorOptions, open_executor
from pipeline_lab.engine._hooks import Hooks, with_errors
from pipeline_lab.engine._namespace import (
    Namespace,
    exec_cell,
    headless_namespace,
    kernel_namespace,
    run_setup,
)
from pipeline_lab.engine._options import RunOptions
from pipeline_lab.engine._params import check_param_names
from pipeline_lab.engine._task import user_traceback
from pipeline_lab.engine._transform import TransformationEngine
from pipeline_lab.engine.result import RunResult
from pipeline_lab.errors import (
    PipelineDefinitionError,
    PipelineLabError,
    RunInterrupted,
    Terminated,
    describe,
)
from pipeline_lab.events import (
    NodeFinished,
    NodeOutcome,
    NodeStatus,
    RunFinished,
    RunInfo,
    RunStarted,
    RunStatus,
)
from pipeline_lab.graph import Pipeline
from pipeline_lab.suggest import did_you_mean

HOST = socket.gethostname()


def default_hooks() -> list[Any]:
    """The ``--check`` gate and (unless ``PIPELINE_LAB_STORE=off``) the store."""
    from pipeline_lab.config import settings
    from pipeline_lab.quality import ChecksGate

    hooks: list[Any] = [ChecksGate()]
    if settings().store_enabled:
        from pipeline_lab.store import StoreObserver

        hooks.append(StoreObserver())
    return hooks


def run_pipeline(
    pipeline: Pipeline, options: RunOptions | None = None, /, **kwargs: Any
) -> RunResult:
    """Run ``pipeline`` (see :meth:`Pipeline.run`); ``kwargs`` are :class:`RunOptions` fields."""
    __tracebackhide__ = True
    prepared = prepare(pipeline, options if options is not None else RunOptions.of(**kwargs))
    return prepared.start()


def prepare(pipeline: Pipeline, options: RunOptions) -> PreparedRun:
    """Everything that can be checked before the run starts; errors here are raised."""
    __tracebackhide__ = True
    namespace = options.namespace
    # The run works on its own checked copy: a pipeline edited while it runs (a kernel cell,
    # another thread) changes neither the run nor what its observers see.
    pipeline = pipeline.snapshot(known=namespace.keys() if namespace is not None else None)
    # Components that setup cells register are checked again once those cells have run.
    late = set() if namespace is not None else pipeline.setup_transforms()
    late_nodes = any(node.component in late for node in pipeline.nodes.values())
    if options.executor not in EXECUTORS:
        EXECUTORS.get(options.executor)  # raises, naming the known executors
    overrides = dict(check_param_names(pipeline, options.params))
    selected = plan(pipeline, only=options.only, from_=options.from_, available=options.values)
    hooks = Hooks(default_hooks() if options.hooks is None else options.hooks)
    return PreparedRun(pipeline, options, tuple(selected), overrides, hooks, late_nodes)


@dataclass
class PreparedRun:
    """A checked run, ready to start."""

    pipeline: Pipeline
    options: RunOptions
    selected: tuple[str, ...]
    overrides: dict[str, Any]
    hooks: Hooks
    late_components: bool

    def start(self) -> RunResult:
        __tracebackhide__ = True
        pipeline, options, hooks = self.pipeline, self.options, self.hooks
        run_id = uuid.uuid4().hex
        started = time.perf_counter()
        started_at = datetime.now(timezone.utc)
        headless = options.namespace is None
        setup_error: str | None = None
        try:
            if headless:
                namespace = headless_namespace(pipeline, self.overrides, run_id)
            else:
                assert options.namespace is not None
                namespace = kernel_namespace(pipeline, options.namespace, self.overrides)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # the parameters cell failed (sys.exit() included)
            setup_error = _setup_error(exc)
            namespace = Namespace({}, {name: v for name, v in pipeline.params.items()})
        run = RunInfo(
            run_id=run_id,
            pipeline=pipeline,
            params=dict(namespace.params),
            nodes=self.selected,
            source=options.source,
            executor=options.executor,
            started_at=started_at,
            host=HOST,
            pid=os.getpid(),
        )
        hooks.emit(RunStarted(run))  # before the setup cells
        driver: Driver | None = None
        interrupt: KeyboardInterrupt | None = None
        crash: BaseException | None = None
        report_errors: dict[int, str] = {}
        try:
            if setup_error is None and headless:
                setup_error = self._setup(namespace)
            if setup_error is None:
                driver = self._driver(run, namespace)
                try:
                    driver.execute()
                finally:
                    driver.close()
                reports = options.run_reports if options.run_reports is not None else headless
                if reports:
                    report_errors = _run_reports(pipeline, namespace, driver.values)
        except KeyboardInterrupt as exc:
            interrupt = exc
        except BaseException as exc:
            crash = exc
        finally:
            result = self._finish(
                run, driver, started, setup_error, report_errors, interrupt, crash
            )
        if interrupt is not None:
            raise RunInterrupted(result, terminated=isinstance(interrupt, Terminated)) from (
                interrupt
            )
        if crash is not None:
            raise crash
        return result

    def _setup(self, namespace: Namespace) -> str | None:
        __tracebackhide__ = True
        try:
            run_setup(self.pipeline, namespace)
            if self.late_components:
                _check_registered(self.pipeline)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # sys.exit() in a setup cell fails the setup, nothing more
            return _setup_error(exc)
        return None

    def _driver(self, run: RunInfo, namespace: Namespace) -> Driver:
        options = self.options
        transform = TransformationEngine(
            self.pipeline,
            self.selected,
            streaming=options.streaming,
            materialize=options.materialize,
        )
        context = RunContext(
            run_id=run.run_id,
            pipeline=self.pipeline.name,
            params=run.params,
            catalog=active_catalog(),  # resolved here, outside any run: the store's
        )
        executor = open_executor(options.executor, ExecutorOptions(options.max_workers))
        return Driver(
            self.pipeline,
            run,
            hooks=self.hooks,
            executor=executor,
            namespace=namespace,
            context=context,
            values=given_values(options.values, self.selected),
            transform=transform,
            rng=options.rng,
        )

    def _finish(
        self,
        run: RunInfo,
        driver: Driver | None,
        started: float,
        setup_error: str | None,
        report_errors: dict[int, str],
        interrupt: KeyboardInterrupt | None,
        crash: BaseException | None,
    ) -> RunResult:
        """Give every node an outcome, decide the run's status, emit ``RunFinished``."""
        hooks = self.hooks
        reason: str | None = None
        error: str | None = None
        if interrupt is not None:
            terminated = isinstance(interrupt, Terminated)
            reason = "sigterm" if terminated else "interrupt"
            error = (
                "stopped by SIGTERM" if terminated else "interrupted (Ctrl-C or a kernel interrupt)"
            )
        elif crash is not None:
            ours = isinstance(crash, PipelineLabError)
            reason = "error" if ours else "crash"
            error = (
                str(crash)
                if ours
                else "".join(traceback.format_exception(type(crash), crash, crash.__traceback__))
            )
        elif setup_error is not None:
            reason = "setup_failed"
        if driver is not None:
            if interrupt is not None or crash is not None:
                driver.abort(
                    "the run was " + ("interrupted" if interrupt else "stopped by an error")
                )
            outcomes = driver.outcomes
            values = driver.values
        else:
            why = "skipped: the setup cells failed" if setup_error else "skipped: the run stopped"
            outcomes = {}
            for name in self.selected:
                outcome = NodeOutcome(name, NodeStatus.SKIPPED, error=why)
                outcomes[name] = outcome
                if hooks.wants(NodeFinished):
                    hooks.emit(NodeFinished(run, outcome))
            values = {}
        if interrupt is not None:
            status = RunStatus.INTERRUPTED
        elif crash is not None:
            status = RunStatus.FAILED if isinstance(crash, PipelineLabError) else RunStatus.CRASHED
        elif setup_error is not None or any(not o.status.ok for o in outcomes.values()):
            status = RunStatus.FAILED
        else:
            status = RunStatus.SUCCEEDED
        ended_at = datetime.now(timezone.utc)
        duration = time.perf_counter() - started
        result = RunResult(
            run_id=run.run_id,
            pipeline=self.pipeline.name,
            status=status,
            outputs={n: values[n] for n in self.selected if n in values},
            node_runs={n: outcomes[n] for n in self.selected if n in outcomes},
            params=run.params,
            executor=run.executor,
            started_at=run.started_at,
            ended_at=ended_at,
            duration_s=duration,
            reason=reason,
            error=error,
            setup_error=setup_error,
            report_errors=report_errors,
            hook_errors=tuple(hooks.errors),
        )
        hooks.emit(RunFinished(run, status, ended_at, duration, reason, error, result))
        return with_errors(result, hooks)


def plan(
    pipeline: Pipeline,
    *,
    only: Iterable[str] | str | None = None,
    from_: str | None = None,
    available: Mapping[str, Any] | None = None,
) -> list[str]:
    """The nodes to run, in topological order.

    ``only`` runs just those nodes, ``from_`` a node and everything downstream of it; in both
    cases an upstream node whose value is not ``available`` runs too, so inputs exist.
    """
    order = pipeline.order()
    available = available or {}
    if isinstance(only, str):
        only = [only]
    targets: set[str] = set()
    for name in [*(only or ()), *([from_] if from_ else [])]:
        if name not in pipeline.nodes:
            raise PipelineDefinitionError(
                f"pipeline '{pipeline.name}' has no node '{name}'",
                hint=did_you_mean(name, pipeline.nodes) or f"nodes: {', '.join(order)}",
            )
    if only:
        targets |= set(only)
    if from_:
        targets |= {from_} | pipeline.downstream(from_)
    if not targets:
        return order
    needed = set(targets)
    stack = list(targets)
    while stack:
        for dep in pipeline.dependencies(stack.pop()):
            if dep not in needed and dep not in available:
                needed.add(dep)
                stack.append(dep)
    return [name for name in order if name in needed]


def _check_registered(pipeline: Pipeline) -> None:
    """After the setup cells: every component they were to register must now exist."""
    from pipeline_lab.components import component_names

    known = set(component_names())
    for node in pipeline.nodes.values():
        if node.component is not None and node.component not in known:
            raise PipelineDefinitionError(
                f"unknown component '{node.component}': the setup cells ran but did not "
                "register it",
                node=node.name,
                hint="decorate the function with @pipeline_lab.transform in a setup cell",
            )


def _setup_error(exc: BaseException) -> str:
    return describe(exc) + "\n" + user_traceback(exc, getattr(exc, "_cell", ""))


def _run_reports(
    pipeline: Pipeline, namespace: Namespace, values: Mapping[str, Any]
) -> dict[int, str]:
    """Report cells, in notebook order, once the nodes they read are done; failures are reported."""
    errors: dict[int, str] = {}
    scope = dict(namespace.values)
    scope.update(values)
    for cell in pipeline.reports:
        try:
            missing = [n for n in pipeline.report_dependencies(cell) if n not in values]
            if missing:
                names = ", ".join(missing)
                errors[cell.number] = f"skipped: node(s) {names} did not produce a value"
                continue
            exec_cell(cell, scope, f"report cell {cell.number}")
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # a bad report cell (even sys.exit()) never fails the run
            errors[cell.number] = user_traceback(exc, cell.filename).rstrip()
    return errors

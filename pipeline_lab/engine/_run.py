"""``run_pipeline``: plan the selected nodes, prepare the namespace, execute, report."""

from __future__ import annotations

import builtins
import linecache
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from pipeline_lab.connectors import SourceCatalog
from pipeline_lab.engine._executors import EXECUTORS
from pipeline_lab.engine._node_runner import NodeRunner, user_traceback
from pipeline_lab.engine._params import Params, check_param_names
from pipeline_lab.engine._transform import TransformationEngine
from pipeline_lab.engine.hooks import HookManager
from pipeline_lab.engine.result import NodeRun, NodeStatus, Run, RunResult
from pipeline_lab.errors import PipelineDefinitionError
from pipeline_lab.graph import Cell, Pipeline
from pipeline_lab.suggest import did_you_mean


def default_hooks() -> list[Any]:
    """Checks, metrics and (unless ``PIPELINE_LAB_STORE=off``) the store."""
    from pipeline_lab.config import settings
    from pipeline_lab.monitoring import MetricsHook
    from pipeline_lab.quality import ChecksHook

    hooks: list[Any] = [ChecksHook(), MetricsHook()]
    if settings().store_enabled:
        from pipeline_lab.store import StoreHook

        hooks.append(StoreHook())
    return hooks


def run_pipeline(
    pipeline: Pipeline,
    params: Mapping[str, Any] | None = None,
    executor: str = "threads",
    only: Iterable[str] | str | None = None,
    from_: str | None = None,
    hooks: Iterable[Any] | None = None,
    *,
    values: Mapping[str, Any] | None = None,
    globals_: Mapping[str, Any] | None = None,
    source: str = "api",
    run_reports: bool | None = None,
    max_workers: int | None = None,
    rng: Any = None,
    streaming: bool | None = None,
    materialize: bool = False,
) -> RunResult:
    """Run ``pipeline`` (see :meth:`Pipeline.run`).

    ``values`` are outputs already computed (the kernel's): selected nodes read them instead
    of re-running their upstream. ``globals_`` is a live namespace (the kernel's) used instead
    of running the parameters and setup cells. ``streaming`` forces polars' streaming
    engine on (or off) for component plans; by default it is used for large inputs.
    ``materialize`` collects every component output (else chains stay one lazy plan).
    """
    __tracebackhide__ = True
    pipeline.check(known=globals_.keys() if globals_ is not None else None)
    # Components that setup cells register are checked again once those cells have run
    # (still unknown then, the run fails like a failing setup cell).
    registered_by_setup = pipeline.setup_transforms() if globals_ is None else set()
    late = any(node.component in registered_by_setup for node in pipeline.nodes.values())
    run_executor = EXECUTORS.get(executor)
    overrides = dict(check_param_names(pipeline, params or {}))
    values = dict(values or {})
    selected = plan(pipeline, only=only, from_=from_, available=values)
    manager = HookManager(default_hooks() if hooks is None else hooks)
    run = Run(
        run_id=uuid.uuid4().hex,
        pipeline=pipeline,
        params={},
        executor=executor,
        selected=tuple(selected),
        source=source,
        started_at=datetime.now(timezone.utc),
        node_runs={name: NodeRun(name) for name in selected},
        values=values,
    )
    started = time.perf_counter()
    setup_error: str | None = None
    base: dict[str, Any] = {}
    try:
        base = _namespace(pipeline, overrides, globals_, run)
    except Exception as exc:
        setup_error = _setup_error(exc)
    manager.call("on_run_start", run)  # before the setup cells, as hooks.py promises
    if setup_error is None and globals_ is None:
        try:
            _run_setup(pipeline, base)
            if late:
                _check_registered(pipeline)
        except Exception as exc:
            setup_error = _setup_error(exc)
    if setup_error is not None:
        for name in selected:
            run.node_runs[name].status = NodeStatus.SKIPPED
            run.node_runs[name].error = "skipped: the setup cells failed"
            manager.node_end(run, pipeline.nodes[name], run.node_runs[name])
    else:
        transform = TransformationEngine(
            pipeline, selected, streaming=streaming, materialize=materialize
        )
        runner = NodeRunner(
            run, manager, base, rng=rng, transform=transform, catalog=_source_catalog()
        )
        deps = {name: pipeline.dependencies(name) for name in selected}
        run_executor(deps, runner, max_workers=max_workers)
    report_errors: dict[int, str] = {}
    if setup_error is None and (run_reports if run_reports is not None else globals_ is None):
        report_errors = _run_reports(pipeline, base, run)
    failed = setup_error is not None or any(not r.status.ok for r in run.node_runs.values())
    result = RunResult(
        run_id=run.run_id,
        pipeline=pipeline.name,
        status="failed" if failed else "succeeded",
        outputs={n: run.values[n] for n in selected if n in run.values},
        node_runs=run.node_runs,
        params=run.params,
        executor=executor,
        started_at=run.started_at,
        ended_at=datetime.now(timezone.utc),
        duration_s=time.perf_counter() - started,
        setup_error=setup_error,
        report_errors=report_errors,
        hook_errors=run.hook_errors,
        metrics=run.metrics,
    )
    manager.call("on_run_end", run, result=result)
    return result


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


def _namespace(
    pipeline: Pipeline, overrides: dict[str, Any], globals_: Mapping[str, Any] | None, run: Run
) -> dict[str, Any]:
    """The globals every node starts from: parameters, then setup cells (headless only)."""
    __tracebackhide__ = True
    if globals_ is not None:
        namespace = dict(globals_)
        values = {name: namespace.get(name, default) for name, default in pipeline.params.items()}
        values.update(overrides)
        namespace.update(values)
    else:
        namespace = {"__name__": "__main__", "__builtins__": builtins}
        if pipeline.param_code:
            _exec_cell(Cell(pipeline.param_code, index=-1), namespace, "parameters cell")
        values = {name: namespace.get(name, default) for name, default in pipeline.params.items()}
        values.update(overrides)
        namespace.update(values)
    namespace["params"] = Params(values)
    run.params = values
    return namespace


def _run_setup(pipeline: Pipeline, namespace: dict[str, Any]) -> None:
    """The setup cells, in notebook order (headless runs only: a kernel already ran them)."""
    __tracebackhide__ = True
    for cell in pipeline.setup:
        _exec_cell(cell, namespace, f"setup cell {cell.number}")


def _source_catalog() -> SourceCatalog | None:
    """The store's managed data sources (opened only if a node names one)."""
    from pipeline_lab.config import settings

    if not settings().store_enabled:
        return None
    from pipeline_lab.store import StoreSourceCatalog

    return StoreSourceCatalog()


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


def _setup_error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}\n" + user_traceback(exc, getattr(exc, "_cell", ""))


def _exec_cell(cell: Cell, namespace: dict[str, Any], label: str) -> None:
    __tracebackhide__ = True
    filename = cell.filename
    linecache.cache[filename] = (len(cell.code), None, cell.code.splitlines(True), filename)
    try:
        exec(compile(cell.code, filename, "exec"), namespace)
    except Exception as exc:
        exc._cell = filename  # type: ignore[attr-defined]
        if hasattr(exc, "add_note"):  # Python 3.11+
            exc.add_note(f"(in the {label})")
        raise


def _run_reports(pipeline: Pipeline, base: dict[str, Any], run: Run) -> dict[int, str]:
    """Report cells, in notebook order, once the nodes they read are done; failures are reported."""
    errors: dict[int, str] = {}
    namespace = dict(base)
    namespace.update(run.values)
    for cell in pipeline.reports:
        try:
            missing = [n for n in pipeline.report_dependencies(cell) if n not in run.values]
            if missing:
                names = ", ".join(missing)
                errors[cell.number] = f"skipped: node(s) {names} did not produce a value"
                continue
            _exec_cell(cell, namespace, f"report cell {cell.number}")
        except Exception as exc:  # a bad report cell is reported, never fails the run
            errors[cell.number] = user_traceback(exc, cell.filename).rstrip()
    return errors

"""Graphs wired to what they show: the kernel's session, or a pipeline and its last result."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline_lab.widgets._builder import Builder
from pipeline_lab.widgets._graph import Direction, PipelineGraph
from pipeline_lab.widgets._inspector import kernel_values

if TYPE_CHECKING:
    from pipeline_lab.engine import InteractiveSession, RunResult
    from pipeline_lab.graph import Pipeline


def _history(pipeline: Any) -> Any:
    """``node -> its recent runs`` from the store (``None`` when the store is off)."""
    from pipeline_lab.config import settings

    if not settings().store_enabled:
        return None

    def history(name: str) -> list[tuple[str, str, Any]]:
        from pipeline_lab.store import RunRepository

        return RunRepository().node_history(pipeline().name, name)

    return history


def session_graph(
    session: InteractiveSession, direction: Direction = "TB", *, builder: bool = True
) -> PipelineGraph:
    """The kernel's pipeline, following every cell and run of ``session``; with the
    builder's toolbar (add, edit, connect, rename, delete, undo, run) unless ``builder``
    is false."""

    def traceback(name: str) -> str | None:
        run = session.last_runs.get(name)
        return run.traceback if run is not None else None

    graph = PipelineGraph(
        session.pipeline,
        runs=session.last_runs,
        stale=session.stale,
        values=kernel_values(session.namespace, lambda: session.pipeline.nodes),
        direction=direction,
        observe=session.observe,
        validate=lambda p: p.validate(known=session.namespace.keys()),
        history=_history(lambda: session.pipeline),
        code=session.code,
        traceback=traceback,
    )
    if builder:
        tools = Builder(session, graph)
        graph.builder = tools
        header, body = graph.children
        graph.children = [header, tools.toolbar, tools.message, body, tools.panel]
    return graph


def pipeline_graph(
    pipeline: Pipeline, result: RunResult | None = None, direction: Direction = "TB"
) -> PipelineGraph:
    """``pipeline`` with the statuses and outputs of ``result`` (its last run, if given)."""
    runs = result.node_runs if result is not None else {}
    outputs = result.outputs if result is not None else {}

    def traceback(name: str) -> str | None:
        run = runs.get(name)
        return run.traceback if run is not None else None

    return PipelineGraph(
        pipeline,
        runs=runs,
        values=outputs.get,
        direction=direction,
        history=_history(lambda: pipeline),
        traceback=traceback,
    )

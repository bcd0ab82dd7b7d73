"""Graphs wired to what they show: the kernel's session, or a pipeline and its last result."""

from __future__ import annotations

import weakref
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


MAX_OPEN = 8
"""Graphs of one session kept live at once: an older one stops following (its output was
most likely replaced or cleared; ipywidgets never says when a view is gone)."""
_open: dict[int, list[tuple[str | None, PipelineGraph]]] = {}
"""The live graphs of each session (by its id; forgotten with the session)."""


def _keep(session: InteractiveSession, graph: PipelineGraph, origin: str | None) -> None:
    """Follow ``graph``; stop the one shown before by the same cell, and the oldest past
    :data:`MAX_OPEN`."""
    if id(session) not in _open:
        weakref.finalize(session, _open.pop, id(session), None)
    shown = _open.setdefault(id(session), [])
    for old_origin, old in list(shown):
        if origin is not None and old_origin == origin:
            old.close()
            shown.remove((old_origin, old))
    shown.append((origin, graph))
    while len(shown) > MAX_OPEN:
        shown.pop(0)[1].close()


def session_graph(
    session: InteractiveSession,
    direction: Direction = "TB",
    *,
    builder: bool = True,
    origin: str | None = None,
) -> PipelineGraph:
    """The kernel's pipeline, following every cell and run of ``session``; with the
    builder's toolbar (add, edit, connect, rename, delete, undo, run) unless ``builder``
    is false. ``origin`` names what shows it (a notebook cell's id): showing again from
    the same origin stops the graph it showed before."""

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
        truth=lambda: (session.last_runs, session.stale),
    )
    if builder:
        tools = Builder(session, graph)
        graph.builder = tools
        header, body = graph.children
        graph.children = [header, tools.toolbar, tools.message, body, tools.panel]
    _keep(session, graph, origin)
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

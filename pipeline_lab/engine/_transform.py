"""The transformation engine: chains of component nodes run as one optimized polars plan.

A component node's output stays a LazyFrame while every node that reads it is a component
too, so a chain (filter -> join -> aggregate) is one plan that polars optimizes as a whole.
It is collected only where a value is needed: a code or function node reads it, it has
checks, it ends the run, or the caller asks for every value (the kernel binds each one).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pipeline_lab.errors import PipelineDefinitionError, PipelineLabError
from pipeline_lab.frames import to_lazy

if TYPE_CHECKING:
    import polars as pl

    from pipeline_lab.graph import Node, Pipeline


def _total_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


class TransformationEngine:
    """Plans a run's component nodes: which outputs to collect, and how (memory or streaming).

    A component output is collected when a value is needed: a code or function node reads it,
    it has checks, it must be (a sink, a strict conversion whose gate reads the whole
    output), it ends the run, or the caller asks for every value (the kernel binds each one).
    It is collected too where two or more components read it (a fan-out): each reader then
    builds its own plan on the collected frame, so no plan object is ever shared by two
    threads, and the common part is computed once instead of once per reader.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        selected: Iterable[str],
        *,
        streaming: bool | None = None,
        materialize: bool = False,
        memory_fraction: float | None = None,
    ) -> None:
        from pipeline_lab.config import settings

        self.pipeline = pipeline
        self.streaming = streaming
        # Inputs estimated above this share of the machine's memory use polars' streaming engine.
        self.memory_fraction = memory_fraction or settings().streaming_fraction
        selected = list(selected)
        chosen = set(selected)
        self.collected: set[str] = set()
        for name in selected:
            node = pipeline.nodes[name]
            if node.component is None:
                continue
            readers = [r for r in pipeline.dependents(name) if r in chosen]
            if (
                materialize
                or node.checks
                or node.instance.must_collect
                or len(readers) != 1
                or pipeline.nodes[readers[0]].component is None
            ):
                self.collected.add(name)

    def use_streaming(self, inputs: Mapping[str, Any]) -> bool:
        """Streaming when asked, or when the in-memory inputs are large for this machine."""
        if self.streaming is not None:
            return self.streaming
        total = _total_memory()
        if not total:
            return False
        size = 0
        for value in inputs.values():
            estimate = getattr(value, "estimated_size", None)
            if callable(estimate):
                size += int(estimate())
        return size > self.memory_fraction * total


def run_component(
    node: Node, inputs: Mapping[str, Any], *, collect: bool, streaming: bool | None
) -> Any:
    """Component node ``node``'s output: its plan, or collected (``finish``-ed) when ``collect``."""
    component = node.instance
    plan = component.build(inputs)
    if not collect:
        return plan
    try:
        frame = plan.collect(engine="streaming") if streaming else plan.collect()
    except PipelineLabError as exc:
        if exc.node is None or exc.node == node.name:
            raise
        # An upstream component's check failed inside the fused plan this node collects.
        raise type(exc)(
            f"{exc.message} (raised by upstream component node '{exc.node}', which runs "
            f"fused into the plan of '{node.name}')",
            node=node.name,
            hint=exc.hint,
        ) from exc
    except Exception as exc:  # polars refused the plan: name the component, keep its words
        raise component.failure(exc) from exc
    return component.finish(frame)


def build_plan(pipeline: Pipeline, name: str, values: Mapping[str, Any]) -> pl.LazyFrame:
    """The plan of component node ``name`` with its upstream component chain, over ``values``."""
    node = pipeline.nodes[name]
    if node.component is None:
        raise PipelineDefinitionError(
            f"node '{name}' is code, not a component: it has no query plan to explain",
            node=name,
            hint="explain a component node (see %pipeline components)",
        )
    inputs: dict[str, Any] = {}
    for dep in pipeline.dependencies(name):
        # Upstream components are rebuilt, not read back: the plan shows the whole fused chain
        # as a headless run executes it, even where the kernel holds a collected value. A run
        # collects a component that must be (a sink, a strict conversion) or has checks: the
        # plan starts from its value then, as the run's does.
        upstream = pipeline.nodes[dep]
        collected = upstream.component is not None and (
            upstream.checks or upstream.instance.must_collect
        )
        if upstream.component is not None and not (collected and dep in values):
            inputs[dep] = build_plan(pipeline, dep, values)
        elif dep in values:
            inputs[dep] = to_lazy(values[dep])
        else:
            raise PipelineDefinitionError(
                f"node '{name}' reads '{dep}', which has no value yet",
                node=name,
                hint=f"run '{dep}' first",
            )
    return node.instance.build(inputs)


def explain(
    pipeline: Pipeline,
    name: str,
    values: Mapping[str, Any],
    *,
    optimized: bool = True,
    params: Mapping[str, Any] | None = None,
) -> str:
    """The polars plan of component node ``name``, optimized (default) or as written.

    ``params`` are the pipeline parameters ``:name`` stands for (default: their defaults).
    """
    from pipeline_lab.context import RunContext, running

    with running(RunContext(params=dict(pipeline.params if params is None else params))):
        return build_plan(pipeline, name, values).explain(optimized=optimized)

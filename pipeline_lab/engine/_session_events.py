"""What a kernel session tells its observers (a graph widget, any front end), besides the
run events it forwards: nodes defined and removed, the pipeline replaced or edited, a run's
outputs bound."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline_lab.engine.result import RunResult
from pipeline_lab.events import RunEvent
from pipeline_lab.graph import Node, Pipeline


@dataclass(frozen=True)
class NodeDefined:
    """A ``%%pipeline`` cell (or a builder action) defined or replaced ``node``."""

    pipeline: Pipeline
    node: Node
    replaced: Node | None


@dataclass(frozen=True)
class NodeRemoved:
    pipeline: Pipeline
    name: str


@dataclass(frozen=True)
class OutputsBound:
    """A run's outputs are bound in the namespace; ``last_runs`` and ``stale`` are current."""

    pipeline: Pipeline
    result: RunResult


@dataclass(frozen=True)
class PipelineEdited:
    """The pipeline was replaced by an edited copy (the builder's undo and redo)."""

    pipeline: Pipeline


@dataclass(frozen=True)
class PipelineReset:
    """The session's pipeline was replaced (``%pipeline new``)."""

    pipeline: Pipeline


SessionEvent = NodeDefined | NodeRemoved | PipelineEdited | PipelineReset | OutputsBound | RunEvent

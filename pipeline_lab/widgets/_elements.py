"""What the pipeline graph shows, as plain data: one :class:`GraphState` per open graph.

No widget library here: the cytoscape elements (their ``data`` is pinned, other code reads
it), the static SVG and the live updates are all computed from this state, so they agree,
and the state is tested without a browser.

Node ``data``: ``id`` (the node name), ``label``, ``kind`` (``source``, ``transform``,
``sink``, ``check`` or ``code``), ``status`` (a :class:`~pipeline_lab.events.NodeStatus`
value), ``rows``, ``duration_s``; also ``fused_into`` (the node whose plan this component
runs in, or ``None``), ``problem`` (the first validation error, or ``None``) and ``parent``
(the group of a fused chain). Edge ``data``: ``id``, ``source``, ``target``, ``rows`` (what
the source node produced).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pipeline_lab.engine import format_duration, plural
from pipeline_lab.events import (
    NodeFinished,
    NodeRetrying,
    NodeStarted,
    NodeStatus,
    RunEvent,
    RunStarted,
)
from pipeline_lab.graph import Issue, Pipeline

KINDS = ("source", "transform", "sink", "check", "code")
GROUP_PREFIX = "plan:"
"""Id prefix of the compound node that groups a fused chain (``plan:NODE``)."""


@dataclass(frozen=True)
class NodeState:
    """How one node was last seen: its status and what its last run produced."""

    status: NodeStatus = NodeStatus.PENDING
    rows: int | None = None
    duration_s: float | None = None
    error: str | None = None
    attempts: int = 0


UNSEEN = NodeState()
"""A node that has not run (in this kernel, or since it was defined)."""


@dataclass
class GraphState:
    """A pipeline with its nodes' statuses, validation problems and fused chains."""

    pipeline: Pipeline
    nodes: dict[str, NodeState] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    """The first validation error of each node that has one."""
    stale: frozenset[str] = frozenset()
    fused: dict[str, str] = field(default_factory=dict)
    """Component node -> the node whose plan it runs in (a headless run fuses the chain)."""
    kinds: dict[str, str] = field(default_factory=dict)
    """Node -> its kind (``source``, ``transform``, ``sink``, ``check`` or ``code``)."""
    _plan_ends: set[str] = field(default_factory=set, repr=False)
    drawn: tuple[Any, dict[str, tuple[int, int]]] | None = field(default=None, repr=False)
    """The static drawing's layout, with the shape of the graph it was worked out for."""

    @classmethod
    def of(
        cls,
        pipeline: Pipeline,
        runs: Mapping[str, Any] | None = None,
        *,
        stale: Iterable[str] = (),
        issues: Iterable[Issue] | None = None,
    ) -> GraphState:
        """The state of ``pipeline`` with its last node ``runs`` (``NodeRun``s or outcomes)."""
        state = cls(pipeline, stale=frozenset(stale))
        state.refresh(issues)
        state.take_runs(runs or {})
        return state

    def take_runs(self, runs: Mapping[str, Any]) -> None:
        """The last run of each node (``NodeRun``s, outcomes or stored node runs)."""
        for name, run in runs.items():
            if name in self.pipeline.nodes:
                self.nodes[name] = _seen(run)

    # -- structure -------------------------------------------------------------------------
    def refresh(self, issues: Iterable[Issue] | None = None) -> None:
        """Take in the pipeline's current nodes, edges, problems and fused chains."""
        if issues is None:
            issues = self.pipeline.validate()
        self.problems = {}
        for issue in issues:
            if issue.severity == "error" and issue.node and issue.node not in self.problems:
                self.problems[issue.node] = _problem_text(issue)
        self.nodes = {name: self.nodes.get(name, UNSEEN) for name in self.pipeline.nodes}
        self.fused = fused_chains(self.pipeline)
        self._plan_ends = set(self.fused.values())
        self.kinds = {name: node_kind(self.pipeline, name) for name in self.pipeline.nodes}

    def order(self) -> list[str]:
        try:
            return self.pipeline.order()
        except Exception:  # a cycle: the graph still shows every node, in definition order
            return list(self.pipeline.nodes)

    def edges(self) -> list[tuple[str, str]]:
        edges = []
        for name in self.order():
            try:
                upstream = self.pipeline.dependencies(name)
            except Exception:
                continue
            edges += [(dep, name) for dep in upstream if dep in self.pipeline.nodes]
        return edges

    def kind(self, name: str) -> str:
        return self.kinds.get(name) or node_kind(self.pipeline, name)

    # -- what is shown ---------------------------------------------------------------------
    def status(self, name: str) -> NodeStatus:
        state = self.nodes.get(name, UNSEEN)
        if name in self.stale and state.status.ok:
            return NodeStatus.STALE
        return state.status

    def counts(self) -> str:
        """``2 failed, 5 succeeded``: how many nodes are in each status, by status name."""
        counts: dict[str, int] = {}
        for name in self.pipeline.nodes:
            status = self.status(name).value
            counts[status] = counts.get(status, 0) + 1
        return ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))

    def label(self, name: str) -> str:
        state = self.nodes.get(name, UNSEEN)
        status = self.status(name)
        lines = [name]
        if name in self.fused and status.ok and state.rows is None:
            lines.append(f"fused into {self.fused[name]}")
        elif status.ok or status is NodeStatus.STALE:
            shown = [plural(state.rows, "row")] if state.rows is not None else []
            if state.duration_s is not None:
                shown.append(format_duration(state.duration_s))
            lines.append(" · ".join(shown) or status.value)
        elif status is not NodeStatus.PENDING:
            lines.append(status.value + (f" ({state.attempts})" if state.attempts > 1 else ""))
        return "\n".join(lines)

    def node_data(self, name: str) -> dict[str, Any]:
        state = self.nodes.get(name, UNSEEN)
        data: dict[str, Any] = {
            "id": name,
            "label": self.label(name),
            "kind": self.kind(name),
            "status": self.status(name).value,
            "rows": state.rows,
            "duration_s": state.duration_s,
            "fused_into": self.fused.get(name),
            "problem": self.problems.get(name),
        }
        group = self.group_of(name)
        if group is not None:
            data["parent"] = GROUP_PREFIX + group
        return data

    def classes(self, name: str) -> str:
        names = [self.kind(name), self.status(name).value]
        if name in self.problems:
            names.append("invalid")
        if name in self.fused:
            names.append("fused")
        return " ".join(names)

    def edge_data(self, source: str, target: str) -> dict[str, Any]:
        rows = self.nodes.get(source, UNSEEN).rows
        return {"id": f"{source}->{target}", "source": source, "target": target, "rows": rows}

    def group_of(self, name: str) -> str | None:
        """The node whose fused plan ``name`` belongs to (itself for the plan's last node)."""
        if name in self.fused:
            return self.fused[name]
        return name if name in self._plan_ends else None

    def elements(self) -> dict[str, list[dict[str, Any]]]:
        """Cytoscape JSON: ``{"nodes": [...], "edges": [...]}``, groups first."""
        nodes = [
            {
                "data": {"id": GROUP_PREFIX + last, "label": f"one plan, collected at {last}"},
                "classes": "group",
            }
            for last in sorted(self._plan_ends)
        ]
        nodes += [{"data": self.node_data(n), "classes": self.classes(n)} for n in self.order()]
        edges = [{"data": self.edge_data(s, t), "classes": ""} for s, t in self.edges()]
        return {"nodes": nodes, "edges": edges}

    # -- live updates ----------------------------------------------------------------------
    def apply(self, event: RunEvent) -> set[str]:
        """Take in a run event; the nodes whose data changed."""
        if isinstance(event, RunStarted):
            queued = [n for n in event.run.nodes if n in self.nodes]
            for name in queued:
                self.nodes[name] = NodeState(NodeStatus.PENDING)
            self.stale = self.stale - set(queued)
            return set(queued)
        if isinstance(event, NodeStarted) and event.node in self.nodes:
            before = self.nodes[event.node]
            status = NodeStatus.RUNNING if event.attempt == 1 else NodeStatus.RETRYING
            self.nodes[event.node] = replace(before, status=status, attempts=event.attempt)
            return {event.node}
        if isinstance(event, NodeRetrying) and event.node in self.nodes:
            before = self.nodes[event.node]
            self.nodes[event.node] = replace(
                before, status=NodeStatus.RETRYING, error=event.error, attempts=event.attempt
            )
            return {event.node}
        if isinstance(event, NodeFinished) and event.outcome.name in self.nodes:
            name = event.outcome.name
            self.nodes[name] = _seen(event.outcome)
            return {name} | set(self.pipeline.dependents(name))  # edges carry its rows
        return set()


def _seen(run: Any) -> NodeState:
    return NodeState(
        status=NodeStatus(run.status),
        rows=run.rows,
        duration_s=run.duration_s,
        error=run.error,
        attempts=run.attempts,
    )


def _problem_text(issue: Issue) -> str:
    return issue.message + (f" (hint: {issue.hint})" if issue.hint else "")


def node_kind(pipeline: Pipeline, name: str) -> str:
    """``source``, ``transform``, ``sink`` or ``check`` for a component, else ``code``."""
    node = pipeline.nodes[name]
    if node.component is None:
        return "code"
    from pipeline_lab.components import COMPONENTS

    try:
        category = COMPONENTS.get(node.component).category
    except Exception:  # an unknown component: validation says so, the graph still draws it
        return "transform"
    return category if category in KINDS else "transform"


def fused_chains(pipeline: Pipeline) -> dict[str, str]:
    """Component node -> the node that collects the plan it is part of, in a headless run."""
    from pipeline_lab.engine import TransformationEngine

    try:
        engine = TransformationEngine(pipeline, pipeline.order())
    except Exception:  # an invalid pipeline has no plan yet
        return {}
    fused: dict[str, str] = {}
    for name in pipeline.nodes:
        if pipeline.nodes[name].component is None or name in engine.collected:
            continue
        last, seen = name, {name}
        while last not in engine.collected:
            readers = pipeline.dependents(last)
            if len(readers) != 1 or readers[0] in seen:
                break
            last = readers[0]
            seen.add(last)
        if last != name:
            fused[name] = last
    return fused

"""The pipeline: nodes, parameters, setup and report cells, and the graph they form."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from pipeline_lab.errors import PipelineDefinitionError
from pipeline_lab.graph._analysis import CellAnalysis, analyze_cell
from pipeline_lab.graph._issue import InvalidPipeline, Issue
from pipeline_lab.graph._node import Node
from pipeline_lab.graph._validate import validate
from pipeline_lab.registry import generation as registry_generation
from pipeline_lab.suggest import did_you_mean

if TYPE_CHECKING:
    from pipeline_lab.engine import RunResult


@dataclass(frozen=True)
class Cell:
    """An ordinary notebook cell: setup (reads no node output) or report (reads some)."""

    code: str
    index: int = 0
    """Position in the notebook, from 0 (``number`` is what Jupyter shows, from 1)."""
    cell_id: str | None = None
    """The notebook cell's id (nbformat 4.5+), if it has one."""

    @property
    def number(self) -> int:
        return self.index + 1

    @property
    def filename(self) -> str:
        return f"<notebook cell {self.number}>"

    @cached_property
    def analysis(self) -> CellAnalysis:
        return analyze_cell(self.code, where="this cell")


class Pipeline:
    """A DAG of nodes whose edges come from the names each node reads.

    Examples
    --------
    >>> p = Pipeline("demo", params={"n": 3})
    >>> p.add(Node("numbers", code="list(range(n))"))
    >>> p.add(Node("total", code="sum(numbers)"))
    >>> p.run().outputs["total"]
    3
    """

    def __init__(
        self,
        name: str,
        params: Mapping[str, Any] | None = None,
        *,
        param_code: str | None = None,
        setup: Iterable[Cell] = (),
        reports: Iterable[Cell] = (),
    ) -> None:
        self.name = name
        self.params: dict[str, Any] = dict(params or {})
        self.param_code = param_code
        self.setup: list[Cell] = list(setup)
        self.reports: list[Cell] = list(reports)
        self._nodes: dict[str, Node] = {}
        self._view = MappingProxyType(self._nodes)
        self._valid: tuple[object, ...] | None = None
        self.duplicates: list[str] = []
        self.notices: list[str] = []
        self.cell_issues: list[Issue] = []
        """Cells of its notebook that could not be read (``read_notebook(path, strict=False)``);
        :meth:`validate` reports them with every other problem."""
        self.node_cells: dict[str, int] = {}
        """The notebook cell of each node read from a notebook, numbered from 1."""
        self._deps: dict[str, tuple[str, ...]] | None = None
        self._dependents: dict[str, tuple[str, ...]] | None = None
        self._order: tuple[str, ...] | None = None

    @property
    def nodes(self) -> Mapping[str, Node]:
        """The nodes by name, in the order they were added; read-only: use :meth:`add`,
        :meth:`remove` and :meth:`connect` to change them."""
        return self._view

    def _forget_edges(self) -> None:
        self._deps = self._dependents = None
        self._order = None

    def __repr__(self) -> str:
        return f"Pipeline({self.name!r}, nodes={list(self.nodes)})"

    # -- building -------------------------------------------------------------------------
    def add(self, node: Node) -> Node:
        """Add ``node``, replacing a node of the same name (re-running a cell is idempotent)."""
        self._nodes[node.name] = node
        self._forget_edges()
        return node

    def node(self, func: Any = None, **options: Any) -> Any:
        """Decorator: add a function as a node whose inputs are its parameter names."""

        def register(f: Any) -> Any:
            self.add(Node.from_function(f, **options))
            return f

        return register(func) if func is not None else register

    def remove(self, name: str) -> Node:
        node = self._nodes.pop(self._require(name))
        self._forget_edges()
        return node

    def copy(self) -> Pipeline:
        """A shallow copy: same (immutable) nodes and cells, independent node list."""
        other = Pipeline(
            self.name,
            self.params,
            param_code=self.param_code,
            setup=self.setup,
            reports=self.reports,
        )
        other._nodes.update(self._nodes)
        other.duplicates = list(self.duplicates)
        other.cell_issues = list(self.cell_issues)
        other.node_cells = dict(self.node_cells)
        # What was worked out about these nodes holds for the copy (a run copies every time).
        other._deps, other._dependents = self._deps, self._dependents
        other._order, other._valid = self._order, self._valid
        return other

    def connect(self, upstream: str, downstream: str) -> Node:
        """Make ``downstream`` read ``upstream`` (sets its explicit inputs)."""
        self._require(upstream)
        node = self.nodes[self._require(downstream)]
        inputs = tuple(dict.fromkeys([*self.dependencies(downstream), upstream]))
        return self.add(replace(node, inputs=inputs))

    def get(self, name: str) -> Node:
        """Node ``name``; an unknown name is an error that suggests the closest ones."""
        return self._nodes[self._require(name)]

    def explain(
        self,
        name: str,
        values: Mapping[str, Any] | None = None,
        *,
        optimized: bool = True,
        params: Mapping[str, Any] | None = None,
    ) -> str:
        """The polars query plan of component node ``name`` (its fused chain, optimized).

        ``values`` are the outputs of the non-component nodes it reads (e.g. a run's outputs).
        """
        from pipeline_lab.engine import explain_plan

        self.get(name)
        return explain_plan(self, name, values or {}, optimized=optimized, params=params)

    def _require(self, name: str) -> str:
        if name not in self.nodes:
            raise PipelineDefinitionError(
                f"pipeline '{self.name}' has no node '{name}'",
                hint=did_you_mean(name, self.nodes) or f"nodes: {', '.join(self.nodes) or 'none'}",
            )
        return name

    # -- graph ----------------------------------------------------------------------------
    def dependencies(self, name: str) -> tuple[str, ...]:
        """The nodes ``name`` reads, in the pipeline's node order."""
        if self._deps is None:
            self._deps = self._dependency_map()
        return self._deps[name]

    def _dependency_map(self) -> dict[str, tuple[str, ...]]:
        position = {n: i for i, n in enumerate(self._nodes)}
        deps: dict[str, tuple[str, ...]] = {}
        outside = self.setup_names()  # the parameters and what setup cells bind
        for name, node in self._nodes.items():
            try:
                wanted = node.candidate_inputs()
            except PipelineDefinitionError:
                wanted = frozenset()
            if name in outside:
                wanted = wanted - {name}  # reported as a name clash, not as a cycle on itself
            deps[name] = tuple(
                sorted((n for n in wanted if n in position), key=position.__getitem__)
            )
        return deps

    def parameters_of(self, name: str) -> tuple[str, ...]:
        """The pipeline parameters node ``name`` reads (bare or as ``params.X``)."""
        node = self.nodes[name]
        analysis = node.analysis
        wanted = node.candidate_inputs() | analysis.param_attributes | node.sql_parameters()
        return tuple(p for p in self.params if p in wanted and p not in self.nodes)

    def dependents(self, name: str) -> tuple[str, ...]:
        """The nodes that read ``name``, in the pipeline's node order."""
        if self._dependents is None:
            children: dict[str, list[str]] = {n: [] for n in self._nodes}
            for n in self._nodes:
                for dep in self.dependencies(n):
                    children[dep].append(n)
            self._dependents = {n: tuple(c) for n, c in children.items()}
        return self._dependents[name]

    def upstream(self, *names: str) -> set[str]:
        """Every node one of ``names`` depends on, directly or not."""
        return _reach([self._require(n) for n in names], self.dependencies)

    def downstream(self, *names: str) -> set[str]:
        """Every node that depends on one of ``names``, directly or not (one walk of the
        graph for all of them)."""
        return _reach([self._require(n) for n in names], self.dependents)

    def order(self) -> list[str]:
        """Topological order; among ready nodes, the one added first goes first."""
        if self._order is None:
            self._order = tuple(self._topological_order())
        return list(self._order)

    def _topological_order(self) -> list[str]:
        position = {n: i for i, n in enumerate(self._nodes)}
        waiting = {n: len(self.dependencies(n)) for n in self._nodes}
        ready = [position[n] for n, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        names = list(self._nodes)
        done: list[str] = []
        while ready:
            name = names[heapq.heappop(ready)]
            done.append(name)
            for child in self.dependents(name):
                waiting[child] -= 1
                if waiting[child] == 0:
                    heapq.heappush(ready, position[child])
        if len(done) < len(names):
            cycles = [i for i in self.validate() if i.code == "cycle"]
            raise PipelineDefinitionError(
                "; ".join(i.message for i in cycles) or "the pipeline has a cycle",
                node=cycles[0].node if cycles else None,
                hint=cycles[0].hint if cycles else None,
            )
        return done

    # -- checks ---------------------------------------------------------------------------
    def validate(self, known: Iterable[str] | None = None) -> list[Issue]:
        """Every problem at once: cycles, missing inputs, bad names, syntax, unknown params."""
        return validate(self, known)

    def check(self, known: Iterable[str] | None = None) -> None:
        """Raise one ``PipelineDefinitionError`` listing every error :meth:`validate` finds.

        A pipeline found valid is not checked again until it (or a registry, e.g. of
        components) changes: running it many times costs one validation.
        """
        state = self._state(known)
        if state == self._valid:
            return
        errors = [i for i in self.validate(known) if i.severity == "error"]
        if errors:
            lines = "\n".join(f"  - {issue}" for issue in errors)
            raise InvalidPipeline(
                f"pipeline '{self.name}' has {len(errors)} problem(s):\n{lines}", errors
            )
        self._valid = state

    def snapshot(self, known: Iterable[str] | None = None) -> Pipeline:
        """A checked copy to run: later edits of this pipeline (a kernel cell, another thread)
        change neither it nor what is recorded about it. Cheap when nothing changed."""
        valid = self._valid
        copy = self.copy()  # one C-level copy of each container: safe against concurrent edits
        copy.check(known)
        if self._valid is valid:
            self._valid = copy._valid  # what was checked on the copy holds for this one
        return copy

    def _state(self, known: Iterable[str] | None) -> tuple[object, ...]:
        """What validity depends on: nodes, parameter names, cells, registries, known names."""
        return (
            tuple(self._nodes.values()),
            tuple(self.params),
            self.param_code,
            tuple(self.setup),
            tuple(self.reports),
            tuple(self.duplicates),
            tuple(self.cell_issues),
            registry_generation(),
            None if known is None else frozenset(known),
        )

    def setup_transforms(self) -> set[str]:
        """Components the setup cells register (``@pipeline_lab.transform`` functions)."""
        names: set[str] = set()
        for cell in self.setup:
            try:
                names |= cell.analysis.transforms
            except PipelineDefinitionError:
                continue
        return names

    def setup_names(self) -> set[str]:
        """Names bound by the parameters cell and the setup cells."""
        names: set[str] = set(self.params)
        for cell in self.setup:
            try:
                names |= cell.analysis.assigns
            except PipelineDefinitionError:
                continue
        return names

    def has_star_import(self) -> bool:
        star = False
        for cell in self.setup:
            try:
                star |= cell.analysis.star_import
            except PipelineDefinitionError:
                continue  # reported by validate() as a syntax issue
        return star

    def report_dependencies(self, cell: Cell) -> tuple[str, ...]:
        return tuple(n for n in self.nodes if n in cell.analysis.reads)

    # -- serialization --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "params": dict(self.params),
            "param_code": self.param_code,
            "setup": [_cell_dict(c) for c in self.setup],
            "reports": [_cell_dict(c) for c in self.reports],
            "nodes": [node.to_dict() for node in self.nodes.values()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Pipeline:
        pipeline = cls(
            data["name"],
            params=data.get("params"),
            param_code=data.get("param_code"),
            setup=[Cell(**c) for c in data.get("setup", [])],
            reports=[Cell(**c) for c in data.get("reports", [])],
        )
        for raw in data.get("nodes", []):
            node = Node.from_dict(raw)
            if node.name in pipeline.nodes:
                pipeline.duplicates.append(node.name)
            pipeline.add(node)
        return pipeline

    @classmethod
    def from_notebook(cls, path: str | Path) -> Pipeline:
        from pipeline_lab.graph._notebook import read_notebook

        return read_notebook(path)

    def to_notebook(self, path: str | Path) -> Path:
        """Write the pipeline to the notebook at ``path``: a new one, or update it in place.

        An existing notebook is patched, never rewritten: the cell of each node is found by
        its ``cell_id`` (else by the node name in its ``%%pipeline`` line) and replaced only
        if the node changed; a new node's cell goes right after the cell of its last
        upstream node (else at the end); the cells of nodes that are gone are removed.
        Markdown, outputs, the parameters, setup and report cells, and the order of
        everything else stay as they are. See :func:`~pipeline_lab.graph.patch_notebook`.
        """
        from pipeline_lab.graph._notebook import write_notebook
        from pipeline_lab.graph._sync import update_notebook

        if Path(path).exists():
            return update_notebook(self, path)
        return write_notebook(self, path)

    # -- running --------------------------------------------------------------------------
    def run(
        self,
        params: Mapping[str, Any] | None = None,
        executor: str = "threads",
        only: Iterable[str] | str | None = None,
        from_: str | None = None,
        hooks: Iterable[Any] | None = None,
        **options: Any,
    ) -> RunResult:
        """Run the pipeline and return its :class:`~pipeline_lab.engine.RunResult`.

        A failing node never raises here: it is reported on the result, and the nodes that
        depend on it are ``skipped``. ``hooks=None`` uses the default hooks (checks,
        metrics, store); pass ``hooks=[]`` for none.
        """
        from pipeline_lab.engine import run_pipeline

        return run_pipeline(
            self,
            params=params,
            executor=executor,
            only=only,
            from_=from_,
            hooks=hooks,
            **options,
        )

    def widget(self, result: Any = None, direction: str = "TB") -> Any:
        """The pipeline as an interactive graph (a ``PipelineGraph`` widget): statuses, rows
        and outputs from ``result`` (a ``RunResult``) if given; ``direction`` ``"TB"`` (top
        to bottom) or ``"LR"``. Display it as the last expression of a cell."""
        from pipeline_lab.graph._extensions import GRAPH_VIEWS

        return GRAPH_VIEWS.get("widget")(self, result, direction)


def _cell_dict(cell: Cell) -> dict[str, Any]:
    data: dict[str, Any] = {"code": cell.code, "index": cell.index}
    if cell.cell_id is not None:
        data["cell_id"] = cell.cell_id
    return data


def _reach(starts: Iterable[str], edges: Callable[[str], tuple[str, ...]]) -> set[str]:
    """Every node reachable from ``starts`` along ``edges`` (a start only if another reaches it)."""
    seen: set[str] = set()
    stack = [name for start in starts for name in edges(start)]
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(edges(name))
    return seen

"""A pipeline built cell by cell in a live namespace (a kernel's ``user_ns``).

The magics are a thin shell over this class: it needs no IPython, so the kernel behaviour
is testable and the same for any front end that owns a namespace. It is observable: a
graph widget (or any front end) subscribes with :meth:`InteractiveSession.observe` and gets
:class:`NodeDefined`, :class:`NodeRemoved` and :class:`PipelineReset`, and every run's events,
on the kernel's thread.
"""

from __future__ import annotations

import inspect
import logging
import os
import warnings
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Set
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline_lab.engine._run import default_hooks, run_pipeline
from pipeline_lab.engine._session_events import (
    NodeDefined,
    NodeRemoved,
    OutputsBound,
    PipelineEdited,
    PipelineReset,
    SessionEvent,
)
from pipeline_lab.engine.result import NodeRun, RunResult
from pipeline_lab.errors import (
    GATE_ERRORS,
    PipelineDefinitionError,
    PipelineLabWarning,
    RunInterrupted,
)
from pipeline_lab.graph import (
    Cell,
    Issue,
    Node,
    Pipeline,
    notebook_parameters,
    parse_header,
    pipeline_name_problem,
)

if TYPE_CHECKING:
    from pipeline_lab.connectors import DataSourceConfig
    from pipeline_lab.store import VersionSummary

log = logging.getLogger("pipeline_lab.session")


NOTEBOOK_ENV = "PIPELINE_LAB_NOTEBOOK"
"""Set by whoever starts a kernel on a notebook it knows (papermill runs of Pipeline Lab)."""
DEFAULT_NAME = "notebook"


def kernel_notebook(namespace: Mapping[str, Any] | None = None) -> Path | None:
    """The notebook this kernel runs, when something says: jupyter_server
    (``JPY_SESSION_NAME``, or ipykernel's ``__session__``), VS Code (``__vsc_ipynb_file__``)
    or ``PIPELINE_LAB_NOTEBOOK``; ``None`` under a plain papermill, nbclient or IPython."""
    namespace = namespace or {}
    for found in (
        os.environ.get("JPY_SESSION_NAME"),
        namespace.get("__session__"),
        namespace.get("__vsc_ipynb_file__"),
        os.environ.get(NOTEBOOK_ENV),
    ):
        if isinstance(found, str) and found.strip():
            path = Path(found)
            # The kernel runs in the notebook's folder; the path may be relative to the server.
            return path if path.is_absolute() else Path.cwd() / path.name
    return None


@dataclass
class InteractiveSession:
    """The kernel's pipeline: nodes defined by ``%%pipeline`` cells, values in ``namespace``."""

    namespace: MutableMapping[str, Any]
    pipeline: Pipeline = field(default_factory=lambda: Pipeline(DEFAULT_NAME))
    last_runs: dict[str, NodeRun] = field(default_factory=dict)
    stale: set[str] = field(default_factory=set)
    """Nodes whose last value predates a re-run of something upstream of them."""
    notices: list[str] = field(default_factory=list)
    """What the last :meth:`save` noticed (cells it could not read, ...)."""
    hooks: Iterable[Any] | None = None
    executor: str = "threads"
    _observers: list[Callable[[SessionEvent], None]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        notebook = kernel_notebook(self.namespace)
        if notebook is not None and self.pipeline.name == DEFAULT_NAME and not self.pipeline.nodes:
            self.pipeline.name = notebook.stem

    @property
    def unnamed(self) -> bool:
        """The pipeline is still called ``notebook``: this kernel did not say which notebook
        it runs (papermill, nbclient, plain IPython), and nobody named it."""
        return self.pipeline.name == DEFAULT_NAME

    def observe(self, callback: Callable[[SessionEvent], None]) -> Callable[[], None]:
        """Call ``callback`` with every session and run event; returns the unsubscribe."""
        self._observers.append(callback)

        def stop() -> None:
            if callback in self._observers:
                self._observers.remove(callback)

        return stop

    def _emit(self, event: SessionEvent) -> None:
        interrupted: BaseException | None = None
        for callback in list(self._observers):
            try:
                callback(event)
            except Exception:  # a broken view must not break the kernel's pipeline
                log.warning("a session observer failed on %s", type(event).__name__, exc_info=True)
            except KeyboardInterrupt as exc:  # every observer still hears of it, then it stops
                interrupted = interrupted or exc
        if interrupted is not None:
            raise interrupted

    def new(self, name: str) -> Pipeline:
        """Start a new, empty pipeline called ``name``."""
        problem = pipeline_name_problem(name)
        if problem is not None:
            raise PipelineDefinitionError(problem, hint="e.g. %pipeline new sales_daily")
        self.pipeline = Pipeline(name)
        self.last_runs.clear()
        self.stale.clear()
        self._emit(PipelineReset(self.pipeline))
        return self.pipeline

    def define(
        self, line: str, body: str, *, cell_id: str | None = None
    ) -> tuple[Node, RunResult | None]:
        """Register the node a ``%%pipeline`` cell defines and, unless ``--no-run``, run it.

        ``cell_id`` is the notebook cell's id (the builder finds and patches the cell by it);
        a node keeps the position the builder gave it when its cell is re-run.
        """
        header = parse_header(line, body)
        node = header.node
        previous = self.pipeline.nodes.get(node.name)
        node = replace(
            node,
            cell_id=cell_id or (previous.cell_id if previous else None),
            position=previous.position if previous else None,
        )
        # A --no-run cell may name nodes defined further down; running it would need them.
        self._install(node, tolerated={"missing-input"} if not header.run else set())
        if not header.run:
            return node, None
        return node, self.run(only=[node.name], reuse=True, cell=True)

    def _install(
        self, node: Node, *, tolerated: Set[str] = frozenset(), removed: str | None = None
    ) -> Pipeline:
        """Put ``node`` in the pipeline (``removed``: in place of that node), or refuse it
        with every error it causes; a refused node leaves the pipeline as it was."""
        previous = self.pipeline.nodes.get(node.name)
        candidate = self.pipeline.copy()
        if removed is not None:
            candidate.remove(removed)
        candidate.add(node)
        self._declare_params(candidate, node)
        self._sync_notebook_params(candidate)
        known = self.namespace.keys()
        before = {(i.code, i.node, i.message) for i in self.pipeline.validate(known=known)}
        # Refused: the node's own problems, and any it causes elsewhere (a parameter it
        # declares that clashes with a node): the pipeline must stay as it was.
        errors = [
            i
            for i in candidate.validate(known=known)
            if i.severity == "error"
            and i.code not in tolerated
            and (
                i.node == node.name
                or i.code == "cycle"
                or (i.code, i.node, i.message) not in before
            )
        ]
        if errors:
            lines = "\n".join(f"  - {self._kernel_hint(issue)}" for issue in errors)
            raise PipelineDefinitionError(f"cannot define node '{node.name}':\n{lines}", node=None)
        self.pipeline = candidate
        self._emit(NodeDefined(candidate, node, previous))
        return candidate

    # -- what the builder does (the graph widget's palette, forms and buttons) -------------
    def add(self, node: Node) -> Node:
        """Add (or replace) ``node`` as the builder makes it: checked as a cell is, not run;
        it keeps the position and cell of the node it replaces unless it has its own."""
        previous = self.pipeline.nodes.get(node.name)
        if previous is not None:
            node = replace(
                node,
                cell_id=node.cell_id or previous.cell_id,
                position=node.position or previous.position,
            )
        taken = self.variable_problem(node.name)
        if taken:
            raise PipelineDefinitionError(f"cannot add node '{node.name}': {taken}")
        self._install(node)
        return node

    def variable_problem(self, name: str) -> str | None:
        """Why a new node may not be called ``name``: a kernel variable (not a node's
        output, not a parameter) has that name, and the node's output would replace it."""
        if name in self.pipeline.nodes or name in self.pipeline.params:
            return None
        if name in self.namespace and not name.startswith("_"):
            kind = type(self.namespace[name]).__name__
            return (
                f"'{name}' is a variable of this kernel (a {kind}): a node of that name would "
                "replace it; pick another name"
            )
        return None

    def rename(self, old: str, new: str) -> Node:
        """Rename node ``old`` to ``new``; components that read it read ``new``. Refused while
        a code cell reads ``old`` (its code names it: edit the cell)."""
        node = self.pipeline.get(old)
        taken = self.variable_problem(new)
        if taken:
            raise PipelineDefinitionError(f"cannot rename '{old}' to '{new}': {taken}", node=old)
        if new in self.pipeline.nodes:
            raise PipelineDefinitionError(
                f"cannot rename '{old}' to '{new}': a node '{new}' exists",
                node=old,
                hint="pick another name, or delete the other node first",
            )
        readers = [self.pipeline.nodes[n] for n in self.pipeline.dependents(old)]
        coded = sorted(r.name for r in readers if r.component is None)
        if coded:
            raise PipelineDefinitionError(
                f"cannot rename '{old}': the code of {', '.join(coded)} reads it by name",
                node=old,
                hint=f"edit the cell of {coded[0]} to read '{new}' after renaming, or rename "
                "it in the cells yourself",
            )
        from pipeline_lab.components import with_renamed_input

        renamed = replace(node, name=new)
        candidate = self.pipeline.copy()
        candidate.remove(old)
        candidate.add(renamed)
        for reader in readers:
            candidate.add(with_renamed_input(reader, old, new))
        problems = [
            i for i in candidate.validate(known=self.namespace.keys()) if i.severity == "error"
        ]
        if problems and any(i.node in {new, *(r.name for r in readers)} for i in problems):
            lines = "\n".join(f"  - {issue}" for issue in problems)
            raise PipelineDefinitionError(f"cannot rename '{old}' to '{new}':\n{lines}")
        if old in self.namespace:
            self.namespace[new] = self.namespace.pop(old)
        if old in self.last_runs:
            self.last_runs[new] = self.last_runs.pop(old)
        self.pipeline = candidate
        self._emit(NodeRemoved(candidate, old))
        self._emit(NodeDefined(candidate, renamed, None))
        return renamed

    def connect(self, source: str, target: str, parameter: str | None = None) -> Node:
        """Make component node ``target`` read ``source`` through its input ``parameter``
        (by default its first input parameter that reads nothing yet, else its first)."""
        from pipeline_lab.components import with_input

        node = with_input(self.pipeline.get(target), self.pipeline.get(source).name, parameter)
        self._install(node)
        return node

    def move(self, name: str, position: tuple[float, float]) -> Node:
        """Keep ``position`` (where the user dragged node ``name`` on the canvas)."""
        node = replace(self.pipeline.get(name), position=position)
        self.pipeline.add(node)
        return node

    def restore(self, pipeline: Pipeline) -> None:
        """Make ``pipeline`` (an earlier copy: undo, redo) the session's pipeline."""
        self.pipeline = pipeline
        self._emit(PipelineEdited(pipeline))

    def run(
        self,
        only: Iterable[str] | None = None,
        from_: str | None = None,
        *,
        reuse: bool | None = None,
        cell: bool = False,
    ) -> RunResult:
        """Run nodes with the kernel's globals; bind each output in the namespace.

        With ``reuse`` (default: when ``only``/``from_`` narrow the run), upstream nodes that
        already have a value in the namespace are not re-run. ``cell``: the run of one
        ``%%pipeline`` cell, recorded with source ``cell`` (``pipeline-lab runs`` lists those
        only with ``--all``, so they do not bury the pipeline's runs).
        """
        if reuse is None:
            reuse = bool(only or from_)
        values = (
            {n: self.namespace[n] for n in self.pipeline.nodes if n in self.namespace}
            if reuse
            else {}
        )
        hooks = list(default_hooks() if self.hooks is None else self.hooks)
        if self._observers:
            hooks.append(self._emit)  # run events reach the session's observers too
        try:
            result = run_pipeline(
                self.pipeline,
                executor=self.executor,
                only=list(only) if only else None,
                from_=from_,
                hooks=hooks,
                values=values,
                globals_=self._globals(),
                source="cell" if cell else "kernel",
                materialize=True,  # every output becomes a kernel variable: a value, not a plan
            )
        except RunInterrupted as stopped:
            self._took(stopped.result)  # type: ignore[arg-type]
            raise
        self._took(result)
        return result

    def _took(self, result: RunResult) -> None:
        """Bind what a run produced and remember how each node went (even when it stopped)."""
        for name, value in result.outputs.items():
            self.namespace[name] = value
        for name, run in result.node_runs.items():
            if isinstance(run.exception, GATE_ERRORS) and run.output is not None:
                self.namespace[name] = run.output  # failed a check: there to inspect and fix
        self.last_runs.update(result.node_runs)
        ran = {n for n, r in result.node_runs.items() if r.status.ok}
        self.stale -= ran
        self.stale |= self.pipeline.downstream(*ran) - set(result.node_runs)
        self._emit(OutputsBound(self.pipeline, result))

    def _kernel_hint(self, issue: Issue) -> Issue:
        """A name the saved notebook defines as a node just has not run yet: say so."""
        missing = issue.subject if issue.code == "missing-input" else None
        notebook = kernel_notebook(self.namespace)
        if missing is None or notebook is None or not notebook.is_file():
            return issue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PipelineLabWarning)
                saved = Pipeline.from_notebook(notebook)
        except PipelineDefinitionError:
            return issue
        if missing not in saved.nodes:
            return issue
        return replace(
            issue,
            message=f"reads '{missing}', a node of this notebook that has not run in this kernel",
            hint=f"run the cell of node '{missing}' first, or run the whole pipeline: %pipeline run",
        )

    def snapshot(self, history: Iterable[str] = ()) -> Pipeline:
        """The whole pipeline to save: kernel nodes plus parameters, setup and report cells.

        Cells come from the saved notebook when the kernel knows it, else from the kernel's
        ``history`` of executed cells (ordinary cells only; magics are left out).
        """
        notebook = kernel_notebook(self.namespace)
        pipeline: Pipeline | None = None
        notice = None
        if notebook is not None and notebook.is_file():
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", PipelineLabWarning)
                    pipeline = Pipeline.from_notebook(notebook)
                pipeline.name = self.pipeline.name
            except PipelineDefinitionError as exc:
                # A broken cell elsewhere in the saved file must not block saving what runs.
                notice = f"{notebook.name} could not be read ({exc.message}); cells from this kernel's history were used instead"
        if pipeline is None:
            pipeline = Pipeline(
                self.pipeline.name, self.pipeline.params, param_code=self.pipeline.param_code
            )
            for index, source in enumerate(history):
                if not source.strip() or source.lstrip().startswith(("%", "!", "get_ipython(")):
                    continue
                cell = Cell(source, index=index)
                try:
                    reads_nodes = bool(cell.analysis.reads & set(self.pipeline.nodes))
                except PipelineDefinitionError:
                    continue
                (pipeline.reports if reads_nodes else pipeline.setup).append(cell)
        for node in self.pipeline.nodes.values():
            pipeline.add(node)
        for name, value in self.pipeline.params.items():
            pipeline.params.setdefault(name, value)
        if notice:
            pipeline.notices.append(notice)
        return pipeline

    def code(self, name: str) -> str:
        """The code of node ``name``: its cell, or the polars code its component stands for."""
        node = self.pipeline.get(name)
        if node.component is not None:
            from pipeline_lab.components import code_with_parameters

            params = {p: self.namespace.get(p, d) for p, d in self.pipeline.params.items()}
            return code_with_parameters(
                node.instance.to_code(), params, component=node.component, node=name
            )
        if node.func is not None:
            return inspect.getsource(node.func)
        return node.code or ""

    def explain(self, name: str, *, optimized: bool = True) -> str:
        """The query plan of component node ``name`` over the kernel's current values."""
        values = {n: self.namespace[n] for n in self.pipeline.nodes if n in self.namespace}
        params = {p: self.namespace.get(p, default) for p, default in self.pipeline.params.items()}
        return self.pipeline.explain(name, values, optimized=optimized, params=params)

    def remove(self, name: str) -> Node:
        node = self.pipeline.remove(name)
        self.last_runs.pop(name, None)
        self.stale.discard(name)
        self._emit(NodeRemoved(self.pipeline, name))
        return node

    def save(self, history: Iterable[str] = ()) -> VersionSummary:
        """Store the whole pipeline (see :meth:`snapshot`) as a new version."""
        from pipeline_lab.store import PipelineBuilder

        pipeline = self.snapshot(history)
        self.notices = list(pipeline.notices)
        return PipelineBuilder().save(pipeline)

    def export(self, path: str | Path, history: Iterable[str] = ()) -> Path:
        """Write the whole pipeline (see :meth:`snapshot`; nodes made in the builder too) as
        a notebook of ``%%pipeline`` cells that ``pipeline-lab run`` executes: a new file,
        or the cells of an existing one patched in place (see ``Pipeline.to_notebook``)."""
        path = Path(path)
        if path.suffix != ".ipynb":
            raise PipelineDefinitionError(
                f"'{path}' is not a notebook path", hint="give a path ending in .ipynb"
            )
        pipeline = self.snapshot(history)
        self.notices = list(pipeline.notices)
        try:
            return pipeline.to_notebook(path)
        except OSError as exc:
            raise PipelineDefinitionError(
                f"cannot write the notebook {path}: {exc.strerror or exc}",
                hint="export to a folder you can write to",
            ) from None

    def sources(self) -> list[DataSourceConfig]:
        """The managed data sources a node can read by name (none with the store off)."""
        from pipeline_lab.config import settings
        from pipeline_lab.connectors import ConnectionManager

        if not settings().store_enabled:
            return []
        from pipeline_lab.store import StoreSourceCatalog

        return ConnectionManager(StoreSourceCatalog()).list()

    def _declare_params(self, pipeline: Pipeline, node: Node) -> None:
        """``params.X`` in a cell (``:X`` in a component's SQL) declares parameter X from the
        kernel's variable X."""
        try:
            attributes = node.analysis.param_attributes | node.sql_parameters()
        except PipelineDefinitionError:
            return
        for name in attributes:
            # A node's output is a kernel variable too, but it is not a parameter.
            if (
                name in self.namespace
                and name not in pipeline.params
                and name not in pipeline.nodes
            ):
                pipeline.params[name] = self.namespace[name]

    def _sync_notebook_params(self, pipeline: Pipeline) -> None:
        """Declare the saved notebook's ``parameters`` cell names, so bare names count as parameters."""
        notebook = kernel_notebook(self.namespace)
        if notebook is None or not notebook.is_file():
            return
        try:
            params, code = notebook_parameters(notebook)
        except PipelineDefinitionError:
            return  # an unreadable notebook on disk must not break the live kernel
        for name, default in params.items():
            pipeline.params.setdefault(name, self.namespace.get(name, default))
        pipeline.param_code = pipeline.param_code or code

    def _globals(self) -> dict[str, Any]:
        # Outputs of nodes are inputs, not globals: a node must read them through the graph.
        return {k: v for k, v in self.namespace.items() if k not in self.pipeline.nodes}

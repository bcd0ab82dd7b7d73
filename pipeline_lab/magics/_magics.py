"""The ``%pipeline`` / ``%%pipeline`` magics: parse, call the session, display."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.display import display

from pipeline_lab.engine import (
    InteractiveSession,
    NodeStatus,
    RunResult,
    node_summary,
    run_summary,
    user_frames,
)
from pipeline_lab.errors import GATE_ERRORS, NodeExecutionError, PipelineLabError
from pipeline_lab.graph import HEADER_USAGE as CELL_USAGE
from pipeline_lab.magics._display import ComponentTable, NodeTable, SourceTable

HELP = f"""Pipeline Lab magics

  {CELL_USAGE}
      Define (or replace) node NAME from the cell and run it. The cell's output is the variable
      NAME if the cell assigns it, else its last expression. Inputs are the other nodes and
      parameters the cell reads (params.X or bare X); --check is a SQL condition every row of
      the output must satisfy.

  %pipeline show [--lr]          the pipeline as a live graph (click a node to inspect it;
                                 --lr: left to right), with its table of nodes under it
  %pipeline run [--only N ...] [--from N]
                                 run the pipeline (or part of it); binds every output
  %pipeline status               last status of every node
  %pipeline nodes                nodes with their kind and inputs
  %pipeline remove NAME          remove a node
  %pipeline new NAME             start a new, empty pipeline
  %pipeline save                 save the pipeline (a new version) in the store
  %pipeline export PATH.ipynb    write the pipeline (builder nodes too) as a notebook that
                                 pipeline-lab run executes (an existing one is patched)
  %pipeline components           the component library (use with %%pipeline NAME --component KIND)
  %pipeline sources              the managed data sources (pipeline_lab.read("NAME") reads one;
                                 add them with: pipeline-lab sources add NAME URL)
  %pipeline code NAME            the polars code equivalent to a node
  %pipeline explain NAME [--unoptimized]
                                 the query plan of a component node (chains are fused)
  %pipeline help                 this help
"""


class _LineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"%pipeline: {message}\n\n{HELP}")


def _line_parser() -> _LineParser:
    parser = _LineParser(prog="%pipeline", add_help=False)
    verbs = parser.add_subparsers(dest="verb", parser_class=_LineParser)
    for verb in ("status", "nodes", "save", "help"):
        verbs.add_parser(verb, add_help=False)
    show = verbs.add_parser("show", add_help=False)
    show.add_argument("--lr", action="store_true")
    run = verbs.add_parser("run", add_help=False)
    run.add_argument("--only", nargs="+", default=None, metavar="NODE")
    run.add_argument("--from", dest="from_", default=None, metavar="NODE")
    verbs.add_parser("components", add_help=False)
    verbs.add_parser("sources", add_help=False)
    verbs.add_parser("code", add_help=False).add_argument("name")
    explain = verbs.add_parser("explain", add_help=False)
    explain.add_argument("name")
    explain.add_argument("--unoptimized", action="store_true")
    verbs.add_parser("remove", add_help=False).add_argument("name")
    verbs.add_parser("new", add_help=False).add_argument("name")
    verbs.add_parser("export", add_help=False).add_argument("path")
    return parser


_PARSER = _line_parser()


def session_of(shell: Any) -> InteractiveSession:
    """The kernel's pipeline session (created by ``%load_ext pipeline_lab``)."""
    magics = shell.magics_manager.registry.get("PipelineMagics")
    if magics is None:
        raise UsageError("Pipeline Lab is not loaded; run %load_ext pipeline_lab first")
    return magics.session


class NodeFailed(NodeExecutionError):
    """A node's own code raised ``original``; the cell shows only the user's frames of it."""

    def __init__(
        self,
        node: str,
        original: BaseException,
        frames: TracebackType | None,
        shell: Any = None,
    ):
        super().__init__(f"{type(original).__name__}: {original}", node=node)
        self.original = original
        self.frames = frames
        self._shell = shell

    def _render_traceback_(self) -> list[str]:
        """IPython's hook for exceptions that format themselves: the user's frames only."""
        if self._shell is None or self.frames is None:
            return super()._render_traceback_()
        original = self.original
        stb: list[str] = self._shell.InteractiveTB.structured_traceback(
            type(original), original, self.frames, tb_offset=0
        )
        return stb


Verb = Callable[["PipelineMagics", argparse.Namespace], Any]
VERBS: dict[str, Verb] = {}


def verb(name: str) -> Callable[[Verb], Verb]:
    """Register a ``%pipeline NAME`` verb: it parses nothing, calls the session, displays."""

    def register(func: Verb) -> Verb:
        VERBS[name] = func
        return func

    return register


@magics_class
class PipelineMagics(Magics):
    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.session = InteractiveSession(shell.user_ns)
        self._cell_id: str | None = None
        self._said_unnamed = False
        shell.events.register("pre_run_cell", self._remember_cell)

    def _remember_cell(self, info: Any) -> None:
        """The notebook cell about to run (Jupyter sends its id): a node knows its cell."""
        self._cell_id = getattr(info, "cell_id", None)

    @property
    def cell_id(self) -> str | None:
        """The id of the notebook cell running now, if the front end sent one."""
        return self._cell_id

    def close(self) -> None:
        """Stop following the shell's cells (``%unload_ext``)."""
        assert self.shell is not None
        self.shell.events.unregister("pre_run_cell", self._remember_cell)

    @line_cell_magic
    def pipeline(self, line: str, cell: str | None = None) -> Any:
        """Define a node (``%%pipeline NAME``) or manage the pipeline (``%pipeline VERB``)."""
        __tracebackhide__ = True
        if cell is None:
            args = _PARSER.parse_args(shlex.split(line) or ["help"])
            return VERBS[args.verb](self, args)
        node, result = self.session.define(line, cell, cell_id=self._cell_id)
        if self.session.unnamed and not self._said_unnamed:
            self._said_unnamed = True
            print(
                "note: this kernel does not say which notebook it runs (papermill, nbclient or "
                "plain IPython), so its pipeline is named 'notebook'; name it with "
                "%pipeline new NAME, or set PIPELINE_LAB_NOTEBOOK",
                file=sys.stderr,
            )
        if result is None:
            print(f"registered node '{node.name}' (not run: --no-run)")
            return None
        return self._show_node(node.name, result)

    def _show_node(self, name: str, result: RunResult) -> Any:
        __tracebackhide__ = True
        for node_run in [
            *(r for n, r in result.node_runs.items() if n != name),
            result.node_runs[name],
        ]:
            # Failures go to stderr, which notebooks show in red.
            stream = sys.stdout if node_run.status.ok else sys.stderr
            print(node_summary(node_run), file=stream)
        node_run = result.node_runs[name]
        if node_run.status is NodeStatus.SUCCEEDED:
            return node_run.display
        exc = node_run.exception
        if exc is None:  # skipped: an upstream node failed
            reason = (node_run.error or "").removeprefix("skipped: ")
            raise PipelineLabError(
                f"node '{name}' did not run: {reason}",
                hint="fix the upstream node and re-run its cell",
            )
        if isinstance(exc, GATE_ERRORS) and node_run.output is not None:
            print(
                f"the output that failed is bound as {name}: inspect it to fix the node or "
                "the data (nodes downstream did not run)",
                file=sys.stderr,
            )
        if isinstance(exc, PipelineLabError):
            raise exc
        frames = user_frames(exc, self.session.pipeline.nodes[name].filename)
        raise NodeFailed(name, exc, frames, self.shell) from exc

    def history(self) -> list[str]:
        """The cells this kernel ran, without the one running now."""
        assert self.shell is not None
        return list(self.shell.user_ns.get("In", [])[1:-1])


@verb("help")
def _help(magics: PipelineMagics, args: argparse.Namespace) -> None:
    print(HELP)


@verb("show")
def _show(magics: PipelineMagics, args: argparse.Namespace) -> None:
    from pipeline_lab.widgets import session_graph  # ipycytoscape loads pandas: only when shown

    session = magics.session
    session_graph(session, "LR" if args.lr else "TB", origin=magics.cell_id).display()
    display(NodeTable(session.pipeline, session.last_runs, "show", stale=session.stale))


@verb("status")
@verb("nodes")
def _table(magics: PipelineMagics, args: argparse.Namespace) -> None:
    session = magics.session
    display(NodeTable(session.pipeline, session.last_runs, args.verb, stale=session.stale))


@verb("run")
def _run(magics: PipelineMagics, args: argparse.Namespace) -> None:
    session = magics.session
    result = session.run(only=args.only, from_=args.from_)
    display(NodeTable(session.pipeline, session.last_runs, "status", stale=session.stale))
    if not result.ok:
        raise NodeExecutionError(
            run_summary(result), hint="see %pipeline status; fix the node and re-run its cell"
        )
    print(run_summary(result))


@verb("components")
def _components(magics: PipelineMagics, args: argparse.Namespace) -> None:
    display(ComponentTable())


@verb("sources")
def _sources(magics: PipelineMagics, args: argparse.Namespace) -> None:
    display(SourceTable(magics.session.sources()))


@verb("code")
def _code(magics: PipelineMagics, args: argparse.Namespace) -> None:
    print(magics.session.code(args.name))


@verb("explain")
def _explain(magics: PipelineMagics, args: argparse.Namespace) -> None:
    print(magics.session.explain(args.name, optimized=not args.unoptimized))


@verb("remove")
def _remove(magics: PipelineMagics, args: argparse.Namespace) -> None:
    magics.session.remove(args.name)
    print(f"removed node '{args.name}'")


@verb("new")
def _new(magics: PipelineMagics, args: argparse.Namespace) -> None:
    magics.session.new(args.name)
    print(f"new pipeline '{args.name}'")


@verb("save")
def _save(magics: PipelineMagics, args: argparse.Namespace) -> None:
    saved = magics.session.save(magics.history())
    for notice in magics.session.notices:
        print(f"note: {notice}")
    print(f"saved pipeline '{saved.name}' ({saved.nodes} nodes) as version {saved.version}")


@verb("export")
def _export(magics: PipelineMagics, args: argparse.Namespace) -> None:
    path = magics.session.export(args.path, magics.history())
    for notice in magics.session.notices:
        print(f"note: {notice}")
    print(
        f"wrote pipeline '{magics.session.pipeline.name}' to {path}; run it with: pipeline-lab run {path}"
    )

"""``PipelineGraph``: the pipeline as a live, clickable graph in the notebook (ipycytoscape).

The graph is drawn once (dagre layout); after that only what changed is sent: a node's data
and classes when its status changes, added or removed nodes and edges when a cell redefines
the pipeline. Run events arrive on the kernel's thread; changes are batched so a 300-node run
sends each node a handful of updates, not one re-render per event.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterable, Mapping
from html import escape
from typing import Any, Literal

import ipywidgets as widgets
from ipycytoscape import CytoscapeWidget, Edge
from ipycytoscape import Node as CytoNode

from pipeline_lab.events import RunFinished
from pipeline_lab.graph import Issue, Pipeline
from pipeline_lab.widgets._elements import GraphState
from pipeline_lab.widgets._inspector import Inspector
from pipeline_lab.widgets._static import graph_html
from pipeline_lab.widgets._style import cytoscape_style

Direction = Literal["TB", "LR"]
FLUSH_INTERVAL = 0.5
"""Seconds between two sends of status changes during a run (the last one is sent at once)."""
NO_TOOLTIP = "__pipeline_lab_no_tooltip__"
"""ipycytoscape shows its tooltip field as HTML: point it at a key no element has."""


class _Batcher:
    """Collects changed node names and sends them ``interval`` seconds after the first change
    of a batch (a run shorter than that sends only its final state), or at once when asked.
    Names a send did not get through (an interrupt mid-send) stay pending."""

    def __init__(self, send: Callable[[set[str]], None], interval: float = FLUSH_INTERVAL):
        self._send = send
        self._interval = interval
        self._pending: set[str] = set()
        self._timer: threading.Timer | None = None
        self.lock = threading.RLock()
        """Guards the pending names and the graph's state."""
        self.sending = threading.Lock()
        """One send at a time, so an older batch never lands after a newer one."""

    def add(self, names: Iterable[str] = (), *, now: bool = False) -> None:
        with self.lock:
            self._pending |= set(names)
            if now:
                self.flush()
            elif self._timer is None:
                self._timer = threading.Timer(self._interval, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        """Send what is pending. The state lock is held only to take the names, so run
        events are never kept waiting while messages go out; sends are one at a time."""
        with self.sending:
            with self.lock:
                if self._timer is not None:
                    self._timer.cancel()
                    self._timer = None
                names, self._pending = self._pending, set()
            try:
                self._send(names)
            except BaseException:
                with self.lock:
                    self._pending |= names  # sent again with the next batch
                raise


class PipelineGraph(widgets.VBox):
    """The pipeline's DAG: nodes coloured by status and shaped by kind, updated live.

    Parameters
    ----------
    pipeline
        The pipeline to draw.
    runs
        The last run of each node (``NodeRun`` or ``NodeOutcome``), for statuses and rows.
    values
        ``name -> value`` of each node's output (the inspector's preview), or ``None``.
    direction
        ``"TB"`` (top to bottom, the default) or ``"LR"`` (left to right).
    observe
        Subscribes a callback to session and run events, returning the unsubscribe (an
        :class:`~pipeline_lab.engine.InteractiveSession`'s ``observe``): the graph then
        follows every run and every cell that changes the pipeline.
    validate
        The pipeline's problems (by default ``pipeline.validate()``; a kernel passes the
        names it defines).
    history, code, traceback
        For the inspector: a node's recent runs from the store, the polars code of a
        component node, the user's traceback of a failed node.
    truth
        ``() -> (last runs, stale nodes)`` as the session has them, read after each edit and
        each run's ``OutputsBound``.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        runs: Mapping[str, Any] | None = None,
        stale: Iterable[str] = (),
        values: Callable[[str], Any] | None = None,
        direction: Direction = "TB",
        observe: Callable[[Callable[[Any], None]], Callable[[], None]] | None = None,
        validate: Callable[[Pipeline], list[Issue]] | None = None,
        history: Callable[[str], list[tuple[str, str, Any]]] | None = None,
        code: Callable[[str], str] | None = None,
        traceback: Callable[[str], str | None] | None = None,
        truth: Callable[[], tuple[Mapping[str, Any], Iterable[str]]] | None = None,
    ) -> None:
        if direction not in ("TB", "LR"):
            raise ValueError(f"direction must be 'TB' (top to bottom) or 'LR', not {direction!r}")
        self._validate = validate or (lambda p: p.validate())
        self._truth = truth
        self.state = GraphState.of(pipeline, runs, stale=stale, issues=self._issues(pipeline))
        self.direction: Direction = direction
        self.cytoscape = CytoscapeWidget(
            layout=widgets.Layout(height="480px", width="100%"),
            max_zoom=1.5,  # a small graph fits the box without giant nodes
            min_zoom=0.05,
            wheel_sensitivity=0.3,
        )
        self.cytoscape.set_tooltip_source(NO_TOOLTIP)
        self.cytoscape.set_style(cytoscape_style())
        self._nodes: dict[str, CytoNode] = {}
        self._sent: dict[str, tuple[dict[str, Any], str]] = {}
        """What the browser was last sent for each node (its data and classes)."""
        self._edges: dict[tuple[str, str], Edge] = {}
        self._events: collections.deque[Any] = collections.deque()
        """Run events not taken in yet (see ``_on_event``)."""
        self._batcher = _Batcher(self._push)
        self._handles: list[Any] = []
        self._static_stale = False
        self._shell: Any = None
        self.click_handlers: list[Callable[[str], bool]] = []
        """Called with a clicked node's name before the inspector opens; one that returns
        ``True`` used the click (the builder's connect mode)."""
        self._draw()
        self.inspector = Inspector(
            lambda: self.state,
            values or (lambda name: None),
            history=history,
            code=code,
            traceback=traceback,
            shown=self._refit,
        )
        self.cytoscape.on("node", "click", self._clicked_node)
        self.cytoscape.on("edge", "click", self._clicked_edge)
        self.header = widgets.HTML()
        self.builder: Any = None
        """The builder's controls, when the graph edits a kernel session (``session_graph``)."""
        self._update_header()
        canvas = widgets.Box(
            [self.cytoscape], layout=widgets.Layout(flex="1 1 0%", min_width="0", overflow="hidden")
        )
        body = widgets.HBox([canvas, self.inspector], layout=widgets.Layout(width="100%"))
        super().__init__([self.header, body])
        self.add_class("pipeline-lab-graph")
        self._unsubscribe = observe(self._on_event) if observe is not None else None

    # -- drawing ---------------------------------------------------------------------------
    def _issues(self, pipeline: Pipeline) -> list[Issue]:
        try:
            return self._validate(pipeline)
        except Exception:  # a pipeline validation cannot read still gets drawn
            return []

    def _layout(self) -> dict[str, Any]:
        nodes = self.state.pipeline.nodes.values()
        if nodes and all(node.position is not None for node in nodes):
            return {"name": "preset", "fit": True, "padding": 20}
        return {
            "name": "dagre",
            "rankDir": self.direction,
            # dagre's default ranker (network simplex) is most of the layout time of a few
            # hundred nodes; longest-path puts every source on the top rank, as pipelines read.
            "ranker": "longest-path",
            "nodeSep": 30,
            "rankSep": 50,
            "fit": True,
            "padding": 20,
            "animate": False,
        }

    def _draw(self) -> None:
        elements = self.state.elements()
        nodes = [self._new_node(e) for e in elements["nodes"]]
        edges = [self._new_edge(e) for e in elements["edges"]]
        self.cytoscape.cytoscape_layout = self._layout()
        graph = self.cytoscape.graph
        with graph.hold_sync():  # one message for the graph, not one per node and edge
            graph.add_nodes(nodes)
            graph.add_edges(edges, directed=True)

    def _new_node(self, element: dict[str, Any]) -> CytoNode:
        data = element["data"]
        node = self.state.pipeline.nodes.get(data["id"])
        position = (
            {"x": node.position[0], "y": node.position[1]}
            if node is not None and node.position is not None
            else {}
        )
        widget = CytoNode(data=dict(data), classes=element["classes"], position=position)
        self._sent[data["id"]] = (dict(data), element["classes"])
        self._nodes[data["id"]] = widget
        return widget

    def _new_edge(self, element: dict[str, Any]) -> Edge:
        data = element["data"]
        # "directed" from the start: ipycytoscape adds it otherwise, one more message per edge.
        classes = " ".join([*element["classes"].split(), "directed"])
        widget = Edge(data=dict(data), classes=classes)
        self._edges[(data["source"], data["target"])] = widget
        return widget

    def _push(self, names: set[str]) -> None:
        """Push the data and classes of ``names`` (and the rows on the edges they feed) to the
        browser: only the traits that changed, each node in one message. The state is read
        under its lock; the messages go out after it is released."""
        updates: list[tuple[Any, dict[str, Any] | None, str | None]] = []
        with self._batcher.lock:
            names = set(names)
            while self._events:  # the run events queued since the last send
                names |= self.state.apply(self._events.popleft())
            for name in names:
                widget = self._nodes.get(name)
                if widget is None or name not in self.state.pipeline.nodes:
                    continue
                data, classes = self.state.node_data(name), self.state.classes(name)
                sent_data, sent_classes = self._sent.get(name, (None, None))
                if data != sent_data or classes != sent_classes:
                    updates.append(
                        (
                            widget,
                            data if data != sent_data else None,
                            classes if classes != sent_classes else None,
                        )
                    )
                    self._sent[name] = (data, classes)
                for target in self.state.pipeline.dependents(name):
                    edge = self._edges.get((name, target))
                    if edge is not None:
                        edge_data = self.state.edge_data(name, target)
                        if edge_data["rows"] != edge.data.get("rows"):
                            updates.append((edge, edge_data, None))
        sent = 0
        try:
            for widget, new_data, new_classes in updates:
                with widget.hold_sync():
                    if new_data is not None:
                        widget.data = new_data
                    if new_classes is not None:
                        widget.classes = new_classes
                sent += 1
        except BaseException:
            with self._batcher.lock:  # not sent: forget that they were, to send them again
                for widget, _, _ in updates[sent:]:
                    self._sent.pop(widget.data.get("id"), None)
            raise
        self._update_header()

    def _update_header(self) -> None:
        summary = self.state.counts()
        problems = len(self.state.problems)
        text = (
            f"<b>pipeline {escape(self.state.pipeline.name)}</b> · "
            f"{len(self.state.pipeline.nodes)} nodes"
            + (f" · {escape(summary)}" if summary else "")
            + (
                f" · <span style='color:#cf222e'>{problems} with problems (red outline; "
                "click one)</span>"
                if problems
                else ""
            )
        )
        if self.header.value != text:
            self.header.value = text

    def update(
        self,
        pipeline: Pipeline | None = None,
        *,
        runs: Mapping[str, Any] | None = None,
        stale: Iterable[str] | None = None,
    ) -> None:
        """Take in a changed pipeline (nodes and edges added, removed or redrawn), new runs
        or staleness; only what changed is sent, and the layout runs again only when the
        structure changed."""
        with self._batcher.lock:
            if pipeline is not None:
                self.state.pipeline = pipeline
            self.state.refresh(self._issues(self.state.pipeline))
            if stale is not None:
                self.state.stale = frozenset(stale)
            if runs is not None:
                self.state.take_runs(runs)
            changed = self._restructure()
            self._static_stale = True
            self._push(set(self._nodes))
            if changed:
                self.cytoscape.cytoscape_layout = self._layout()
                self.cytoscape.relayout()
            if self.inspector.selected is not None:
                self.inspector.show_node(self.inspector.selected)

    def _restructure(self) -> bool:
        """Add and remove node and edge widgets to match the state; whether any changed."""
        elements = self.state.elements()
        wanted_nodes = {e["data"]["id"]: e for e in elements["nodes"]}
        wanted_edges = {(e["data"]["source"], e["data"]["target"]): e for e in elements["edges"]}
        graph = self.cytoscape.graph
        with graph.hold_sync():
            return self._match(graph, wanted_nodes, wanted_edges)

    def _match(
        self,
        graph: Any,
        wanted_nodes: dict[str, dict[str, Any]],
        wanted_edges: dict[tuple[str, str], dict[str, Any]],
    ) -> bool:
        gone_edges = [key for key in self._edges if key not in wanted_edges]
        for key in gone_edges:
            graph.remove_edge(self._edges.pop(key))
        gone_nodes = [name for name in self._nodes if name not in wanted_nodes]
        for name in gone_nodes:
            graph.remove_node(self._nodes.pop(name))
            self._sent.pop(name, None)
        new_nodes = [self._new_node(e) for n, e in wanted_nodes.items() if n not in self._nodes]
        if new_nodes:
            graph.add_nodes(new_nodes)
        new_edges = [self._new_edge(e) for k, e in wanted_edges.items() if k not in self._edges]
        if new_edges:
            graph.add_edges(new_edges, directed=True)
        return bool(gone_edges or gone_nodes or new_nodes or new_edges)

    # -- events ----------------------------------------------------------------------------
    def _on_event(self, event: Any) -> None:
        """A session or run event: redraw what it changed."""
        if type(event).__name__ == "OutputsBound":
            self._resync()  # the session bound the run's outputs and worked out what is stale
            return
        pipeline = getattr(event, "pipeline", None)
        if isinstance(pipeline, Pipeline) and not hasattr(event, "run"):
            # A cell or the builder defined, renamed or removed a node, or undid an edit.
            runs, stale = self._truth() if self._truth is not None else (None, None)
            self.update(pipeline, runs=runs, stale=stale)
            return
        # The driver's thread only queues the event: the state takes it in, and the browser
        # hears of it, when the batch is sent (at the latest ``FLUSH_INTERVAL`` later).
        self._events.append(event)
        if isinstance(event, RunFinished):
            # Everything, against what the browser was sent: a batch an interrupt cut short
            # is made good here.
            self._batcher.add(set(self._nodes), now=True)
            self._static_stale = True  # redrawn when the cell ends (see ``display``)
            if self.inspector.selected is not None:
                self.inspector.show_node(self.inspector.selected)
        else:
            self._batcher.add()

    def _resync(self) -> None:
        """Statuses and staleness as the session has them now (no layout, no validation)."""
        if self._truth is None:
            return
        runs, stale = self._truth()
        with self._batcher.lock:
            self.state.take_runs(runs)
            self.state.stale = frozenset(stale)
            self._static_stale = True
        self._batcher.add(set(self._nodes), now=True)

    def _refit(self, inspector_shown: bool) -> None:
        """The canvas got narrower or wider: ipycytoscape resizes and fits the graph when its
        layout's width changes, so change it (by a pixel) with the panel."""
        self.cytoscape.layout.width = "calc(100% - 1px)" if inspector_shown else "100%"

    def _clicked_node(self, element: Mapping[str, Any]) -> None:
        name = element.get("data", {}).get("id")
        if not isinstance(name, str) or name not in self.state.pipeline.nodes:
            return
        for handler in list(self.click_handlers):
            if handler(name):
                return
        self.inspector.show_node(name)

    def _clicked_edge(self, element: Mapping[str, Any]) -> None:
        data = element.get("data", {})
        source, target = data.get("source"), data.get("target")
        if isinstance(source, str) and isinstance(target, str):
            self.inspector.show_edge(source, target)

    def close(self) -> None:
        """Stop following the session, and close the widget."""
        builder = getattr(self, "builder", None)
        if builder is not None:
            builder.close()
        unsubscribe = getattr(self, "_unsubscribe", None)
        if unsubscribe is not None:
            unsubscribe()
            self._unsubscribe = None
        if hasattr(self, "_batcher"):
            self._batcher.flush()
        shell = getattr(self, "_shell", None)
        if shell is not None:
            shell.events.unregister("post_run_cell", self._cell_ended)
            self._shell = None
        super().close()

    # -- display ---------------------------------------------------------------------------
    def static_html(self, *, beside_live: bool = False) -> str:
        """The graph as HTML + SVG, with no JavaScript (for nbconvert, code hosts, reports)."""
        return graph_html(self.state, self.direction, beside_live=beside_live)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        if not self._handles:  # shown alone: the drawing rides in the widget's own output
            bundle["text/html"] = self.static_html()
        bundle["text/plain"] = (
            f"PipelineGraph of pipeline {self.state.pipeline.name!r} "
            f"({len(self.state.pipeline.nodes)} nodes)"
        )
        return bundle

    def display(self) -> None:
        """Display the live graph, and under it its static drawing, which hides itself where
        the live graph renders and is redrawn after each run: an executed notebook read
        without a kernel (nbconvert HTML, a papermill report, a code host) shows the
        pipeline with its final statuses."""
        from IPython import get_ipython
        from IPython.display import HTML, display

        self._handles.append(None)  # the widget's own output no longer carries the drawing
        display(self)
        handle = display(HTML(self.static_html(beside_live=True)), display_id=True)
        self._handles[-1] = handle
        shell = get_ipython()
        if shell is not None and self._cell_ended not in shell.events.callbacks["post_run_cell"]:
            # Redrawn once per cell that ran something, not once per run: a cell looping
            # over runs pays for one drawing, and the kernel sends it before it is idle
            # (papermill and nbclient keep it).
            shell.events.register("post_run_cell", self._cell_ended)
            self._shell = shell

    def _cell_ended(self, *_: Any) -> None:
        if self._static_stale:
            self._refresh_static()

    def _refresh_static(self) -> None:
        from IPython.display import HTML

        self._static_stale = False
        for handle in self._handles:
            if handle is None:
                continue
            try:
                handle.update(HTML(self.static_html(beside_live=True)))
            except Exception:  # the output is gone (cleared): nothing to refresh
                continue

"""The graph widget's model: elements, live updates from real runs, the inspector, the SVG."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipeline_lab import Node, Pipeline
from pipeline_lab.engine import InteractiveSession
from pipeline_lab.widgets import GraphState, PipelineGraph, graph_svg, session_graph

HOSTILE = '<img src=x onerror="window.__pwned=1">'


def nodes_of(graph: PipelineGraph, *, groups: bool = False) -> dict[str, dict[str, Any]]:
    """What the browser gets: each node widget's data (and classes), by id; the compound
    nodes that group fused chains only with ``groups``."""
    return {
        w.data["id"]: {**dict(w.data), "classes": w.classes}
        for w in graph.cytoscape.graph.nodes
        if groups or w.classes != "group"
    }


def edges_of(graph: PipelineGraph) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e.data["source"], e.data["target"]): dict(e.data) for e in graph.cytoscape.graph.edges}


@pytest.fixture
def orders_csv(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    pl.DataFrame({"id": [1, 2, 3, 4], "amount": [5.0, -1.0, 20.0, 7.5]}).write_csv(path)
    return path


def every_kind(orders_csv: Path, out: Path) -> Pipeline:
    pipeline = Pipeline("kinds")
    pipeline.add(Node("orders", component="read_csv", params={"path": str(orders_csv)}))
    pipeline.add(
        Node("paid", component="filter", params={"input": "orders", "condition": "amount > 0"})
    )
    pipeline.add(Node("saved", component="write_csv", params={"input": "paid", "path": str(out)}))
    pipeline.add(Node("total", code="float(paid['amount'].sum())"))
    return pipeline


def test_element_data_is_pinned_for_every_kind(orders_csv: Path, tmp_path: Path) -> None:
    pipeline = every_kind(orders_csv, tmp_path / "out.csv")
    graph = PipelineGraph(pipeline)
    nodes = nodes_of(graph)
    assert {n: d["kind"] for n, d in nodes.items()} == {
        "orders": "source",
        "paid": "transform",
        "saved": "sink",
        "total": "code",
    }
    for data in nodes.values():
        assert {"id", "label", "kind", "status", "rows", "duration_s"} <= set(data)
        assert data["status"] == "pending" and data["rows"] is None
        assert data["kind"] in data["classes"] and "pending" in data["classes"]
    assert set(edges_of(graph)) == {("orders", "paid"), ("paid", "saved"), ("paid", "total")}
    assert nodes["orders"]["fused_into"] == "paid"  # the scan and the filter are one plan
    assert all(set(e) == {"id", "source", "target", "rows"} for e in edges_of(graph).values())
    assert graph.cytoscape.cytoscape_layout["name"] == "dagre"
    assert graph.cytoscape.cytoscape_layout["rankDir"] == "TB"
    assert PipelineGraph(pipeline, direction="LR").cytoscape.cytoscape_layout["rankDir"] == "LR"


def test_a_run_s_result_colours_and_labels_the_nodes(orders_csv: Path, tmp_path: Path) -> None:
    pipeline = every_kind(orders_csv, tmp_path / "out.csv")
    result = pipeline.run(hooks=[])
    graph = pipeline.widget(result)
    nodes = nodes_of(graph)
    assert nodes["paid"]["status"] == "succeeded" and nodes["paid"]["rows"] == 3
    assert nodes["paid"]["label"].startswith("paid\n3 rows · ")
    assert "succeeded" in nodes["paid"]["classes"]
    assert isinstance(nodes["paid"]["duration_s"], float)
    assert edges_of(graph)[("paid", "total")]["rows"] == 3


def test_a_fused_chain_is_a_group_and_says_where_it_runs() -> None:
    pipeline = Pipeline("fused")
    pipeline.add(Node("raw", code="import polars as pl\npl.DataFrame({'x': [1, 2, 3, 4]})"))
    pipeline.add(Node("big", component="filter", params={"input": "raw", "condition": "x > 1"}))
    pipeline.add(Node("bigger", component="filter", params={"input": "big", "condition": "x > 2"}))
    pipeline.add(Node("kept", component="select", params={"input": "bigger", "columns": ["x"]}))
    result = pipeline.run(hooks=[])  # headless: the chain is one plan, collected at kept
    graph = pipeline.widget(result)
    nodes = nodes_of(graph, groups=True)
    assert nodes["plan:kept"]["classes"] == "group"
    assert {n: d.get("parent") for n, d in nodes.items() if d.get("parent")} == {
        "big": "plan:kept",
        "bigger": "plan:kept",
        "kept": "plan:kept",
    }
    assert nodes["big"]["label"] == "big\nfused into kept"  # not a fake "0 ms"
    assert nodes["big"]["fused_into"] == "kept" and "fused" in nodes["big"]["classes"]
    assert nodes["kept"]["label"].startswith("kept\n2 rows")
    assert "parent" not in nodes["raw"]


def test_validation_problems_are_outlined_with_their_message() -> None:
    pipeline = Pipeline("broken")
    pipeline.add(Node("a", code="1"))
    pipeline.add(Node("b", code="a + missing_thing"))
    pipeline.add(Node("c", component="filter", params={"input": "a", "condition": "x >"}))
    graph = PipelineGraph(pipeline)
    nodes = nodes_of(graph)
    assert "invalid" in nodes["b"]["classes"] and "missing_thing" in nodes["b"]["problem"]
    assert "invalid" in nodes["c"]["classes"] and "condition" in nodes["c"]["problem"]
    assert "invalid" not in nodes["a"]["classes"] and nodes["a"]["problem"] is None
    graph._clicked_node({"data": {"id": "b"}})
    assert "missing_thing" in graph.inspector.title.value
    assert "2 with problems" in graph.header.value


# -- live updates from a real run in a kernel-like session ---------------------------------------
@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> InteractiveSession:
    monkeypatch.setenv("PIPELINE_LAB_STORE", "off")
    session = InteractiveSession({})
    session.hooks = []
    exec("import polars as pl", session.namespace)
    return session


def test_a_run_updates_an_open_graph_node_by_node(session: InteractiveSession) -> None:
    session.define("numbers --no-run", "pl.DataFrame({'x': list(range(10))})")
    session.define("evens --no-run", "numbers.filter(pl.col('x') % 2 == 0)")
    session.define("broken --no-run", "evens['nope']")
    session.define("after --no-run", "broken")
    graph = session_graph(session)
    seen: list[tuple[str, str]] = []
    for widget in graph.cytoscape.graph.nodes:
        widget.observe(lambda change: seen.append((change.new["id"], change.new["status"])), "data")
    session.run()
    nodes = nodes_of(graph)
    assert {n: d["status"] for n, d in nodes.items()} == {
        "numbers": "succeeded",
        "evens": "succeeded",
        "broken": "failed",
        "after": "skipped",
    }
    assert nodes["evens"]["rows"] == 5 and edges_of(graph)[("evens", "broken")]["rows"] == 5
    assert "failed" in nodes["broken"]["classes"]
    assert seen[-1][1] in {"failed", "skipped", "succeeded"}
    assert "1 failed" in graph.header.value and "2 succeeded" in graph.header.value
    graph._clicked_node({"data": {"id": "broken"}})
    titles = [graph.inspector.tabs.get_title(i) for i in range(len(graph.inspector.tabs.children))]
    assert titles[-1] == "Error" and graph.inspector.tabs.selected_index == len(titles) - 1
    error = graph.inspector.tabs.children[-1].value
    assert "ColumnNotFoundError" in error and "evens[&#x27;nope&#x27;]" in error  # the user's line


def test_a_300_node_run_sends_few_updates_and_ends_exact(session: InteractiveSession) -> None:
    session.define("n0 --no-run", "0")
    for i in range(1, 300):
        session.define(f"n{i} --no-run", f"n{i - 1} + 1")
    graph = session_graph(session)
    changes = 0

    def count(change: Any) -> None:
        nonlocal changes
        changes += 1

    for widget in graph.cytoscape.graph.nodes:
        widget.observe(count, "data")
    session.run()
    assert all(d["status"] == "succeeded" for d in nodes_of(graph).values())
    # One message per event would be 3 per node (pending, running, succeeded): batching sends
    # each node far fewer.
    assert changes < 2 * 300, changes


def test_redefining_a_cell_redraws_only_its_edges(session: InteractiveSession) -> None:
    session.define("a", "1")
    session.define("b", "2")
    session.define("c", "a + 1")
    graph = session_graph(session)
    widget_a = next(w for w in graph.cytoscape.graph.nodes if w.data["id"] == "a")
    session.define("c", "b + 1")  # the cell now reads b, not a
    assert set(edges_of(graph)) == {("b", "c")}
    assert next(w for w in graph.cytoscape.graph.nodes if w.data["id"] == "a") is widget_a
    session.define("d", "c * 2")
    assert set(nodes_of(graph)) == {"a", "b", "c", "d"} and ("c", "d") in edges_of(graph)
    assert nodes_of(graph)["d"]["status"] == "succeeded"  # the cell ran
    assert nodes_of(graph)["c"]["rows"] is None
    session.remove("a")
    assert set(nodes_of(graph)) == {"b", "c", "d"}
    graph.close()
    session.define("e", "d")  # a closed graph follows nothing
    assert "e" not in nodes_of(graph)


def test_an_upstream_rerun_marks_downstream_stale_live(session: InteractiveSession) -> None:
    session.define("a", "1")
    session.define("b", "a + 1")
    graph = session_graph(session)
    session.define("a", "10")  # the cell re-runs a: b's value is now stale
    assert nodes_of(graph)["b"]["status"] == "stale" and "stale" in nodes_of(graph)["b"]["classes"]
    session.run(only=["b"], reuse=True)
    assert nodes_of(graph)["b"]["status"] == "succeeded"


def test_an_interrupt_in_an_observer_leaves_no_graph_behind(session: InteractiveSession) -> None:
    from pipeline_lab.events import NodeFinished

    for i in range(30):
        session.define(f"n{i} --no-run", f"{i}")
    first, second = session_graph(session), session_graph(session)

    def interrupt(event: object) -> None:
        if isinstance(event, NodeFinished) and event.outcome.name == "n3":
            raise KeyboardInterrupt  # Ctrl-C lands while the first graph handles an event

    session._observers.insert(1, interrupt)  # between the two graphs
    with pytest.raises(BaseException):  # noqa: B017 - KeyboardInterrupt or RunInterrupted
        session.run()
    truth = {n: r.status.value for n, r in session.last_runs.items()}
    for graph in (first, second):
        shown = {n: d["status"] for n, d in nodes_of(graph).items()}
        assert "running" not in shown.values()
        assert {n: shown[n] for n in truth} == truth


def test_showing_again_from_the_same_cell_stops_the_old_graph(session: InteractiveSession) -> None:
    session.define("a", "1")
    old = session_graph(session, origin="cell-1")
    other = session_graph(session, origin="cell-2")
    new = session_graph(session, origin="cell-1")
    session.define("b", "a")
    assert "b" not in nodes_of(old) and "b" in nodes_of(other) and "b" in nodes_of(new)
    observers = len(session._observers)
    for _ in range(20):
        session_graph(session, origin="cell-3")
    assert len(session._observers) <= observers + 2  # a graph and its builder, not 20 of each


# -- inspector -----------------------------------------------------------------------------------
def test_the_inspector_previews_1000_rows_schema_code_and_edges(
    session: InteractiveSession,
) -> None:
    session.define(
        "big",
        f"pl.DataFrame({{'x': list(range(5000)), {HOSTILE!r}: [None, 'a'] * 2500}})",
    )
    session.define("small", "big.head(3)")
    graph = session_graph(session)
    graph._clicked_node({"data": {"id": "big"}})
    inspector = graph.inspector
    assert inspector.layout.display == "flex"
    titles = [inspector.tabs.get_title(i) for i in range(len(inspector.tabs.children))]
    assert titles == ["Preview", "Schema", "Code"]  # store off: no runs page
    note, grid = inspector.tabs.children[0].children
    assert "first 1,000 of 5,000 rows" in note.value
    assert len(grid.data) == 1_000 and list(grid.data.columns) == ["x", HOSTILE]
    schema = inspector.tabs.children[1].value
    assert "Int64" in schema and "2,500" in schema  # the null count of the whole frame
    assert "<img" not in schema and "&lt;img src=x" in schema
    assert "pl.DataFrame" in inspector.tabs.children[2].value
    graph._clicked_edge({"data": {"source": "big", "target": "small"}})
    assert "&lt;img src=x onerror" in inspector.tabs.children[0].value
    assert inspector.tabs.get_title(0) == "Columns"


def test_the_inspector_shows_what_it_cannot_render_instead_of_raising(
    session: InteractiveSession,
) -> None:
    session.define("dup", "import pandas as pd\npd.DataFrame([[1, 2]], columns=['a', 'a'])")
    session.define(
        "odd", "class Odd:\n    def __repr__(self):\n        raise RuntimeError('no')\nOdd()"
    )
    session.define("after", "dup")
    graph = session_graph(session)
    for name in ("dup", "odd"):
        graph._clicked_node({"data": {"id": name}})
        assert graph.inspector.selected == name
        assert "cannot show this" in graph.inspector.tabs.children[0].value
    graph._clicked_edge({"data": {"source": "dup", "target": "after"}})
    assert "after" in graph.inspector.title.value


def test_the_inspector_lists_the_node_s_runs_from_the_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PIPELINE_LAB_STORE", raising=False)
    session = InteractiveSession({})
    session.new("history")
    session.define("a", "41")
    session.define("a", "42")
    graph = session_graph(session)
    graph._clicked_node({"data": {"id": "a"}})
    titles = [graph.inspector.tabs.get_title(i) for i in range(len(graph.inspector.tabs.children))]
    runs = graph.inspector.tabs.children[titles.index("Runs")].value
    assert runs.count("succeeded") == 2 and "cell" in runs


# -- static drawing ------------------------------------------------------------------------------
def test_the_display_data_carries_a_static_svg_with_statuses(session: InteractiveSession) -> None:
    session.define("first", "1")
    session.define("second", f"raise ValueError({HOSTILE!r})")
    graph = session_graph(session)
    bundle = graph._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    html = bundle["text/html"]
    assert "<svg" in html and "<script" not in html
    assert re.search(r'data-id="first".*?fill="#dafbe1"', html, re.S)  # succeeded: green
    assert re.search(r'data-id="second".*?fill="#ffebe9"', html, re.S)  # failed: red
    assert "onerror" in html and "<img" not in html  # the error is in a title, escaped
    assert "1 failed, 1 succeeded" in html


def test_the_static_svg_is_xml_and_small_whatever_the_error(session: InteractiveSession) -> None:
    import xml.etree.ElementTree as ET

    session.define("bad", "raise ValueError('\\x1b[31m\\x00' + 'x' * 100_000)")
    svg = session_graph(session).static_html()
    ET.fromstring(svg[svg.index("<svg") : svg.index("</svg>") + 6])  # well-formed
    assert len(svg) < 10_000


def test_static_layers_follow_the_edges() -> None:
    pipeline = Pipeline("layers")
    for name, code in [("a", "1"), ("b", "a"), ("c", "a"), ("d", "b + c")]:
        pipeline.add(Node(name, code=code))
    svg = graph_svg(GraphState.of(pipeline))
    y = {
        m[0]: int(m[1])
        for m in re.findall(r'data-id="(\w)"><title>[^<]*</title><rect x="\d+" y="(\d+)"', svg)
    }
    assert y["a"] < y["b"] == y["c"] < y["d"]
    assert svg.count("marker-end=") == 4  # one arrow per edge

"""The browser-test harness works: a plain ipycytoscape graph run in JupyterLab is read back from
the page, a mouse click on a node reaches its Python callback, and markup in data stays text."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.ui

PAYLOAD = '<img src=x onerror="window.__pwned=1">'

CLICKABLE_GRAPH = """\
import ipycytoscape
import ipywidgets

graph = ipycytoscape.CytoscapeWidget()
graph.graph.add_graph_from_json(
    {
        "nodes": [{"data": {"id": name, "label": name.upper()}} for name in "abc"],
        "edges": [
            {"data": {"id": "ab", "source": "a", "target": "b"}},
            {"data": {"id": "bc", "source": "b", "target": "c"}},
        ],
    },
    directed=True,
)
graph.set_layout(name="dagre")
clicked = ipywidgets.Label("nothing clicked")
graph.on("node", "click", lambda node: setattr(clicked, "value", node["data"]["id"]))
display(graph, clicked)
"""

MARKUP_IN_DATA = f"""\
import html

import ipycytoscape
from IPython.display import HTML, display

payload = {PAYLOAD!r}
graph = ipycytoscape.CytoscapeWidget()
graph.graph.add_graph_from_json({{"nodes": [{{"data": {{"id": "evil", "label": payload}}}}]}})
graph.set_style([{{"selector": "node", "style": {{"label": "data(label)"}}}}])
display(graph)
display(HTML(html.escape(payload)))
"""


def test_graph_is_read_from_the_page_and_a_node_click_reaches_python(lab):
    from playwright.sync_api import expect

    lab.run_notebook([CLICKABLE_GRAPH])

    [graph] = lab.graphs(count=1)
    assert graph.node_ids == {"a", "b", "c"}
    assert graph.edge_pairs == {("a", "b"), ("b", "c")}
    # dagre ranks a directed chain top to bottom (the default grid would put it on one row)
    assert graph.node("a").y < graph.node("b").y < graph.node("c").y

    label = lab.outputs.locator(".widget-label")
    expect(label).to_have_text("nothing clicked")
    lab.click_node("b")
    expect(label).to_have_text("b")
    lab.click_node("c")
    expect(label).to_have_text("c")


def test_markup_in_a_node_label_and_in_escaped_html_stays_text(lab):
    lab.run_notebook([MARKUP_IN_DATA])

    [graph] = lab.graphs(count=1)
    assert graph.node("evil").label == PAYLOAD  # drawn on the canvas as these characters
    lab.click_node("evil")  # a click shows the node's tooltip field as HTML, if it has one

    lab.page.wait_for_timeout(1000)  # time for an injected image to fail to load
    assert lab.page.evaluate("() => window.__pwned") is None
    assert lab.page.locator('img[src="x"]').count() == 0
    assert any(PAYLOAD in text for text in lab.output_texts())

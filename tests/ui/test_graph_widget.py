"""The pipeline graph and builder in a real JupyterLab, driven with a mouse in Chromium."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from pipeline_lab import Pipeline

pytestmark = pytest.mark.ui

EXAMPLES = Path(__file__).resolve().parents[2] / "example_notebooks"
PAYLOAD = '<img src=x onerror="window.__pwned=1">'
SUCCEEDED_FILL = "rgb(218,251,225)"  # STATUS_FILL["succeeded"], as the canvas style reads it


def example_cells(name: str) -> list[str]:
    notebook = json.loads((EXAMPLES / name).read_text())
    return ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]


def run_last_cell(lab) -> None:
    """Run the notebook's last cell again (as a user does with Shift+Enter) and wait for it."""
    from playwright.sync_api import expect

    cell = lab.page.locator(".jp-CodeCell").last
    cell.locator(".jp-InputArea-editor").click()
    lab.page.keyboard.press("Shift+Enter")
    prompts = lab.page.locator(".jp-CodeCell .jp-InputArea-prompt", has_text="[*]")
    expect(prompts).to_have_count(0, timeout=60_000)
    expect(lab.kernel_status).to_have_text(re.compile(r"\| Idle$"), timeout=60_000)


def statuses(graph) -> dict[str, str]:
    return {n.id: n.data["status"] for n in graph.nodes if "status" in n.data}


def test_the_example_notebook_s_graph_renders_and_recolours_as_it_runs(lab) -> None:
    shutil.copytree(EXAMPLES / "data", lab.server.root_dir / "data", dirs_exist_ok=True)
    lab.run_notebook(example_cells("sales_pipeline.ipynb"))  # ... %pipeline show, %pipeline run
    expected = Pipeline.from_notebook(EXAMPLES / "sales_pipeline.ipynb")
    [graph] = lab.graphs(count=1)
    assert {n for n in graph.node_ids if not n.startswith("plan:")} == set(expected.nodes)
    assert graph.edge_pairs == {
        (dep, name) for name in expected.nodes for dep in expected.dependencies(name)
    }
    # Shown before %pipeline run, recoloured by it node by node:
    assert set(statuses(graph).values()) == {"succeeded"}
    colours = lab.page.evaluate(
        """() => Array.from(document.querySelectorAll('.jp-OutputArea-output *'))
          .filter(el => el._cyreg && el._cyreg.cy)[0]._cyreg.cy.nodes()
          .map(n => n.style('background-color').replace(/ /g, ''))"""
    )
    assert set(colours) == {SUCCEEDED_FILL}
    revenue = graph.node("revenue_by_region_month")
    assert revenue.data["kind"] == "code" and revenue.data["rows"] > 0
    assert revenue.label.startswith(f"revenue_by_region_month\n{revenue.data['rows']:,} rows")
    # The static drawing beside it gives way to the live graph.
    assert lab.page.locator(".pipeline-lab-graph-static").first.is_hidden()


def test_clicking_a_node_shows_its_preview_rows_schema_and_runs(lab) -> None:
    from playwright.sync_api import expect

    lab.run_notebook(
        [
            "%load_ext pipeline_lab",
            "import polars as pl",
            "%%pipeline numbers\npl.DataFrame({'n': list(range(2500)), 'even': [i % 2 == 0 for i in range(2500)]})",
            "%%pipeline evens\nnumbers.filter(pl.col('even'))",
            "%pipeline show",
        ]
    )
    lab.graphs(count=1)
    lab.click_node("evens")
    inspector = lab.page.locator(".pipeline-lab-inspector")
    expect(inspector).to_be_visible()
    expect(inspector).to_contain_text("evens")
    expect(inspector).to_contain_text("first 1,000 of 1,250 rows")
    grid = inspector.locator(".pipeline-lab-preview")
    expect(grid).to_be_visible()
    assert grid.bounding_box()["height"] > 100
    inspector.get_by_role("tab", name="Schema").click()
    expect(inspector).to_contain_text("Boolean")
    lab.click_node("numbers")
    expect(inspector).to_contain_text("first 1,000 of 2,500 rows")


def test_a_filter_added_from_the_palette_and_connected_runs(lab) -> None:
    from playwright.sync_api import expect

    lab.run_notebook(
        [
            "%load_ext pipeline_lab",
            "import polars as pl",
            "%%pipeline orders\npl.DataFrame({'id': [1, 2, 3], 'amount': [5.0, -1.0, 7.0]})",
            "%pipeline show",
            "%pipeline run",
        ]
    )
    lab.graphs(count=1)
    out = lab.outputs
    out.get_by_role("button", name="Add", exact=True).click()
    lab.page.get_by_placeholder("search components").fill("keep rows")
    out.get_by_role("button", name="filter", exact=True).click()
    form = lab.page.locator(".pipeline-lab-form")
    expect(form).to_be_visible()
    form.locator("select").first.select_option("orders")
    texts = form.locator("input[type='text']")
    texts.nth(0).fill("paid")  # the node's name
    texts.nth(1).fill("amount > 0")
    form.get_by_role("button", name="Add node").click()
    expect(lab.page.locator(".pipeline-lab-message")).to_contain_text("added node paid")
    # The node's cell, to paste into the notebook: the Copy button puts it on the clipboard.
    lab.page.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=lab.server.url.rstrip("/")
    )
    lab.page.locator(".pipeline-lab-cell-code").get_by_role("button", name="Copy").click()
    copied = lab.page.evaluate("() => navigator.clipboard.readText()")
    assert copied == "%%pipeline paid --component filter\ninput: orders\ncondition: amount > 0"
    graph = lab.graphs(count=1)[0]
    assert ("orders", "paid") in graph.edge_pairs
    assert statuses(graph)["paid"] == "pending"
    # A second node from the palette, then connect mode: click paid, then the new node.
    out.get_by_role("button", name="Add", exact=True).click()
    lab.page.get_by_placeholder("search components").fill("limit")
    out.get_by_role("button", name="limit", exact=True).click()
    form.locator("select").first.select_option("orders")
    form.get_by_placeholder("a whole number").first.fill("1")
    form.get_by_role("button", name="Add node").click()
    expect(lab.page.locator(".pipeline-lab-message")).to_contain_text("added node limit_1")
    out.get_by_role("button", name="Connect", exact=True).click()
    lab.click_node("paid")
    lab.click_node("limit_1")
    expect(lab.page.locator(".pipeline-lab-message")).to_contain_text("limit_1 now reads paid")
    graph = lab.graphs(count=1)[0]
    assert {("orders", "paid"), ("paid", "limit_1")} <= graph.edge_pairs
    assert ("orders", "limit_1") not in graph.edge_pairs
    run_last_cell(lab)  # %pipeline run again: it runs what the builder added
    graph = lab.graphs(count=1)[0]
    assert statuses(graph) == {"orders": "succeeded", "paid": "succeeded", "limit_1": "succeeded"}
    assert graph.node("paid").data["rows"] == 2 and graph.node("limit_1").data["rows"] == 1


def test_markup_in_names_values_and_errors_executes_nothing(lab) -> None:
    from playwright.sync_api import expect

    lab.run_notebook(
        [
            "%load_ext pipeline_lab",
            f"%pipeline new '{PAYLOAD}'",
            "import polars as pl",
            f"payload = {PAYLOAD!r}",
            "%%pipeline evil\npl.DataFrame({payload: [payload, 'x']})",
            "%%pipeline broken --no-run\nraise ValueError(payload + str(len(evil)))",
            "%pipeline show",
            # %pipeline run raises for the failed node; Run All must go on
            "try:\n    get_ipython().run_line_magic('pipeline', 'run')\nexcept Exception:\n    pass",
        ]
    )
    [graph] = lab.graphs(count=1)
    assert statuses(graph)["broken"] == "failed"
    lab.click_node("evil")
    inspector = lab.page.locator(".pipeline-lab-inspector")
    expect(inspector).to_be_visible()
    inspector.get_by_role("tab", name="Schema").click()
    expect(inspector).to_contain_text(PAYLOAD)  # shown as the characters it is
    lab.click_node("broken")
    expect(inspector.get_by_role("tab", name="Error")).to_be_visible()
    expect(inspector).to_contain_text("ValueError: " + PAYLOAD)
    lab.page.wait_for_timeout(1000)  # time for an injected image to fail to load
    assert lab.page.evaluate("() => window.__pwned") is None
    assert lab.page.locator('img[src="x"]').count() == 0

"""The visual builder, driven as a user drives it, on a real IPython shell's session."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pytest

from pipeline_lab.cli import main
from pipeline_lab.magics import session_of
from pipeline_lab.widgets import PipelineGraph, session_graph

HOSTILE = '<img src=x onerror="window.__pwned=1">'


@pytest.fixture
def built(shell: Any) -> tuple[Any, PipelineGraph]:
    shell.run_cell("import polars as pl", store_history=True)  # as a notebook's cells are
    shell.run_cell(
        "%%pipeline orders\n"
        "pl.DataFrame({'id': [1, 2, 3, 4], 'amount': [5.0, -1.0, 20.0, 7.5], "
        "'region': ['n', 's', 'n', 's']})",
        store_history=True,
    )
    session = session_of(shell)
    return session, session_graph(session)


def text(widget: Any) -> str:
    """What an HTML widget reads as (its markup unescaped)."""
    return html.unescape(widget.value)


def node_ids(graph: PipelineGraph) -> set[str]:
    return {w.data["id"] for w in graph.cytoscape.graph.nodes if w.classes != "group"}


def edges(graph: PipelineGraph) -> set[tuple[str, str]]:
    return {(e.data["source"], e.data["target"]) for e in graph.cytoscape.graph.edges}


def test_the_palette_groups_and_searches_the_library(built: tuple[Any, PipelineGraph]) -> None:
    _, graph = built
    graph.builder.act("add")
    palette = graph.builder.panel.children[0]
    assert palette.sections.titles == ("sink", "source", "transform")
    palette.search.value = "keep rows"
    assert palette.visible() == ["filter", "limit"]
    palette.search.value = "parquet"
    assert set(palette.visible()) == {"read_parquet", "write_parquet"}


def test_adding_a_filter_from_a_form_changes_the_kernel_pipeline(
    shell: Any, built: tuple[Any, PipelineGraph]
) -> None:
    session, graph = built
    form = graph.builder.open_form("filter")
    fields = {f.name: f for f in form.fields}
    assert fields["input"].widget.options == ("", "orders")  # inputs chosen from the nodes
    assert "parameter 'input' is required" in text(form.errors)
    fields["input"].widget.value = "orders"
    fields["condition"].widget.value = "amount >"
    # The same error the YAML cell gives, inline:
    assert "'condition' is not a valid SQL expression: 'amount >'" in text(form.errors)
    fields["condition"].widget.value = "amount > 0"
    assert form.errors.value == ""
    form.name.value = "paid"
    form.submit()
    assert "paid" in session.pipeline.nodes and ("orders", "paid") in edges(graph)
    cell = graph.builder.panel.children[0].children[1].value
    assert cell == "%%pipeline paid --component filter\ninput: orders\ncondition: amount > 0"
    # %pipeline run sees the builder's node at once, and runs it.
    shell.run_line_magic("pipeline", "run")
    assert shell.user_ns["paid"].height == 3
    statuses = {w.data["id"]: w.data["status"] for w in graph.cytoscape.graph.nodes}
    assert statuses["paid"] == "succeeded"


def test_column_parameters_offer_the_input_s_columns(built: tuple[Any, PipelineGraph]) -> None:
    _, graph = built
    form = graph.builder.open_form("aggregate")
    fields = {f.name: f for f in form.fields}
    assert fields["by"].widget.allowed_tags == []
    fields["input"].widget.value = "orders"
    assert fields["by"].widget.allowed_tags == ["id", "amount", "region"]
    fields["by"].widget.value = ["region"]
    fields["aggs"].widget.value = "total: sum(amount)"
    form.submit()
    assert graph.builder.session.pipeline.nodes["aggregate_1"].params == {
        "input": "orders",
        "by": ["region"],
        "aggs": {"total": "sum(amount)"},
    }


def test_connect_rename_delete_and_undo_redo(built: tuple[Any, PipelineGraph]) -> None:
    session, graph = built
    builder = graph.builder
    session.define("other --no-run", "orders.head(2)")
    form = builder.open_form("limit")
    {f.name: f for f in form.fields}["n"].widget.value = "1"
    form.submit()  # no input yet: refused, the form says why
    assert "limit_1" not in session.pipeline.nodes and "'input' is required" in text(form.errors)
    {f.name: f for f in form.fields}["input"].widget.value = "orders"
    form.submit()
    assert ("orders", "limit_1") in edges(graph)
    # connect mode: click the source, then the node that reads it
    builder.buttons["connect"].value = True
    graph._clicked_node({"data": {"id": "other"}})
    graph._clicked_node({"data": {"id": "limit_1"}})
    assert session.pipeline.nodes["limit_1"].params["input"] == "other"
    assert ("other", "limit_1") in edges(graph) and ("orders", "limit_1") not in edges(graph)
    assert builder.buttons["connect"].value is False
    # a code node reads what its code names: connecting into it says so
    builder.connect("limit_1", "other")
    assert "edit its cell" in text(builder.message)
    graph._clicked_node({"data": {"id": "limit_1"}})
    builder.rename("limit_1", "top")
    assert "top" in session.pipeline.nodes and "top" in node_ids(graph)
    builder.rename("orders", "raw")  # a code cell reads it by name
    assert "the code of other reads it by name" in text(builder.message)
    graph._clicked_node({"data": {"id": "top"}})
    builder.act("delete")
    assert "delete node <b>top</b>?" in builder.panel.children[0].children[0].value
    builder.delete("top")
    assert node_ids(graph) == {"orders", "other"}
    builder.undo()
    assert "top" in node_ids(graph) and ("other", "top") in edges(graph)
    builder.undo()
    assert "limit_1" in node_ids(graph)
    builder.redo()
    builder.redo()
    assert node_ids(graph) == {"orders", "other"}
    assert builder.buttons["redo"].disabled
    session.define("later --no-run", "1")  # a cell: undo would undo it too, so the history goes
    assert builder.buttons["undo"].disabled


def test_dragged_positions_are_kept_and_exported(
    shell: Any, built: tuple[Any, PipelineGraph], tmp_path: Path
) -> None:
    session, graph = built
    graph.builder._moved({"data": {"id": "orders"}, "position": {"x": 120.5, "y": 40}})
    assert session.pipeline.nodes["orders"].position == (120.5, 40.0)
    shell.run_cell("%%pipeline doubled\norders.with_columns(pl.col('amount') * 2)")
    assert session.pipeline.nodes["orders"].position == (120.5, 40.0)  # a re-run keeps it
    path = tmp_path / "built.ipynb"
    shell.run_line_magic("pipeline", f"export {path}")
    cells = json.loads(path.read_text())["cells"]
    orders = next(c for c in cells if "".join(c["source"]).startswith("%%pipeline orders"))
    assert orders["metadata"]["pipeline_lab"] == {"position": [120.5, 40.0]}


def test_an_exported_pipeline_runs_headless_with_the_same_results(
    shell: Any, built: tuple[Any, PipelineGraph], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, graph = built
    form = graph.builder.open_form("filter")
    fields = {f.name: f for f in form.fields}
    fields["input"].widget.value = "orders"
    fields["condition"].widget.value = "amount > 0"
    form.name.value = "paid"
    form.submit()
    shell.run_cell("%%pipeline total\nfloat(paid['amount'].sum())", store_history=True)
    in_kernel = shell.user_ns["total"]
    path = tmp_path / "exported.ipynb"
    shell.run_line_magic("pipeline", f"export {path}")
    capsys.readouterr()
    assert main(["run", str(path), "--json"]) == 0
    ran = json.loads(capsys.readouterr().out)
    assert set(ran["nodes"]) == {"orders", "paid", "total"}
    assert ran["nodes"]["paid"]["rows"] == 3 and in_kernel == 32.5
    assert main(["run", str(path), "--only", "total", "--json"]) == 0


def test_names_and_values_in_the_builder_stay_text(built: tuple[Any, PipelineGraph]) -> None:
    _, graph = built
    form = graph.builder.open_form("filter")
    fields = {f.name: f for f in form.fields}
    fields["input"].widget.value = "orders"
    fields["condition"].widget.value = HOSTILE
    assert "<img" not in form.errors.value and "&lt;img" in form.errors.value
    form.name.value = HOSTILE
    assert "<img" not in form.errors.value
    graph.builder.say(HOSTILE)
    assert "<img" not in graph.builder.message.value


def test_a_required_number_starts_blank_and_must_be_one(built: tuple[Any, PipelineGraph]) -> None:
    _, graph = built
    form = graph.builder.open_form("limit")
    fields = {f.name: f for f in form.fields}
    fields["input"].widget.value = "orders"
    assert fields["n"].widget.value == ""  # never a silent 0 rows
    assert "parameter 'n' is required" in text(form.errors)
    fields["n"].widget.value = "ten"
    assert "n: 'ten' is not a whole number" in text(form.errors)
    fields["n"].widget.value = "2"
    assert text(form.errors) == ""
    assert fields["offset"].widget.value == 0  # an optional number shows its default


def test_rename_moves_the_value_and_status_and_undo_moves_them_back(
    shell: Any, built: tuple[Any, PipelineGraph]
) -> None:
    _, graph = built
    graph.builder.rename("orders", "sales")
    shown = {w.data["id"]: w.data for w in graph.cytoscape.graph.nodes}
    assert shown["sales"]["status"] == "succeeded" and shown["sales"]["rows"] == 4
    assert "sales" in shell.user_ns and "orders" not in shell.user_ns
    graph.builder.undo()
    shown = {w.data["id"]: w.data for w in graph.cytoscape.graph.nodes}
    assert shown["orders"]["status"] == "succeeded" and "sales" not in shown
    assert shell.user_ns["orders"].height == 4 and "sales" not in shell.user_ns


def test_a_node_may_not_take_the_name_of_a_kernel_variable(
    shell: Any, built: tuple[Any, PipelineGraph]
) -> None:
    session, graph = built
    shell.user_ns["threshold"] = 10
    graph.builder.rename("orders", "threshold")
    assert "is a variable of this kernel (a int)" in text(graph.builder.message)
    assert shell.user_ns["threshold"] == 10 and "orders" in session.pipeline.nodes
    form = graph.builder.open_form("limit")
    form.name.value = "pl"
    assert "'pl' is a variable of this kernel (a module)" in text(form.errors)


def test_an_edit_form_keeps_what_its_widgets_cannot_show(
    shell: Any, built: tuple[Any, PipelineGraph]
) -> None:
    session, graph = built
    session.define("later_union --no-run --component union", "inputs: [orders, later]")
    session.define("csv --no-run --component read_csv", "path: x.csv\nhas_header: 'false'")
    for name in ("later_union", "csv"):
        graph._clicked_node({"data": {"id": name}})
        form = graph.builder.edit_selected()
        assert form is not None
        assert "exists" not in text(form.errors)  # the node being edited is not a clash
        before = dict(session.pipeline.nodes[name].params)
        form.submit()
        assert dict(session.pipeline.nodes[name].params) == before


def test_an_edit_that_renames_is_one_undo_step(built: tuple[Any, PipelineGraph]) -> None:
    session, graph = built
    session.define("top --component limit", "input: orders\nn: 1")
    graph._clicked_node({"data": {"id": "top"}})
    form = graph.builder.edit_selected()
    assert form is not None
    {f.name: f for f in form.fields}["n"].widget.value = "3"
    form.name.value = "orders"
    assert "a node 'orders' exists" in text(form.errors)
    form.name.value = "top3"
    form.submit()
    assert session.pipeline.nodes["top3"].params["n"] == 3 and "top" not in session.pipeline.nodes
    graph.builder.undo()
    assert session.pipeline.nodes["top"].params["n"] == 1 and "top3" not in session.pipeline.nodes
    graph.builder.redo()
    assert session.pipeline.nodes["top3"].params["n"] == 3

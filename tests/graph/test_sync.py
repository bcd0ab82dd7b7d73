"""``Pipeline.to_notebook`` on an existing notebook: node cells patched by id, the rest kept."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pipeline_lab import Node, Pipeline, PipelineDefinitionError


def cells(path: Path) -> list[dict[str, Any]]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data["cells"]


def by_id(path: Path) -> dict[str, dict[str, Any]]:
    return {cell["id"]: cell for cell in cells(path)}


def source(cell: dict[str, Any]) -> str:
    return "".join(cell["source"])


def test_writing_back_what_was_read_changes_nothing(builder: Path) -> None:
    text = builder.read_text(encoding="utf-8")
    inode = builder.stat().st_ino
    Pipeline.from_notebook(builder).to_notebook(builder)
    assert builder.read_text(encoding="utf-8") == text
    assert builder.stat().st_ino == inode  # not even rewritten


def test_builder_edits_patch_only_the_cells_of_their_nodes(builder: Path) -> None:
    before = by_id(builder)
    pipeline = Pipeline.from_notebook(builder)
    pipeline.add(replace(pipeline.get("orders"), position=(100, 200)))  # moved on the canvas
    pipeline.add(replace(pipeline.get("paid"), checks=("amount > 1",)))  # option changed
    pipeline.remove("by_region")
    pipeline.add(Node("big", code="paid.filter(pl.col('amount') > 10)"))  # reads paid
    pipeline.to_notebook(builder)

    after = by_id(builder)
    untouched = ["intro", "params", "load", "imports", "cleaning-md", "report", "raw-notes"]
    assert {i: after[i] for i in untouched} == {i: before[i] for i in untouched}
    assert "by-region-cell" not in after
    # Moved: same source, same outputs; the position changes, unknown builder keys stay.
    assert after["orders-cell"]["metadata"] == {
        "pipeline_lab": {"collapsed": True, "position": [100.0, 200.0]},
        "tags": ["source"],
    }
    assert after["orders-cell"]["source"] == before["orders-cell"]["source"]
    assert after["orders-cell"]["outputs"] == before["orders-cell"]["outputs"]
    # Changed: a new header (its --no-run kept), the same code, id and outputs.
    assert source(after["paid-cell"]) == (
        '%%pipeline paid --check "amount > 1" --no-run\n'
        'orders.filter(pl.col("amount") > params.min_amount)'
    )
    assert after["paid-cell"]["outputs"] == before["paid-cell"]["outputs"]
    # New: right after the cell of the node it reads.
    ids = [cell["id"] for cell in cells(builder)]
    new_id = ids[ids.index("paid-cell") + 1]
    assert source(after[new_id]) == "%%pipeline big\npaid.filter(pl.col('amount') > 10)"
    assert after[new_id]["outputs"] == [] and after[new_id]["metadata"] == {}
    assert [i for i in ids if i != new_id] == [i for i in before if i != "by-region-cell"]

    again = Pipeline.from_notebook(builder)
    assert {n: replace(node, cell_id=None) for n, node in again.nodes.items()} == {
        n: replace(node, cell_id=None) for n, node in pipeline.nodes.items()
    }
    assert again.get("big").cell_id == new_id


def test_a_node_renamed_in_the_builder_keeps_its_cell(builder: Path) -> None:
    pipeline = Pipeline.from_notebook(builder)
    old = pipeline.remove("by_region")
    pipeline.add(replace(old, name="revenue"))
    pipeline.to_notebook(builder)
    cell = by_id(builder)["by-region-cell"]
    assert source(cell).startswith("%%pipeline revenue --component aggregate\n")
    assert list(Pipeline.from_notebook(builder).nodes) == ["orders", "paid", "revenue"]


def test_nodes_without_cell_ids_are_matched_by_name(builder: Path) -> None:
    """Nodes made in a kernel or by code have no cell id: their cells are found by name."""
    pipeline = Pipeline("api")
    pipeline.add(Node("orders", code="pl.DataFrame({'amount': [1, 2], 'region': ['N', 'S']})"))
    pipeline.add(Node("paid", code="orders", checks=("amount > 0",)))
    pipeline.to_notebook(builder)
    nodes = Pipeline.from_notebook(builder).nodes
    assert list(nodes) == ["orders", "paid"]
    assert (nodes["orders"].cell_id, nodes["paid"].cell_id) == ("orders-cell", "paid-cell")
    # A node without a position leaves the builder's layout alone.
    assert (nodes["orders"].position, nodes["paid"].position) == ((40.0, 80.0), (240.0, 80.0))
    assert by_id(builder)["orders-cell"]["metadata"]["pipeline_lab"]["collapsed"] is True


@pytest.mark.parametrize(
    ("new", "after"),
    [
        pytest.param(Node("top", code="orders.head(1)"), "orders-cell", id="after-its-input"),
        pytest.param(
            Node("both", code="orders.join(paid, on='region')"), "paid-cell", id="after-the-last"
        ),
        pytest.param(Node("alone", code="42"), "raw-notes", id="no-input-at-the-end"),
    ],
)
def test_where_a_new_node_goes(builder: Path, new: Node, after: str) -> None:
    pipeline = Pipeline.from_notebook(builder)
    pipeline.add(new)
    pipeline.to_notebook(builder)
    ids = [cell["id"] for cell in cells(builder)]
    new_id = Pipeline.from_notebook(builder).get(new.name).cell_id
    assert ids.index(new_id) == ids.index(after) + 1


def test_a_chain_of_new_nodes_stays_in_order(builder: Path) -> None:
    pipeline = Pipeline.from_notebook(builder)
    pipeline.add(Node("second", code="first + 1"))  # added before the node it reads
    pipeline.add(Node("first", code="len(paid)"))
    pipeline.to_notebook(builder)
    headers = [source(c).split("\n")[0] for c in cells(builder) if source(c).startswith("%%")]
    assert headers[2:4] == ["%%pipeline first", "%%pipeline second"]


def test_an_old_notebook_without_ids_is_matched_by_name_and_upgraded(
    notebooks: Path, tmp_path: Path
) -> None:
    path = Path(shutil.copy(notebooks / "no_ids.ipynb", tmp_path / "old.ipynb"))
    before = cells(path)
    pipeline = Pipeline.from_notebook(path)
    pipeline.add(replace(pipeline.get("total"), code="sum(numbers) * 2"))
    pipeline.to_notebook(path)
    after = cells(path)
    assert json.loads(path.read_text())["nbformat_minor"] == 5
    assert [source(c) for c in after] == [
        source(before[0]),
        source(before[1]),
        "%%pipeline total\nsum(numbers) * 2",
    ]
    assert after[1]["outputs"] == before[1]["outputs"]
    assert Pipeline.from_notebook(path).run(hooks=[]).outputs["total"] == 12


def test_a_duplicate_cell_is_left_to_validate(notebooks: Path, tmp_path: Path) -> None:
    """Two cells define 'total': the later one (the one a reader keeps) is updated."""
    path = Path(shutil.copy(notebooks / "duplicate.ipynb", tmp_path / "dup.ipynb"))
    pipeline = Pipeline("dup")
    pipeline.add(Node("total", code="41 + 1"))
    pipeline.to_notebook(path)
    assert [source(c) for c in cells(path)][-1] == "%%pipeline total\n41 + 1"
    again = Pipeline.from_notebook(path)
    assert again.get("total").code == "41 + 1"
    assert [i.code for i in again.validate()] == ["duplicate-node"]


def test_a_function_node_stops_the_update_before_it_starts(builder: Path) -> None:
    text = builder.read_text(encoding="utf-8")
    pipeline = Pipeline.from_notebook(builder)
    pipeline.add(Node.from_function(lambda paid: len(paid), name="count"))
    with pytest.raises(PipelineDefinitionError, match="function node") as info:
        pipeline.to_notebook(builder)
    assert info.value.node == "count"
    assert builder.read_text(encoding="utf-8") == text

"""``patch_notebook``: edit cells by id; every other cell, output and byte of layout stays."""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

from pipeline_lab import PipelineDefinitionError
from pipeline_lab.graph import CellEdit, InsertCell, RemoveCell, ReplaceCell, patch_notebook

CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
BUILDER_IDS = [
    "intro",
    "params",
    "load",
    "imports",
    "orders-cell",
    "cleaning-md",
    "paid-cell",
    "by-region-cell",
    "report",
    "raw-notes",
]


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def cells_by_id(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {cell["id"]: cell for cell in data["cells"]}


def source(cell: dict[str, Any]) -> str:
    return "".join(cell["source"])


def test_cells_no_edit_names_stay_exactly_as_they_were(builder: Path) -> None:
    before = load(builder)
    new = patch_notebook(
        builder,
        [
            ReplaceCell("paid-cell", source="%%pipeline paid\norders"),
            InsertCell("%%pipeline big\npaid", after="paid-cell"),
            RemoveCell("cleaning-md"),
        ],
    )
    after = load(builder)
    kept = {k: v for k, v in cells_by_id(before).items() if k not in ("paid-cell", "cleaning-md")}
    assert {k: cells_by_id(after)[k] for k in kept} == kept
    assert [c["id"] for c in after["cells"]] == [
        *BUILDER_IDS[:5],
        "paid-cell",
        new[0],
        *BUILDER_IDS[7:],
    ]
    assert {k: v for k, v in after.items() if k != "cells"} == {
        k: v for k, v in before.items() if k != "cells"
    }
    intro = cells_by_id(after)["intro"]
    assert intro["attachments"] == cells_by_id(before)["intro"]["attachments"]
    assert "![logo](attachment:logo.png)" in source(intro)
    assert cells_by_id(after)["report"]["outputs"][0]["data"]["image/png"].startswith("iVBOR")


def test_a_replaced_cell_keeps_its_outputs_and_other_metadata(builder: Path) -> None:
    before = cells_by_id(load(builder))["orders-cell"]
    patch_notebook(builder, [ReplaceCell("orders-cell", source="%%pipeline orders\n1\n")])
    after = cells_by_id(load(builder))["orders-cell"]
    assert after["source"] == ["%%pipeline orders\n", "1\n"]
    assert {k: v for k, v in after.items() if k != "source"} == {
        k: v for k, v in before.items() if k != "source"
    }


@pytest.mark.parametrize(
    ("edit", "order"),
    [
        pytest.param(InsertCell("x = 1"), [*BUILDER_IDS, "NEW"], id="insert-at-the-end"),
        pytest.param(
            InsertCell("x = 1", after="orders-cell"),
            [*BUILDER_IDS[:5], "NEW", *BUILDER_IDS[5:]],
            id="insert-after",
        ),
        pytest.param(
            InsertCell("x = 1", before="intro"), ["NEW", *BUILDER_IDS], id="insert-before-the-first"
        ),
        pytest.param(
            InsertCell("x = 1", after="raw-notes"),
            [*BUILDER_IDS, "NEW"],
            id="insert-after-the-last",
        ),
        pytest.param(
            RemoveCell("report"),
            [i for i in BUILDER_IDS if i != "report"],
            id="remove",
        ),
        pytest.param(ReplaceCell("report", source="print(1)"), BUILDER_IDS, id="replace-in-place"),
    ],
)
def test_where_edits_put_cells(builder: Path, edit: CellEdit, order: list[str]) -> None:
    new = patch_notebook(builder, [edit])
    ids = [c["id"] for c in load(builder)["cells"]]
    assert ids == [new[0] if i == "NEW" else i for i in order]


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        pytest.param(
            {"position": [1, 2]},
            {"collapsed": True, "position": [1, 2]},
            id="update-one-key-keep-the-others",
        ),
        pytest.param({"position": None}, {"collapsed": True}, id="none-removes-a-key"),
        pytest.param({"collapsed": None, "position": None}, None, id="nothing-left-no-key"),
        pytest.param(
            {"ports": {"out": ["a"]}},
            {"collapsed": True, "ports": {"out": ["a"]}, "position": [40, 80]},
            id="new-key",
        ),
    ],
)
def test_builder_state_is_merged_into_the_cell_metadata(
    builder: Path, state: dict[str, Any], expected: dict[str, Any] | None
) -> None:
    before = cells_by_id(load(builder))["orders-cell"]
    patch_notebook(builder, [ReplaceCell("orders-cell", pipeline_lab=state)])
    after = cells_by_id(load(builder))["orders-cell"]
    assert after["metadata"].get("pipeline_lab") == expected
    assert after["metadata"]["tags"] == ["source"]
    assert after["source"] == before["source"] and after["outputs"] == before["outputs"]


def test_a_new_cell_is_a_clean_code_cell_with_a_fresh_id(builder: Path) -> None:
    first, second, third = patch_notebook(
        builder,
        [
            InsertCell("%%pipeline a\n1", pipeline_lab={"position": (3, 4)}),
            InsertCell("Some *text*", cell_type="markdown"),
            InsertCell("y = 2", cell_id="chosen-id"),
        ],
    )
    cells = cells_by_id(load(builder))
    assert cells[first] == {
        "cell_type": "code",
        "execution_count": None,
        "id": first,
        "metadata": {"pipeline_lab": {"position": [3, 4]}},
        "outputs": [],
        "source": ["%%pipeline a\n", "1"],
    }
    assert cells[second] == {
        "cell_type": "markdown",
        "id": second,
        "metadata": {},
        "source": ["Some *text*"],
    }
    assert third == "chosen-id"
    assert CELL_ID.match(first) and CELL_ID.match(second)
    assert len(set(cells)) == len(load(builder)["cells"])


def test_a_patch_changes_only_the_lines_of_the_cell_it_edits(builder: Path) -> None:
    before = builder.read_text(encoding="utf-8").splitlines()
    patch_notebook(builder, [ReplaceCell("report", source="print(by_region)\nby_region.head()")])
    after = builder.read_text(encoding="utf-8").splitlines()
    changed = [line for line in difflib.ndiff(before, after) if line.startswith(("- ", "+ "))]
    assert changed == [
        '-     "print(by_region)"',
        '+     "print(by_region)\\n",',
        '+     "by_region.head()"',
    ]


def test_nothing_to_change_writes_nothing(builder: Path) -> None:
    inode = builder.stat().st_ino
    patch_notebook(builder, [])
    patch_notebook(builder, [ReplaceCell("orders-cell", pipeline_lab={"position": [40, 80]})])
    assert builder.stat().st_ino == inode  # never replaced


@pytest.mark.parametrize(
    ("edit", "message", "hint"),
    [
        pytest.param(
            RemoveCell("paid_cell"),
            "builder.ipynb: no cell has the id 'paid_cell'",
            "did you mean 'paid-cell'?",
            id="remove-unknown",
        ),
        pytest.param(
            ReplaceCell("nope", source="1"),
            "no cell has the id 'nope'",
            "Node.cell_id",
            id="replace-unknown",
        ),
        pytest.param(
            InsertCell("1", after="reprot"),
            "no cell has the id 'reprot'",
            "did you mean 'report'?",
            id="insert-after-unknown",
        ),
        pytest.param(
            InsertCell("1", before="nope"),
            "no cell has the id 'nope'",
            "Node.cell_id",
            id="insert-before-unknown",
        ),
        pytest.param(
            InsertCell("1", cell_id="report"),
            "a cell already has the id 'report'",
            "leave cell_id out",
            id="insert-with-a-taken-id",
        ),
    ],
)
def test_a_bad_edit_names_the_id_and_changes_nothing(
    builder: Path, edit: CellEdit, message: str, hint: str
) -> None:
    text = builder.read_text(encoding="utf-8")
    # A good edit first: the bad one must stop the whole patch, not leave half of it.
    with pytest.raises(PipelineDefinitionError) as info:
        patch_notebook(builder, [RemoveCell("intro"), edit])
    assert message in info.value.message
    assert hint in (info.value.hint or "")
    assert builder.read_text(encoding="utf-8") == text


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(
            lambda: InsertCell("1", after="a", before="b"), "after='a' and before='b'", id="both"
        ),
        pytest.param(lambda: InsertCell("1", cell_id="has space"), "not a valid cell id", id="id"),
        pytest.param(lambda: InsertCell("1", cell_id="x" * 65), "not a valid cell id", id="long"),
        pytest.param(lambda: InsertCell("1", cell_type="heading"), "cell_type", id="cell-type"),  # type: ignore[arg-type]
        pytest.param(lambda: ReplaceCell("a"), "nothing to replace", id="empty-replace"),
        pytest.param(
            lambda: ReplaceCell("a", pipeline_lab={"position": {1, 2}}),
            "cannot be stored in a notebook",
            id="not-json",
        ),
    ],
)
def test_an_edit_that_cannot_work_is_refused_when_made(make: Any, message: str) -> None:
    with pytest.raises(PipelineDefinitionError, match=re.escape(message)):
        make()


def test_a_shared_id_is_refused_naming_the_cells(builder: Path) -> None:
    data = load(builder)
    data["cells"][9]["id"] = "report"
    builder.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(PipelineDefinitionError, match="cells 9 and 10 share the id 'report'"):
        patch_notebook(builder, [RemoveCell("report")])


def test_a_notebook_without_ids_gets_them(notebooks: Path, tmp_path: Path) -> None:
    path = Path(shutil.copy(notebooks / "no_ids.ipynb", tmp_path / "old.ipynb"))
    before = load(path)
    with pytest.raises(PipelineDefinitionError) as info:
        patch_notebook(path, [RemoveCell("anything")])
    assert "nbformat 4.4, whose cells have no ids" in (info.value.hint or "")
    assert "patch_notebook(path, [])" in (info.value.hint or "")
    assert load(path) == before
    patch_notebook(path, [])
    after = load(path)
    assert after["nbformat_minor"] == 5
    ids = [cell.pop("id") for cell in after["cells"]]
    assert all(CELL_ID.match(i) for i in ids) and len(set(ids)) == len(ids)
    assert after["cells"] == before["cells"]
    nbformat = pytest.importorskip("nbformat")
    nbformat.validate(nbformat.read(path, as_version=4))


def test_patching_is_atomic(builder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = builder.read_text(encoding="utf-8")

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        patch_notebook(builder, [RemoveCell("intro")])
    assert builder.read_text(encoding="utf-8") == text
    assert [p.name for p in builder.parent.iterdir()] == ["builder.ipynb"]


def test_patching_keeps_the_mode_of_the_file(builder: Path) -> None:
    builder.chmod(0o640)
    patch_notebook(builder, [RemoveCell("intro")])
    assert stat.S_IMODE(builder.stat().st_mode) == 0o640


def test_a_one_line_notebook_stays_one_line(tmp_path: Path) -> None:
    path = tmp_path / "compact.ipynb"
    cell = {"cell_type": "code", "id": "a", "metadata": {}, "outputs": [], "source": "1"}
    path.write_text(
        json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    patch_notebook(path, [ReplaceCell("a", source="2\n3")])
    text = path.read_text()
    assert "\n" not in text
    assert json.loads(text)["cells"][0]["source"] == "2\n3"  # a string source stays a string


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        pytest.param(lambda: ReplaceCell("report", source=123), "source of type int", id="number"),
        pytest.param(lambda: InsertCell(["a", "b"]), "source of type list", id="list-source"),
        pytest.param(
            lambda: ReplaceCell("report", pipeline_lab={"position": [float("nan"), 1.0]}),
            "cannot be stored in a notebook",
            id="nan-position",
        ),
        pytest.param(
            lambda: InsertCell("x", pipeline_lab={"zoom": float("inf")}),
            "cannot be stored in a notebook",
            id="infinite-value",
        ),
    ],
)
def test_edits_jupyter_could_not_open_are_refused(make: Any, expected: str) -> None:
    """A number as source or NaN in metadata would write a notebook Jupyter cannot read."""
    with pytest.raises(PipelineDefinitionError, match=expected):
        make()

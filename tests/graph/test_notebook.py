"""Notebook <-> pipeline: cell roles, skipped magics, clear errors, faithful write-back."""

from __future__ import annotations

import errno
import json
import os
import stat
import warnings
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pipeline_lab import Node, Pipeline, PipelineDefinitionError, RetryPolicy
from pipeline_lab.errors import PipelineLabWarning
from pipeline_lab.graph import Cell, write_notebook

MakeNotebook = Callable[..., Path]


def without_indexes(data: dict[str, Any]) -> dict[str, Any]:
    """A pipeline's dict without where its cells are (their indexes and ids)."""
    data = dict(data)
    for role in ("setup", "reports"):
        data[role] = [cell["code"] for cell in data[role]]
    data["nodes"] = [without_id(node) for node in data["nodes"]]
    return data


def _cell(**fields: Any) -> dict[str, Any]:
    return {"cell_type": "code", "metadata": {}, "outputs": [], "source": "x = 1"} | fields


def without_id(node: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in node.items() if k != "cell_id"}


# -- reading ------------------------------------------------------------------------------------


def test_sales_notebook_roles(notebooks: Path) -> None:
    pipeline = Pipeline.from_notebook(notebooks / "sales.ipynb")
    assert pipeline.name == "sales"
    assert pipeline.params == {"min_amount": 0, "region": "North", "limit": 3}
    assert pipeline.param_code == 'min_amount = 0\nregion = "North"\nlimit = 3'
    assert list(pipeline.nodes) == ["orders", "paid_orders", "by_region"]
    paid = pipeline.nodes["paid_orders"]
    assert paid.checks == ("amount > 0",)
    assert paid.retry == RetryPolicy(retries=1, delay=0.01)
    assert pipeline.nodes["by_region"].tags == ("report",)
    # `%load_ext` alone is no setup cell; `%matplotlib inline` disappears from the import cell.
    assert [c.index for c in pipeline.setup] == [3, 4]
    assert pipeline.setup[0].code == "import polars as pl\npass"
    assert pipeline.setup[1].code.startswith("def cents(amount):")
    # Report cells: the one reading a node, and the one reading what that report made.
    assert [c.index for c in pipeline.reports] == [9, 10]
    assert pipeline.notices == []
    assert pipeline.validate() == []


def test_sales_notebook_reads_without_warnings(notebooks: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Pipeline.from_notebook(notebooks / "sales.ipynb")


def test_sales_notebook_graph(notebooks: Path) -> None:
    pipeline = Pipeline.from_notebook(notebooks / "sales.ipynb")
    assert pipeline.order() == ["orders", "paid_orders", "by_region"]
    assert pipeline.dependencies("by_region") == ("paid_orders",)
    assert pipeline.parameters_of("paid_orders") == ("min_amount",)
    assert pipeline.parameters_of("by_region") == ("limit",)


def test_unknown_magics_are_skipped_with_warnings(notebooks: Path) -> None:
    with pytest.warns(PipelineLabWarning) as record:
        pipeline = Pipeline.from_notebook(notebooks / "magics.ipynb")
    messages = [str(w.message) for w in record]
    assert len(messages) == 3
    assert "skipped '%timeit math.sqrt(2)'" in messages[0]
    assert "cell 2" in messages[0]
    assert "skipped '!ls'" in messages[1]
    assert "cell magic %%bash" in messages[2]
    assert pipeline.notices == messages
    # `%timeit` became `pass`, so the import above it still counts; `!ls` left nothing.
    assert [c.index for c in pipeline.setup] == [1, 5]
    assert pipeline.setup[0].code == "import math\npass"
    assert list(pipeline.nodes) == ["answer"]


def test_notebook_with_skipped_magics_still_runs(notebooks: Path) -> None:
    with pytest.warns(PipelineLabWarning):
        pipeline = Pipeline.from_notebook(notebooks / "magics.ipynb")
    result = pipeline.run(hooks=[])
    assert result.status == "succeeded", result.setup_error
    assert result.outputs == {"answer": 42}


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("%load_ext pipeline_lab", id="load_ext"),
        pytest.param("%matplotlib inline", id="matplotlib"),
        pytest.param("%autoreload 2", id="autoreload"),
        pytest.param("%pipeline run", id="pipeline-line-magic"),
    ],
)
def test_kernel_only_magics_are_skipped_silently(make_notebook: MakeNotebook, line: str) -> None:
    path = make_notebook(f"x = 1\n{line}\ny = 2")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pipeline = Pipeline.from_notebook(path)
    assert [c.code for c in pipeline.setup] == ["x = 1\npass\ny = 2"]


def test_indented_magic_keeps_the_block_valid(make_notebook: MakeNotebook) -> None:
    path = make_notebook("if True:\n    %time x = 1\n")
    with pytest.warns(PipelineLabWarning, match="%time x = 1"):
        pipeline = Pipeline.from_notebook(path)
    assert pipeline.setup[0].code == "if True:\n    pass"


def test_parameters_cell(make_notebook: MakeNotebook) -> None:
    path = make_notebook(
        (
            "day = '2024-01-01'\nlimit: int = 10\nratio = 0.5\nflags = {'a': [1, 2]}\n"
            "computed = len(day)\n# a comment\n",
            ["parameters"],
        ),
        "%%pipeline n\nlimit",
    )
    pipeline = Pipeline.from_notebook(path)
    assert pipeline.params == {
        "day": "2024-01-01",
        "limit": 10,
        "ratio": 0.5,
        "flags": {"a": [1, 2]},
        "computed": None,  # not a literal: known once the cell runs
    }
    assert pipeline.setup == []
    assert pipeline.parameters_of("n") == ("limit",)


def test_computed_parameter_gets_its_value_in_a_run(make_notebook: MakeNotebook) -> None:
    path = make_notebook(("day = 'monday'\nn = len(day)", ["parameters"]), "%%pipeline out\nn * 2")
    pipeline = Pipeline.from_notebook(path)
    assert pipeline.run(hooks=[]).outputs == {"out": 12}
    assert pipeline.run(hooks=[], params={"n": 1}).outputs == {"out": 2}


def test_parameters_bound_by_unpacking_starred_walrus_or_augmented_assignment(
    make_notebook: MakeNotebook,
) -> None:
    path = make_notebook(
        (
            "a, b = 1, 2\nfirst, *rest = [1, 2, 3]\nn = 5\nn += 1\n"
            "if (m := n * 2) > 0:\n    pass\nlimits = {'k': 1}\nlimits['k'] = 9\n",
            ["parameters"],
        ),
        "%%pipeline out\n(a, b, first, rest, n, m, limits)",
    )
    pipeline = Pipeline.from_notebook(path)
    assert pipeline.params == {
        "a": None, "b": None, "first": None, "rest": None, "n": None, "m": None,
        "limits": {"k": 1},  # an item assignment changes the value, it binds no new name
    }  # fmt: skip
    assert set(pipeline.parameters_of("out")) == {"a", "b", "first", "rest", "n", "m", "limits"}
    assert pipeline.validate() == []
    assert pipeline.run(hooks=[]).outputs == {"out": (1, 2, 1, [2, 3], 6, 12, {"k": 9})}
    overridden = pipeline.run(hooks=[], params={"b": 20, "n": 1})
    assert overridden.outputs == {"out": (1, 20, 1, [2, 3], 1, 2, {"k": 9})}


def test_parameters_cell_changing_an_override_in_place_leaves_the_callers_value(
    make_notebook: MakeNotebook,
) -> None:
    path = make_notebook(
        ("items = [1]\nitems.append(99)", ["parameters"]), "%%pipeline out\nlen(items)"
    )
    pipeline = Pipeline.from_notebook(path)
    mine = [1, 2]
    assert pipeline.run(hooks=[], params={"items": mine}).outputs == {"out": 3}
    assert pipeline.run(hooks=[], params={"items": mine}).outputs == {"out": 3}
    assert mine == [1, 2]


def test_parameters_cell_with_syntax_error(make_notebook: MakeNotebook) -> None:
    path = make_notebook(("x = (", ["parameters"]))
    with pytest.raises(
        PipelineDefinitionError,
        match=r"nb.ipynb, cell 1: syntax error in the parameters cell, line 1",
    ):
        Pipeline.from_notebook(path)


def test_non_code_cells_and_empty_cells_are_ignored(make_notebook: MakeNotebook) -> None:
    path = make_notebook(
        {"cell_type": "markdown", "metadata": {}, "source": "x = undefined"},
        {"cell_type": "raw", "metadata": {}, "source": "%%pipeline nope\n1"},
        "   \n",
        "%%pipeline a\n1",
    )
    pipeline = Pipeline.from_notebook(path)
    assert list(pipeline.nodes) == ["a"]
    assert pipeline.setup == [] and pipeline.reports == []


def test_source_as_a_single_string(make_notebook: MakeNotebook) -> None:
    path = make_notebook({"cell_type": "code", "metadata": {}, "source": "%%pipeline a\n41 + 1"})
    assert Pipeline.from_notebook(path).run(hooks=[]).outputs == {"a": 42}


def test_two_cells_defining_the_same_node(notebooks: Path) -> None:
    pipeline = Pipeline.from_notebook(notebooks / "duplicate.ipynb")
    assert pipeline.duplicates == ["total"]
    (issue,) = pipeline.validate()
    assert (issue.code, issue.node) == ("duplicate-node", "total")
    with pytest.raises(PipelineDefinitionError, match="defined by more than one cell"):
        pipeline.run(hooks=[])


def test_bad_header_names_the_cell(make_notebook: MakeNotebook) -> None:
    path = make_notebook("x = 1", "%%pipeline orders --retries many\n1")
    with pytest.raises(PipelineDefinitionError) as info:
        Pipeline.from_notebook(path)
    assert info.value.message.startswith("nb.ipynb, cell 2: ")
    assert (info.value.hint or "").startswith("usage:")


def test_syntax_error_in_ordinary_cell(make_notebook: MakeNotebook) -> None:
    path = make_notebook("x = 1", "def broken(:\n    pass")
    with pytest.raises(
        PipelineDefinitionError, match=r"nb.ipynb, cell 2: syntax error in this cell, line 1"
    ):
        Pipeline.from_notebook(path)


def test_missing_notebook_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "missing.ipynb"
    with pytest.raises(PipelineDefinitionError) as info:
        Pipeline.from_notebook(path)
    assert str(path) in info.value.message
    assert "does not exist" in info.value.message


def test_directory_is_not_a_notebook(tmp_path: Path) -> None:
    with pytest.raises(PipelineDefinitionError, match="is a directory"):
        Pipeline.from_notebook(tmp_path)


@pytest.mark.parametrize(
    ("name", "in_message"),
    [
        pytest.param("not_a_notebook.ipynb", "not valid notebook JSON", id="plain-text"),
        pytest.param("no_cells.ipynb", "no 'cells' list", id="json-without-cells"),
    ],
)
def test_not_a_notebook(notebooks: Path, name: str, in_message: str) -> None:
    with pytest.raises(PipelineDefinitionError) as info:
        Pipeline.from_notebook(notebooks / name)
    assert "is not a Jupyter notebook" in info.value.message
    assert in_message in info.value.message
    assert name in info.value.message
    assert info.value.hint == "pass a .ipynb file saved by Jupyter"


@pytest.mark.parametrize(
    ("name", "in_message", "in_hint"),
    [
        pytest.param(
            "nbformat3.ipynb",
            ["is an nbformat 3 notebook", "reads nbformat 4"],
            "jupyter nbconvert --to notebook --nbformat 4 --output nbformat3_v4.ipynb",
            id="nbformat-3-with-worksheets",
        ),
        pytest.param(
            "nbformat_string.ipynb",
            ['has "nbformat": "4", which is not a version number'],
            '"nbformat": 4 (a number, without quotes)',
            id="nbformat-as-a-string",
        ),
        pytest.param(
            "damaged_cells.ipynb",
            ["is damaged: cell 2 is a JSON string", "not a cell object"],
            "restore the file",
            id="cells-holding-non-dicts",
        ),
    ],
)
def test_bad_notebook_files_say_what_they_are(
    notebooks: Path, name: str, in_message: list[str], in_hint: str
) -> None:
    with pytest.raises(PipelineDefinitionError) as info:
        Pipeline.from_notebook(notebooks / name)
    assert name in info.value.message
    for text in in_message:
        assert text in info.value.message
    assert in_hint in (info.value.hint or "")


@pytest.mark.parametrize("opening", ["[", '{"a": '])
def test_json_nested_too_deeply_is_refused(tmp_path: Path, opening: str) -> None:
    path = tmp_path / "deep.ipynb"
    closing = "]" if opening == "[" else "}"
    path.write_text('{"cells": [' + opening * 100_000 + "1" + closing * 100_000 + "]}")
    with pytest.raises(PipelineDefinitionError, match="nested too deeply"):
        Pipeline.from_notebook(path)


@pytest.mark.parametrize(
    ("content", "in_message"),
    [
        pytest.param({"cells": [], "nbformat": 5}, "nbformat 5 notebook", id="newer"),
        pytest.param({"cells": [], "nbformat": True}, "true, which is not", id="boolean"),
        pytest.param({"cells": [None], "nbformat": 4}, "cell 1 is a JSON null", id="null"),
        pytest.param({"cells": [[1]], "nbformat": 4}, "cell 1 is a JSON array", id="array"),
        pytest.param(
            {"cells": [_cell(metadata={"tags": None})], "nbformat": 4},
            'cell 1 has "metadata.tags": null, not a list of strings',
            id="tags-null",
        ),
        pytest.param(
            {"cells": [_cell(metadata={"tags": "parameters"})], "nbformat": 4},
            'cell 1 has "metadata.tags": "parameters", not a list of strings',
            id="tags-a-string",
        ),
        pytest.param(
            {"cells": [_cell(), _cell(source=["%%pipeline a\n", 5])], "nbformat": 4},
            r'cell 2 has "source": \["%%pipeline a\\n", 5\], not a string or a list of strings',
            id="number-in-source",
        ),
        pytest.param(
            {"cells": [_cell(source=None)], "nbformat": 4},
            'cell 1 has "source": null',
            id="source-null",
        ),
        pytest.param(
            {"cells": [_cell(cell_type=None)], "nbformat": 4},
            'cell 1 has "cell_type": null, not a string',
            id="cell-type-null",
        ),
        pytest.param(
            {"cells": [_cell(metadata=[1])], "nbformat": 4},
            r'cell 1 has "metadata": \[1\], not an object',
            id="metadata-a-list",
        ),
        pytest.param(
            {"cells": [_cell(source="%%pipeline a\n'\ud800'")], "nbformat": 4},
            r"cell 1 holds a lone UTF-16 surrogate \('\\ud800'\)",
            id="lone-surrogate",
        ),
    ],
)
def test_bad_notebook_contents_are_errors_not_crashes(
    tmp_path: Path, content: object, in_message: str
) -> None:
    path = tmp_path / "bad.ipynb"
    path.write_text(json.dumps(content))
    with pytest.raises(PipelineDefinitionError, match=in_message):
        Pipeline.from_notebook(path)


def test_old_nbformat_is_refused_with_the_conversion_command(tmp_path: Path) -> None:
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps({"cells": [], "nbformat": 3}))
    with pytest.raises(PipelineDefinitionError, match="nbformat 3") as info:
        Pipeline.from_notebook(path)
    assert "jupyter nbconvert" in (info.value.hint or "")


def test_json_list_is_not_a_notebook(tmp_path: Path) -> None:
    path = tmp_path / "list.ipynb"
    path.write_text("[1, 2]")
    with pytest.raises(PipelineDefinitionError, match="no 'cells' list"):
        Pipeline.from_notebook(path)


def test_nodes_and_cells_know_their_cell_ids_and_positions(notebooks: Path) -> None:
    pipeline = Pipeline.from_notebook(notebooks / "builder.ipynb")
    assert {n.name: (n.cell_id, n.position) for n in pipeline.nodes.values()} == {
        "orders": ("orders-cell", (40.0, 80.0)),
        "paid": ("paid-cell", (240.0, 80.0)),
        "by_region": ("by-region-cell", None),
    }
    assert [(c.cell_id, c.index) for c in pipeline.setup] == [("imports", 3)]
    assert [(c.cell_id, c.index) for c in pipeline.reports] == [("report", 8)]
    assert pipeline.validate() == []


def test_a_notebook_without_ids_gives_nodes_none(notebooks: Path) -> None:
    pipeline = Pipeline.from_notebook(notebooks / "no_ids.ipynb")
    assert [(n.name, n.cell_id) for n in pipeline.nodes.values()] == [
        ("numbers", None),
        ("total", None),
    ]


@pytest.mark.parametrize(
    "position",
    [
        pytest.param("left", id="a-string"),
        pytest.param([1], id="one-number"),
        pytest.param([1, "2"], id="a-string-inside"),
        pytest.param([True, 2], id="a-boolean"),
    ],
)
def test_a_bad_position_is_ignored_with_a_warning(
    make_notebook: MakeNotebook, position: Any
) -> None:
    cell = {
        "cell_type": "code",
        "id": "n-cell",
        "metadata": {"pipeline_lab": {"position": position}},
        "source": "%%pipeline n\n1",
    }
    path = make_notebook(cell)
    with pytest.warns(PipelineLabWarning, match=r"nb.ipynb, cell 1: ignored metadata.pipeline_lab"):
        pipeline = Pipeline.from_notebook(path)
    assert pipeline.nodes["n"].position is None
    assert pipeline.run(hooks=[]).outputs == {"n": 1}


# -- writing ------------------------------------------------------------------------------------


def test_notebook_round_trip(notebooks: Path, tmp_path: Path) -> None:
    original = Pipeline.from_notebook(notebooks / "sales.ipynb")
    written = original.to_notebook(tmp_path / "sales.ipynb")
    again = Pipeline.from_notebook(written)
    assert without_indexes(again.to_dict()) == without_indexes(original.to_dict())
    # Twice: writing does not grow the notebook (no extra cells per round trip).
    again.to_notebook(tmp_path / "sales.ipynb")
    third = Pipeline.from_notebook(tmp_path / "sales.ipynb")
    assert without_indexes(third.to_dict()) == without_indexes(original.to_dict())


def test_api_pipeline_round_trip(tmp_path: Path) -> None:
    pipeline = Pipeline(
        "api",
        params={"n": 3, "name": "x"},
        setup=[Cell("import math")],
        reports=[Cell("print(total)")],
    )
    pipeline.add(Node("numbers", code="list(range(n))", tags=("a b", "c")))
    pipeline.add(
        Node(
            "total",
            code="total = sum(numbers)\ntotal",
            checks=("status IN ('paid', 'open')", 'x = "y"'),
            retry=RetryPolicy(retries=2, delay=0.125),
            timeout=2.5,
        )
    )
    pipeline.add(Node("src", code="math.pi", inputs=()))
    pipeline.add(
        Node("filtered", component="filter", params={"condition": "a > 1"}, inputs=("numbers",))
    )
    again = Pipeline.from_notebook(pipeline.to_notebook(tmp_path / "api.ipynb"))
    assert without_indexes(again.to_dict()) == {
        **without_indexes(pipeline.to_dict()),
        "param_code": "n = 3\nname = 'x'",
    }
    assert {n: replace(node, cell_id=None) for n, node in again.nodes.items()} == pipeline.nodes
    ids = [node.cell_id for node in again.nodes.values()]
    assert all(ids) and len(set(ids)) == len(ids)  # each node knows its cell


def test_positions_round_trip_through_cell_metadata(tmp_path: Path) -> None:
    pipeline = Pipeline("p")
    pipeline.add(Node("a", code="1", position=(12.5, -3)))
    pipeline.add(Node("b", code="a + 1"))
    path = pipeline.to_notebook(tmp_path / "p.ipynb")
    cells = {c["source"][0]: c for c in json.loads(path.read_text())["cells"] if c["source"]}
    assert cells["%%pipeline a\n"]["metadata"] == {"pipeline_lab": {"position": [12.5, -3.0]}}
    assert cells["%%pipeline b\n"]["metadata"] == {}
    assert "position" not in "".join(cells["%%pipeline a\n"]["source"])  # never in the header
    back = Pipeline.from_notebook(path)
    assert [n.position for n in back.nodes.values()] == [(12.5, -3.0), None]


def test_a_pipeline_read_from_a_notebook_keeps_its_cell_ids_in_a_new_one(
    notebooks: Path, tmp_path: Path
) -> None:
    original = Pipeline.from_notebook(notebooks / "builder.ipynb")
    copy = Pipeline.from_notebook(original.to_notebook(tmp_path / "copy.ipynb"))
    assert copy.nodes == original.nodes
    assert [c.cell_id for c in copy.setup + copy.reports] == ["imports", "report"]


def test_written_notebook_is_valid_nbformat(tmp_path: Path, notebooks: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    path = Pipeline.from_notebook(notebooks / "sales.ipynb").to_notebook(tmp_path / "out.ipynb")
    nbformat.validate(nbformat.read(path, as_version=4))


def test_written_notebook_keeps_nodes_in_order(tmp_path: Path) -> None:
    pipeline = Pipeline("p")
    pipeline.add(Node("b", code="a + 1"))
    pipeline.add(Node("a", code="1"))
    path = pipeline.to_notebook(tmp_path / "p.ipynb")
    cells = json.loads(path.read_text())["cells"]
    headers = [c["source"][0] for c in cells if c["source"] and c["source"][0].startswith("%%")]
    assert headers == ["%%pipeline a\n", "%%pipeline b\n"]


@pytest.mark.parametrize(
    "fail_at", [pytest.param("link", id="new-file"), pytest.param("replace", id="update")]
)
def test_to_notebook_is_atomic(
    tmp_path: Path, notebooks: Path, monkeypatch: pytest.MonkeyPatch, fail_at: str
) -> None:
    path = tmp_path / "p.ipynb"
    if fail_at == "replace":
        path.write_text((notebooks / "sales.ipynb").read_text())
    before = path.read_text() if path.exists() else None
    pipeline = Pipeline("p")
    pipeline.add(Node("a", code="1"))

    def fail(*args: object) -> None:
        raise OSError(errno.ENOSPC, "disk full")

    monkeypatch.setattr(os, fail_at, fail)
    with pytest.raises(OSError, match="disk full"):
        pipeline.to_notebook(path)
    assert (path.read_text() if path.exists() else None) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == (["p.ipynb"] if before else [])


def test_to_notebook_creates_folders_and_a_readable_file(tmp_path: Path) -> None:
    pipeline = Pipeline("p")
    pipeline.add(Node("a", code="1"))
    path = pipeline.to_notebook(tmp_path / "new" / "dir" / "p.ipynb")
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


def test_to_notebook_keeps_the_mode_of_the_file_it_updates(tmp_path: Path, notebooks: Path) -> None:
    path = tmp_path / "p.ipynb"
    path.write_text((notebooks / "sales.ipynb").read_text())
    path.chmod(0o640)
    pipeline = Pipeline("p")
    pipeline.add(Node("a", code="1"))
    pipeline.to_notebook(path)
    assert "a" in Pipeline.from_notebook(path).nodes
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


@pytest.mark.parametrize(
    "existing",
    [
        pytest.param("notebook", id="a-notebook"),
        pytest.param("text", id="any-file"),
    ],
)
def test_write_notebook_never_replaces_a_file(
    tmp_path: Path, notebooks: Path, existing: str
) -> None:
    path = tmp_path / "p.ipynb"
    text = (notebooks / "sales.ipynb").read_text() if existing == "notebook" else "my notes"
    path.write_text(text)
    pipeline = Pipeline("p")
    pipeline.add(Node("a", code="1"))
    with pytest.raises(PipelineDefinitionError, match="already exists") as info:
        write_notebook(pipeline, path)
    assert "pipeline.to_notebook(path)" in (info.value.hint or "")
    assert path.read_text() == text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.ipynb"]


def test_function_node_cannot_be_written(tmp_path: Path) -> None:
    pipeline = Pipeline("p")
    pipeline.add(Node.from_function(lambda: 1, name="f"))
    with pytest.raises(PipelineDefinitionError, match="function node"):
        pipeline.to_notebook(tmp_path / "p.ipynb")
    assert not (tmp_path / "p.ipynb").exists()


def test_percent_lines_inside_python_are_not_magics(make_notebook: MakeNotebook) -> None:
    """A ``%`` line in a multi-line string or a continued expression is code, not a magic."""
    source = 'template = """\n%d orders\n!important\n"""\nrest = (10\n    % 3)'
    path = make_notebook(source, "%%pipeline out\n(template % rest, rest)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pipeline = Pipeline.from_notebook(path)
    assert pipeline.setup[0].code == source
    assert pipeline.run(hooks=[]).outputs == {"out": ("\n1 orders\n!important\n", 1)}


def test_component_nodes_round_trip_through_a_notebook(tmp_path: Path) -> None:
    pipeline = Pipeline("components")
    pipeline.setup.append(Cell("import polars as pl", index=2))
    pipeline.add(
        Node("orders", code="pl.DataFrame({'amount': [5, 20], 'status': ['paid', 'open']})")
    )
    pipeline.add(
        Node(
            "paid",
            component="filter",
            checks=("amount > 0",),
            params={"input": "orders", "condition": "status = 'paid' AND amount > 1"},
        )
    )
    pipeline.add(
        Node(
            "by_status",
            component="aggregate",
            params={"input": "paid", "by": ["status"], "aggs": {"total": "sum(amount)"}},
        )
    )
    path = pipeline.to_notebook(tmp_path / "components.ipynb")
    text = path.read_text()
    assert "%%pipeline paid --component filter" in text and "condition:" in text
    back = Pipeline.from_notebook(path)
    assert [without_id(n.to_dict()) for n in back.nodes.values()] == [
        n.to_dict() for n in pipeline.nodes.values()
    ]
    assert back.dependencies("by_status") == ("paid",)
    result = back.run(hooks=[])
    assert result.ok and result.outputs["by_status"]["total"].to_list() == [5]

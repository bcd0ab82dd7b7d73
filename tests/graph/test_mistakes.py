"""``validate()`` catches what a run would fail on, each problem with its node and cell.

Each case is a small notebook with one common mistake, read as ``pipeline-lab validate``
reads it (cells that cannot be read are issues, not an error that hides the others).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_lab import Node, Pipeline, PipelineDefinitionError, RetryPolicy
from pipeline_lab.graph import InvalidPipeline, read_notebook

MakeNotebook = Callable[..., Path]
Cells = list[str | tuple[str, list[str]]]
PARAMS = ["parameters"]

# (cells, the issues as (code, node, cell, severity), texts in the first issue's message,
# texts in its hint)
CASES = [
    pytest.param(
        [
            "import polars as pl",
            "%%pipeline orders\ndf = pl.DataFrame({'a': [1]})",
            "%%pipeline total\norders.height",
        ],
        [("no-output", "orders", 2, "error")],
        ["produces no output", "it assigns 'df'", "'total' reads it and would get None"],
        ["rename 'df' to 'orders'"],
        id="assigns-df-instead-of-its-name",
    ),
    pytest.param(
        ["%%pipeline save\nimport json\npath = 'out.json'\nopen(path, 'w').close()\ndone = 1"],
        [("no-output", "save", 1, "warning")],
        ["produces no output", "it assigns 'path', 'done'"],
        ["only writes a file or a table can stay as it is"],
        id="side-effect-node-is-a-warning",
    ),
    pytest.param(
        ["%%pipeline boom\nx = 1\nraise ValueError(x)", "%%pipeline after\nboom"],
        [],
        [],
        [],
        id="a-cell-that-raises-misses-no-output",
    ),
    pytest.param(
        ["import polars as pl", "print('just a notebook')"],
        [("no-nodes", None, None, "error")],
        ["has no nodes (no %%pipeline cells)"],
        ["%%pipeline NAME"],
        id="no-pipeline-cells",
    ),
    pytest.param(
        [
            "import polars as pl",
            "%%pipeline pl\npl.DataFrame({'a': [1]})",
            "%%pipeline other\npl.DataFrame({'a': [2]})",
        ],
        [("bad-name", "pl", 2, "error")],
        ["named like what setup cell 1 binds (import polars as pl)"],
        ["rename the node"],
        id="node-named-like-a-setup-import",
    ),
    pytest.param(
        ["top_n = 3\norders_csv = 'orders.csv'", "%%pipeline orders\nparams.orders_csv"],
        [("untagged-parameters", None, 1, "error")],
        ["sets orders_csv like a parameters cell", "orders reads params.orders_csv"],
        ["tag cell 1 'parameters'", "Property Inspector", "Cell Tags"],
        id="untagged-parameters-cell-read-through-params",
    ),
    pytest.param(
        ["%load_ext pipeline_lab", "top_n: int = 3", "%%pipeline n\ntop_n * 2"],
        [("untagged-parameters", None, 2, "warning")],
        [
            "sets top_n like a parameters cell",
            "it is not a pipeline parameter and -p cannot set it",
        ],
        ["tag cell 2 'parameters'"],
        id="untagged-parameters-cell-read-as-bare-names",
    ),
    pytest.param(
        [("top_n = 3", PARAMS), "%%pipeline n\nparams.top_n * top_n"],
        [],
        [],
        [],
        id="tagged-parameters-cell",
    ),
    pytest.param(
        ["%%pipeline first\n1", "LIMIT = 3", "%%pipeline n\nfirst * LIMIT"],
        [],
        [],
        [],
        id="constants-below-a-node-are-setup",
    ),
    pytest.param(
        ["%%pipeline n\nparams.limit"],
        [("unknown-parameter", "n", 1, "error")],
        ["reads params.limit"],
        ["add a parameters cell", "tagged 'parameters'"],
        id="no-parameters-cell-at-all",
    ),
    pytest.param(
        [
            ("top_n = 3", PARAMS),
            "import polars as pl",
            "%%pipeline orders\npl.DataFrame({'a': [1, 2, 3, 4]})",
            "%%pipeline few --component limit\ninput: orders\nn: :top_n",
        ],
        [("bad-parameters", "few", 4, "error")],
        ["parameter 'n' is ':top_n'", "only inside SQL text"],
        ["write the value (n: 3)"],
        id="colon-parameter-where-a-component-wants-an-int",
    ),
    pytest.param(
        [
            "%%pipeline few --component limit\ninput: orders\nn: [",
            "%%pipeline bad\nnope + 1",
            "%%pipeline reads_few\nfew",
        ],
        [("bad-cell", "few", 1, "error"), ("missing-input", "bad", 2, "error")],
        ["not valid YAML (line 3, column 5)"],
        [],
        id="yaml-error-hides-no-other-problem",
    ),
    pytest.param(
        ["%%pipeline a --retries many\n1", "%%pipeline b\nnope"],
        [("bad-cell", "a", 1, "error"), ("missing-input", "b", 2, "error")],
        ["invalid int value: 'many'"],
        ["usage: %%pipeline"],
        id="bad-header-hides-no-other-problem",
    ),
    pytest.param(
        ["%%pipeline --retries 2\n1"],
        [("bad-cell", None, 1, "error")],
        [],
        ["usage: %%pipeline"],
        id="header-without-a-name",
    ),
    pytest.param(
        [("x = (", PARAMS), "%%pipeline a\nparams.x + y"],
        [("syntax", None, 1, "error")],
        ["syntax error in the parameters cell, line 1"],
        [],
        id="parameters-cell-that-does-not-parse-says-only-that",
    ),
    pytest.param(
        ["import math", "def broken(:\n    pass", "%%pipeline a\nmath.pi"],
        [("syntax", None, 2, "error")],
        ["syntax error in this cell, line 1"],
        [],
        id="setup-cell-syntax-error",
    ),
]


@pytest.mark.parametrize(("cells", "expected", "message", "hint"), CASES)
def test_validate_catches_what_a_run_fails_on(
    make_notebook: MakeNotebook,
    cells: Cells,
    expected: list[tuple[str, str | None, int | None, str]],
    message: list[str],
    hint: list[str],
) -> None:
    pipeline = read_notebook(make_notebook(*cells), strict=False)
    issues = pipeline.validate()
    assert [(i.code, i.node, i.cell, i.severity) for i in issues] == expected
    for text in message:
        assert text in issues[0].message
    for text in hint:
        assert text in (issues[0].hint or "")


@pytest.mark.parametrize(
    "cells",
    [
        pytest.param(
            [
                "import polars as pl",
                "%%pipeline orders\ndf = pl.DataFrame({'a': [1]})",
                "%%pipeline total\norders.height",
            ],
            id="no-output",
        ),
        pytest.param(
            ["import polars as pl", "%%pipeline pl\npl.DataFrame({'a': [1]})"], id="shadow"
        ),
        pytest.param(["top_n = 3", "%%pipeline n\nparams.top_n"], id="untagged"),
        pytest.param(["print('no nodes')"], id="no-nodes"),
    ],
)
def test_what_validate_calls_an_error_stops_the_run(
    make_notebook: MakeNotebook, cells: Cells
) -> None:
    pipeline = read_notebook(make_notebook(*cells), strict=False)
    errors = [i for i in pipeline.validate() if i.severity == "error"]
    with pytest.raises(InvalidPipeline) as info:
        pipeline.run(hooks=[])
    assert info.value.issues == tuple(errors)


def test_a_warning_does_not_stop_the_run(make_notebook: MakeNotebook, tmp_path: Path) -> None:
    out = tmp_path / "written.txt"
    pipeline = read_notebook(
        make_notebook(f"%%pipeline save\nopen({str(out)!r}, 'w').write('x')\nwritten = True")
    )
    assert [i.severity for i in pipeline.validate()] == ["warning"]
    assert pipeline.run(hooks=[]).ok and out.read_text() == "x"


def test_strict_reading_names_every_cell_that_cannot_be_read(make_notebook: MakeNotebook) -> None:
    path = make_notebook(
        "%%pipeline a --timeout inf\n1",
        "%%pipeline b --component limit\nn: [",
        "%%pipeline c\n1",
    )
    with pytest.raises(InvalidPipeline) as info:
        Pipeline.from_notebook(path)
    assert "nb.ipynb: 2 cells cannot be read" in info.value.message
    assert "node 'a' (cell 1): --timeout must be a finite number" in info.value.message
    assert "node 'b' (cell 2): the component parameters are not valid YAML" in info.value.message
    assert [(i.node, i.cell) for i in info.value.issues] == [("a", 1), ("b", 2)]


@pytest.mark.parametrize(
    ("node", "message"),
    [
        pytest.param(Node("a", code="1", timeout=math.inf), "--timeout must be a finite", id="inf"),
        pytest.param(Node("a", code="1", timeout=math.nan), "got nan", id="timeout-nan"),
        pytest.param(Node("a", code="1", timeout=0.0), "--timeout must be > 0", id="zero"),
        pytest.param(
            Node("a", code="1", retry=RetryPolicy(retries=1, delay=-1.0)),
            "--retry-delay must be >= 0 seconds, got -1",
            id="negative-delay",
        ),
        pytest.param(
            Node("a", code="1", retry=RetryPolicy(retries=1, factor=math.inf)),
            "--retry-backoff must be a finite number >= 1",
            id="infinite-backoff",
        ),
        pytest.param(
            Node("a", code="1", retry=RetryPolicy(retries=-2)),
            "--retries must be >= 0",
            id="retries",
        ),
    ],
)
def test_a_node_built_in_python_gets_its_run_policy_checked(node: Node, message: str) -> None:
    pipeline = Pipeline("p")
    pipeline.add(node)
    (issue,) = pipeline.validate()
    assert (issue.code, issue.node) == ("bad-option", "a")
    assert message in issue.message
    with pytest.raises(PipelineDefinitionError) as info:
        pipeline.run(hooks=[])
    assert message in info.value.message

"""What a cell reads and binds decides the edges: ``analyze_cell`` and the output rule."""

from __future__ import annotations

import pytest

from pipeline_lab import Node, Pipeline, PipelineDefinitionError
from pipeline_lab.graph import analyze_cell


@pytest.mark.parametrize(
    ("code", "reads", "assigns"),
    [
        pytest.param("orders.head()", {"orders"}, set(), id="expression-reads"),
        pytest.param(
            "x = orders\ny = x + 1", {"orders"}, {"x", "y"}, id="read-after-assign-is-no-read"
        ),
        pytest.param("y = x\nx = 1", {"x"}, {"x", "y"}, id="read-before-assign-is-a-read"),
        pytest.param(
            "[a * k for a in xs if a > lim]",
            {"k", "xs", "lim"},
            set(),
            id="comprehension-variable-not-a-read",
        ),
        pytest.param("{k: v for k, v in d.items()}", {"d"}, set(), id="dict-comprehension"),
        pytest.param(
            "sum(x * y for x in xs for y in ys)", {"sum", "xs", "ys"}, set(), id="nested-generator"
        ),
        pytest.param("f = lambda q: q + k\nf(1)", {"k"}, {"f"}, id="lambda-parameter-not-a-read"),
        pytest.param(
            "def f(a, *rest, b=dflt, **kw):\n    return a, rest, b, kw, other\n",
            {"dflt", "other"},
            {"f"},
            id="function-parameters-not-reads",
        ),
        pytest.param(
            "def g():\n    return later\nlater = 1\ng()",
            set(),
            {"g", "later"},
            id="function-body-reads-name-assigned-later",
        ),
        pytest.param(
            "def g():\n    return never\ng()", {"never"}, {"g"}, id="function-body-reads-free-name"
        ),
        pytest.param(
            "def f(a):\n    def g():\n        return a + outer\n    return g\n",
            {"outer"},
            {"f"},
            id="closure-reads-enclosing-parameter",
        ),
        pytest.param(
            "total += amount", {"total", "amount"}, {"total"}, id="augmented-assignment-reads"
        ),
        pytest.param(
            "import os.path\nfrom json import dumps as d\nos, d",
            set(),
            {"os", "d"},
            id="imports-bind",
        ),
        pytest.param("with open(p) as fh:\n    fh.read()", {"open", "p"}, {"fh"}, id="with-binds"),
        pytest.param(
            "for row in rows:\n    acc = row\nacc", {"rows"}, {"row", "acc"}, id="for-binds"
        ),
        pytest.param(
            "try:\n    pass\nexcept KeyError as e:\n    e", {"KeyError"}, {"e"}, id="except-binds"
        ),
        pytest.param("(n := 10) + n", set(), {"n"}, id="walrus-binds"),
        pytest.param(
            "class A(Base):\n    v = w\n", {"Base", "w"}, {"A"}, id="class-bases-and-body"
        ),
        pytest.param("@deco\ndef f():\n    pass\n", {"deco"}, {"f"}, id="decorator-read"),
    ],
)
def test_reads_and_assigns(code: str, reads: set[str], assigns: set[str]) -> None:
    analysis = analyze_cell(code)
    assert set(analysis.reads) == reads
    assert set(analysis.assigns) == assigns


def test_params_attributes_are_recorded() -> None:
    analysis = analyze_cell("orders.filter(amount > params.min_amount)\nparams['x']\nparams.region")
    assert analysis.param_attributes == {"min_amount", "region"}
    assert "params" in analysis.reads


def test_params_attribute_inside_a_function_is_recorded() -> None:
    assert analyze_cell("def f():\n    return params.limit\n").param_attributes == {"limit"}


@pytest.mark.parametrize(
    ("code", "last"),
    [
        pytest.param("x = 1\nx", True, id="expression"),
        pytest.param("x = 1", False, id="assignment"),
        pytest.param("x = 1\nprint(x)", True, id="call-is-expression"),
        pytest.param("if x:\n    y = 1\n", False, id="compound"),
        pytest.param("", False, id="empty"),
    ],
)
def test_last_statement_expression(code: str, last: bool) -> None:
    assert analyze_cell(code).last_is_expression is last


def test_star_import_is_flagged() -> None:
    assert analyze_cell("from math import *").star_import
    assert not analyze_cell("from math import pi").star_import


def test_syntax_error_names_node_and_line() -> None:
    with pytest.raises(PipelineDefinitionError) as info:
        analyze_cell("x = 1\ny = (2 +\n", where="node 'totals'", node="totals")
    error = info.value
    assert error.node == "totals"
    assert "line 2" in error.message
    assert "node 'totals'" in error.message
    assert "totals" in str(error)


def test_magic_inside_node_cell_gets_a_specific_hint() -> None:
    with pytest.raises(PipelineDefinitionError) as info:
        analyze_cell("x = 1\n%timeit x", node="n")
    assert "magics" in (info.value.hint or "")


# -- the output rule: NAME if the cell assigns it, else the last expression, else None -----------


def run_single(code: str, name: str = "report") -> object:
    pipeline = Pipeline("p")
    pipeline.add(Node(name, code=code))
    result = pipeline.run(hooks=[])
    assert result.status == "succeeded", result.node_runs[name].error
    return result.outputs[name]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        pytest.param(
            "report = list(range(10))\nreport[:2]",
            list(range(10)),
            id="assigned-name-wins-over-last-expression",
        ),
        pytest.param("rows = [1, 2]\nrows + [3]", [1, 2, 3], id="last-expression"),
        pytest.param("rows = [1, 2]", None, id="neither"),
        pytest.param("report = 1\nreport = report + 1", 2, id="assigned-twice-last-value"),
    ],
)
def test_output_rule(code: str, expected: object) -> None:
    assert run_single(code) == expected


def test_last_expression_still_runs_when_name_is_the_output() -> None:
    """``report = ...`` then ``report.write(...)``: the write must happen in a run."""
    sink: list[int] = []
    pipeline = Pipeline("p", params={"sink": sink})
    pipeline.add(Node("report", code="report = [1, 2]\nsink.append(len(report))"))
    result = pipeline.run(hooks=[])
    assert result.outputs["report"] == [1, 2]
    assert sink == [2]


def test_output_name_property() -> None:
    assert Node("report", code="report = 1\nreport + 1").output_name == "report"
    assert Node("report", code="other = 1\nother").output_name is None

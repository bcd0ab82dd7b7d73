"""``validate()`` finds every problem at once, each with its node and a fix hint."""

from __future__ import annotations

import pytest

from pipeline_lab import Issue, Node, Pipeline, PipelineDefinitionError
from pipeline_lab.graph import Cell


def issues_by_code(pipeline: Pipeline) -> dict[str, list[Issue]]:
    found: dict[str, list[Issue]] = {}
    for issue in pipeline.validate():
        found.setdefault(issue.code, []).append(issue)
    return found


@pytest.fixture
def broken() -> Pipeline:
    """One pipeline with one of each problem."""
    pipeline = Pipeline.from_dict(
        {
            "name": "broken",
            "params": {"min_amount": 0},
            "nodes": [
                {"name": "orders", "code": "[1, 2, 3]"},
                {"name": "dup", "code": "1"},
                {"name": "dup", "code": "2"},
                {"name": "a", "code": "b + 1"},
                {"name": "b", "code": "a + 1"},
                {"name": "s", "code": "s + 1"},
                {"name": "explicit", "code": "ordrs", "inputs": ["ordrs"]},
                {"name": "free", "code": "len(ordres)"},
                {"name": "1st", "code": "1"},
                {"name": "class", "code": "1"},
                {"name": "unknown_param", "code": "params.min_amout"},
                {"name": "clobber", "code": "orders = []\norders"},
                {"name": "badcheck", "code": "orders", "checks": ["amount >"]},
                {"name": "syntax", "code": "x = (1 +\n"},
            ],
        }
    )
    return pipeline


def test_every_problem_is_reported(broken: Pipeline) -> None:
    found = {(i.code, i.node) for i in broken.validate()}
    assert found == {
        ("duplicate-node", "dup"),
        ("cycle", "a"),
        ("cycle", "s"),
        ("missing-input", "explicit"),
        ("missing-input", "free"),
        ("bad-name", "1st"),
        ("bad-name", "class"),
        ("unknown-parameter", "unknown_param"),
        ("duplicate-output", "clobber"),
        ("bad-check", "badcheck"),
        ("syntax", "syntax"),
    }
    assert all(i.severity == "error" for i in broken.validate())


def test_cycle_names_its_path(broken: Pipeline) -> None:
    messages = {i.message for i in issues_by_code(broken)["cycle"]}
    assert messages == {"cycle: a -> b -> a", "cycle: s -> s"}


def test_missing_explicit_input_suggests_closest_name(broken: Pipeline) -> None:
    (issue,) = [i for i in issues_by_code(broken)["missing-input"] if i.node == "explicit"]
    assert "'ordrs'" in issue.message
    assert issue.hint == "did you mean 'orders'?"


def test_free_name_nothing_defines_suggests_closest_name(broken: Pipeline) -> None:
    (issue,) = [i for i in issues_by_code(broken)["missing-input"] if i.node == "free"]
    assert "reads 'ordres'" in issue.message
    assert "'orders'" in (issue.hint or "")


def test_unknown_parameter_suggests_closest(broken: Pipeline) -> None:
    (issue,) = issues_by_code(broken)["unknown-parameter"]
    assert "params.min_amout" in issue.message
    assert issue.hint == "did you mean 'min_amount'?"


def test_duplicate_output_names_the_other_node(broken: Pipeline) -> None:
    (issue,) = issues_by_code(broken)["duplicate-output"]
    assert "assigns 'orders'" in issue.message


def test_syntax_issue_has_line_number(broken: Pipeline) -> None:
    (issue,) = issues_by_code(broken)["syntax"]
    assert "line 2" in issue.message  # the line under the %%pipeline header


def test_check_raises_one_error_listing_all(broken: Pipeline) -> None:
    with pytest.raises(PipelineDefinitionError) as info:
        broken.check()
    message = info.value.message
    assert "has 11 problem(s)" in message
    assert message.count("\n  - ") == 11
    for text in ("cycle: a -> b -> a", "ordres", "min_amout", "'class'", "amount >", "dup"):
        assert text in message
    assert info.value.node is None


def test_check_with_one_problem_names_its_node() -> None:
    pipeline = Pipeline("p")
    pipeline.add(Node("n", code="nothing_defines_me"))
    with pytest.raises(PipelineDefinitionError) as info:
        pipeline.check()
    assert "node 'n'" in str(info.value)


def test_running_an_invalid_pipeline_raises_before_running_anything() -> None:
    ran: list[str] = []
    pipeline = Pipeline("p", params={"ran": ran})
    pipeline.add(Node("ok", code="ran.append('ok')"))
    pipeline.add(Node("bad", code="undefined_thing"))
    with pytest.raises(PipelineDefinitionError, match="undefined_thing"):
        pipeline.run(hooks=[])
    assert ran == []


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        pytest.param([], "len([1])", id="builtin"),
        pytest.param([Cell("import math")], "math.pi", id="setup-import"),
        pytest.param([Cell("def helper(x):\n    return x")], "helper(1)", id="setup-function"),
        pytest.param([Cell("from math import *")], "pi", id="setup-star-import"),
    ],
)
def test_names_defined_outside_nodes_are_not_missing(setup: list[Cell], code: str) -> None:
    pipeline = Pipeline("p", setup=setup)
    pipeline.add(Node("n", code=code))
    assert pipeline.validate() == []


def test_kernel_names_count_as_defined() -> None:
    pipeline = Pipeline("p")
    pipeline.add(Node("n", code="df.head()"))
    assert [i.code for i in pipeline.validate()] == ["missing-input"]
    assert pipeline.validate(known={"df"}) == []


def test_setup_cell_with_syntax_error_is_an_issue_not_a_crash() -> None:
    pipeline = Pipeline("p", setup=[Cell("def (", index=3)], reports=[Cell("print(", index=7)])
    pipeline.add(Node("n", code="1"))
    issues = pipeline.validate()
    assert [(i.code, i.severity) for i in issues] == [("syntax", "error"), ("syntax", "warning")]
    assert [i.cell for i in issues] == [4, 8]
    assert str(issues[0]).startswith("error: cell 4: syntax error in this cell, line 1")


def test_unknown_component_is_an_issue() -> None:
    pipeline = Pipeline("p")
    pipeline.add(Node("n", component="no_such_component", params={}))
    assert [i.code for i in pipeline.validate()] == ["unknown-component"]


def test_component_sql_that_does_not_parse_is_an_issue_before_any_run() -> None:
    pipeline = Pipeline("p")
    pipeline.add(Node("a", code="1"))
    pipeline.add(Node("q", component="sql", params={"query": "SELEC * FROM a"}))
    pipeline.add(
        Node("f", component="filter", params={"input": "a", "condition": "amount > 0 AND"})
    )
    issues = {i.node: i for i in pipeline.validate()}
    assert issues["q"].code == issues["f"].code == "bad-parameters"
    assert "must be a SELECT" in issues["q"].message and "'SELEC'" in issues["q"].message
    assert "'condition' is not a valid SQL expression" in issues["f"].message
    assert "'AND' is incomplete" in issues["f"].message


def test_issue_str_has_node_and_hint() -> None:
    issue = Issue("missing-input", "reads 'x'", "n", "did you mean 'y'?")
    assert str(issue) == "error: node 'n': reads 'x' (hint: did you mean 'y'?)"


def test_a_node_cannot_be_called_params() -> None:
    pipeline = Pipeline("p", params={"limit": 3})
    pipeline.add(Node("params", code="{'limit': 100}"))
    pipeline.add(Node("n", code="params.limit"))
    issues = [i for i in pipeline.validate() if i.code == "bad-name"]
    assert [(i.node, i.message) for i in issues] == [
        ("params", "'params' is reserved for the pipeline parameters")
    ]

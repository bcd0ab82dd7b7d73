"""The ``%%pipeline NAME [options]`` line: parsed into a node, and written back the same."""

from __future__ import annotations

import dataclasses

import pytest

from pipeline_lab import Node, PipelineDefinitionError, RetryPolicy
from pipeline_lab.graph import CellHeader, format_header, parse_header
from pipeline_lab.graph._header import cell_source


def parse(line: str, body: str = "1") -> Node:
    return parse_header(line, body).node


def test_name_only_uses_defaults() -> None:
    header = parse_header("orders", "pl.read_csv(params.orders_csv)")
    assert header.run is True
    node = header.node
    assert node.name == "orders"
    assert node.code == "pl.read_csv(params.orders_csv)"
    assert node.inputs is None
    assert node.checks == ()
    assert node.retry == RetryPolicy()
    assert node.timeout is None
    assert node.tags == ()


def test_every_option() -> None:
    header = parse_header(
        """paid --inputs orders customers --check "amount > 0" --check 'status IN (''paid'')' """
        """--check "note <> 'it''s'" --retries 2 --retry-delay 0.5 --timeout 30 --no-run """
        """--tags nightly finance""",
        "orders",
    )
    node = header.node
    assert header.run is False
    assert node.inputs == ("orders", "customers")
    assert node.checks == ("amount > 0", "status IN (paid)", "note <> 'it''s'")
    assert node.retry == RetryPolicy(retries=2, delay=0.5)
    assert node.timeout == 30.0
    assert node.tags == ("nightly", "finance")


def test_inputs_without_names_means_no_inputs() -> None:
    assert parse("report --inputs", "orders.head()").inputs == ()


HEADER_CASES = [
    pytest.param(Node("a", code="1"), "name", id="plain"),
    pytest.param(Node("a", code="x = 1\n\nx + 1\n"), "code", id="code-lines"),
    pytest.param(
        Node("a", component="filter", params={"input": "o", "condition": "on = 'yes'"}),
        "component",
        id="component",
    ),
    pytest.param(
        Node("a", component="aggregate", params={"by": ["r"], "aggs": {"t": "sum(x)"}}),
        "params",
        id="component-nested-params",
    ),
    pytest.param(Node("a", code="1", inputs=("x", "y")), "inputs", id="inputs"),
    pytest.param(Node("a", code="1", inputs=()), "inputs", id="empty-inputs"),
    pytest.param(Node("a", code="1", checks=("amount > 0",)), "checks", id="check-with-spaces"),
    pytest.param(
        Node("a", code="1", checks=("status IN ('paid', 'open')",)),
        "checks",
        id="check-with-single-quotes",
    ),
    pytest.param(
        Node("a", code="1", checks=('name = "x"', "b > 1")),
        "checks",
        id="check-with-double-quotes-and-two-checks",
    ),
    pytest.param(
        Node("a", code="1", checks=("""a = 'it''s' OR b = "q\"""",)),
        "checks",
        id="check-with-both-quotes",
    ),
    pytest.param(Node("a", code="1", checks=("price > $1",)), "checks", id="check-with-dollar"),
    pytest.param(Node("a", code="1", checks=("-amount<0",)), "checks", id="check-like-an-option"),
    pytest.param(
        Node("a", code="1", retry=RetryPolicy(retries=3, delay=0.25)), "retry", id="retry"
    ),
    pytest.param(
        Node("a", code="1", retry=RetryPolicy(delay=0.123456789)),
        "retry",
        id="retry-delay-precise",
    ),
    pytest.param(Node("a", code="1", retry=RetryPolicy(delay=0)), "retry", id="retry-delay-0"),
    pytest.param(
        Node("a", code="1", retry=RetryPolicy(retries=2, factor=1.5)),
        "retry",
        id="retry-backoff",
    ),
    pytest.param(
        Node("a", code="1", retry=RetryPolicy(retries=2, factor=1)),
        "retry",
        id="retry-constant-delay",
    ),
    pytest.param(
        Node("a", code="1", retry=RetryPolicy(retries=2, cap=7.5)),
        "retry",
        id="retry-max-delay",
    ),
    pytest.param(Node("a", code="1", timeout=1234567.5), "timeout", id="timeout-large"),
    pytest.param(Node("a", code="1", timeout=0.2), "timeout", id="timeout-small"),
    pytest.param(Node("a", code="1", cache=True), "cache", id="cache"),
    pytest.param(Node("a", code="1", tags=("nightly", "two words")), "tags", id="tags"),
    pytest.param(
        Node(
            "a",
            component="filter",
            params={"input": "o", "condition": "x > 1"},
            inputs=("o",),
            checks=("x > 0",),
            retry=RetryPolicy(retries=4, delay=0.5, factor=3, cap=30),
            timeout=9.5,
            cache=True,
            tags=("t",),
        ),
        "everything",
        id="every-option-at-once",
    ),
]
NOT_IN_THE_HEADER = {
    "position": "the cell's metadata.pipeline_lab (see test_notebook)",
    "cell_id": "the cell's id",
    "func": "a Python function cannot be written to a notebook",
}


def reparse(node: Node, *, run: bool = True) -> CellHeader:
    """``node`` written as a cell, then read back the way the notebook reader and the magic do."""
    header, _, body = cell_source(node, run=run).partition("\n")
    return parse_header(header.removeprefix("%%pipeline"), body)


@pytest.mark.parametrize(("node", "field_name"), HEADER_CASES)
def test_format_then_parse_round_trip(node: Node, field_name: str) -> None:
    assert format_header(node).startswith("%%pipeline a")
    header = reparse(node)
    assert header.node == node
    assert header.run is True
    assert reparse(node, run=False).run is False
    assert reparse(node, run=False).node == node


def test_every_node_field_is_a_header_option_or_lives_elsewhere() -> None:
    """A new Node (or RetryPolicy) field needs a header option and a row above, or a place
    outside the header."""
    rows = {case.values[1] for case in HEADER_CASES} - {"everything"}
    assert rows == {f.name for f in dataclasses.fields(Node)} - NOT_IN_THE_HEADER.keys()
    (everything,) = [case.values[0] for case in HEADER_CASES if case.values[1] == "everything"]
    assert isinstance(everything, Node)
    for name in (f.name for f in dataclasses.fields(RetryPolicy)):
        assert getattr(everything.retry, name) != getattr(RetryPolicy(), name), name


def test_format_is_readable() -> None:
    node = Node(
        "paid", code="1", checks=("amount > 0",), retry=RetryPolicy(retries=2), timeout=30.0
    )
    assert format_header(node) == '%%pipeline paid --check "amount > 0" --retries 2 --timeout 30'
    node = Node("paid", code="1", retry=RetryPolicy(retries=2, factor=1.5, cap=10), cache=True)
    assert format_header(node) == (
        "%%pipeline paid --retries 2 --retry-backoff 1.5 --retry-max-delay 10 --cache"
    )


def test_component_body_is_yaml_parameters() -> None:
    node = parse("paid --component filter", "condition: amount > 0\nkeep: [a, b]\n")
    assert node.component == "filter"
    assert node.code is None
    assert node.params == {"condition": "amount > 0", "keep": ["a", "b"]}


@pytest.mark.parametrize(
    ("line", "body", "in_message"),
    [
        pytest.param("", "1", "needs a node name", id="no-name"),
        pytest.param("orders --bogus", "1", "unrecognized arguments: --bogus", id="unknown-option"),
        pytest.param("orders --retries two", "1", "invalid int value", id="retries-not-int"),
        pytest.param("orders --retries -1", "1", "--retries must be >= 0", id="negative-retries"),
        pytest.param("orders --timeout 0", "1", "--timeout must be > 0", id="zero-timeout"),
        pytest.param("orders --timeout soon", "1", "invalid float value", id="timeout-not-float"),
        pytest.param(
            "orders --retry-delay -1", "1", "--retry-delay must be >= 0", id="negative-delay"
        ),
        pytest.param(
            "orders --retry-backoff 0.5",
            "1",
            "--retry-backoff must be >= 1",
            id="shrinking-backoff",
        ),
        pytest.param(
            "orders --retry-max-delay -2", "1", "--retry-max-delay must be >= 0", id="negative-cap"
        ),
        pytest.param("orders --cache yes", "1", "unrecognized arguments: yes", id="cache-no-value"),
        pytest.param('orders --check "amount > 0', "1", "cannot parse", id="unclosed-quote"),
        pytest.param("a b", "1", "unrecognized arguments: b", id="two-names"),
        pytest.param(
            "x --component f", "- just\n- a list", "YAML mapping", id="component-not-mapping"
        ),
        pytest.param("x --component f", "a: [1,", "not valid YAML", id="component-bad-yaml"),
        pytest.param(
            "x --component f",
            "input: orders\nn: [",
            "not valid YAML (line 3, column 5): while parsing a flow node",
            id="component-bad-yaml-says-where-in-the-cell",
        ),
        pytest.param(
            "orders --timeout inf", "1", "--timeout must be a finite number > 0", id="timeout-inf"
        ),
        pytest.param("orders --timeout nan", "1", "got nan", id="timeout-nan"),
        pytest.param("orders --timeout 1e400", "1", "got inf", id="timeout-overflows"),
        pytest.param(
            "orders --retry-delay -1e3",
            "1",
            "--retry-delay must be >= 0 seconds, got -1000",
            id="negative-delay-in-e-notation",
        ),
        pytest.param(
            "orders --retry-delay -inf", "1", "--retry-delay must be a finite", id="delay-minus-inf"
        ),
        pytest.param("orders --retry-delay nan", "1", "got nan", id="delay-nan"),
        pytest.param(
            "orders --retry-backoff inf", "1", "--retry-backoff must be a finite", id="backoff-inf"
        ),
        pytest.param(
            "orders --retry-max-delay nan", "1", "--retry-max-delay must be a finite", id="cap-nan"
        ),
    ],
)
def test_bad_headers(line: str, body: str, in_message: str) -> None:
    with pytest.raises(PipelineDefinitionError) as info:
        parse_header(line, body)
    assert in_message in info.value.message
    assert info.value.hint


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("", id="no-name"),
        pytest.param("orders --bogus", id="unknown-option"),
        pytest.param("orders --retries two", id="bad-value"),
    ],
)
def test_usage_errors_carry_the_usage_line(line: str) -> None:
    with pytest.raises(PipelineDefinitionError) as info:
        parse_header(line, "1")
    hint = info.value.hint or ""
    assert hint.startswith("usage: %%pipeline")
    assert hint.count("usage:") == 1
    for option in ("--retries", "--retry-backoff F", "--retry-max-delay S", "--cache"):
        assert option in hint


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param("on: customer_id", {"on": "customer_id"}, id="on-stays-a-key"),
        pytest.param("keep: no\nflag: yes", {"keep": "no", "flag": "yes"}, id="yes-no-strings"),
        pytest.param(
            "descending: true\nstrict: False",
            {"descending": True, "strict": False},
            id="true-false-booleans",
        ),
    ],
)
def test_component_yaml_has_only_true_false_booleans(body: str, expected: dict) -> None:
    node = parse_header("j --component join", body).node
    assert dict(node.params) == expected
    assert parse_header("j --component join", cell_source(node).partition("\n")[2]).node == node


@pytest.mark.parametrize(
    ("line", "meant"),
    [
        pytest.param("a --retry 2", "'--retries'", id="retry"),
        pytest.param("a --timout 3", "'--timeout'", id="timeout-typo"),
        pytest.param("a --check-if 'x > 0'", "'--check'", id="check"),
    ],
)
def test_a_mistyped_option_names_the_one_meant(line: str, meant: str) -> None:
    with pytest.raises(PipelineDefinitionError) as info:
        parse_header(line, "1")
    first = str(info.value).splitlines()[0]
    assert first.startswith("unknown option") and f"did you mean {meant}" in first

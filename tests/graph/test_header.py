"""The ``%%pipeline NAME [options]`` line: parsed into a node, and written back the same."""

from __future__ import annotations

import pytest

from pipeline_lab import Node, PipelineDefinitionError, RetryPolicy
from pipeline_lab.graph import format_header, parse_header


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


@pytest.mark.parametrize(
    "node",
    [
        pytest.param(Node("a", code="1"), id="plain"),
        pytest.param(Node("a", code="1", inputs=("x", "y")), id="inputs"),
        pytest.param(Node("a", code="1", inputs=()), id="empty-inputs"),
        pytest.param(Node("a", code="1", checks=("amount > 0",)), id="check-with-spaces"),
        pytest.param(
            Node("a", code="1", checks=("status IN ('paid', 'open')",)),
            id="check-with-single-quotes",
        ),
        pytest.param(
            Node("a", code="1", checks=('name = "x"', "b > 1")),
            id="check-with-double-quotes-and-two-checks",
        ),
        pytest.param(
            Node("a", code="1", checks=("""a = 'it''s' OR b = "q\"""",)),
            id="check-with-both-quotes",
        ),
        pytest.param(Node("a", code="1", checks=("price > $1",)), id="check-with-dollar"),
        pytest.param(Node("a", code="1", retry=RetryPolicy(retries=3, delay=0.25)), id="retry"),
        pytest.param(
            Node("a", code="1", retry=RetryPolicy(delay=0.123456789)), id="retry-delay-precise"
        ),
        pytest.param(Node("a", code="1", timeout=1234567.5), id="timeout-large"),
        pytest.param(Node("a", code="1", timeout=0.2), id="timeout-small"),
        pytest.param(Node("a", code="1", tags=("nightly", "two words")), id="tags"),
    ],
)
def test_format_then_parse_round_trip(node: Node) -> None:
    line = format_header(node)
    assert line.startswith("%%pipeline a")
    assert parse_header(line.removeprefix("%%pipeline"), node.code or "").node == node


def test_format_is_readable() -> None:
    node = Node(
        "paid", code="1", checks=("amount > 0",), retry=RetryPolicy(retries=2), timeout=30.0
    )
    assert format_header(node) == '%%pipeline paid --check "amount > 0" --retries 2 --timeout 30'


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
        pytest.param('orders --check "amount > 0', "1", "cannot parse", id="unclosed-quote"),
        pytest.param("a b", "1", "unrecognized arguments: b", id="two-names"),
        pytest.param(
            "x --component f", "- just\n- a list", "YAML mapping", id="component-not-mapping"
        ),
        pytest.param("x --component f", "a: [1,", "not valid YAML", id="component-bad-yaml"),
    ],
)
def test_bad_headers(line: str, body: str, in_message: str) -> None:
    with pytest.raises(PipelineDefinitionError) as info:
        parse_header(line, body)
    assert in_message in info.value.message


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
    assert "--retries" in hint


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
    from pipeline_lab.graph._header import cell_source

    assert parse_header("j --component join", cell_source(node).partition("\n")[2]).node == node

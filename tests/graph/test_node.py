"""A node is a value: equal by its fields, hashable, and nothing outside can change it."""

from __future__ import annotations

import pickle
from dataclasses import replace
from typing import Any

import pytest

from pipeline_lab import Node, PipelineDefinitionError, RetryPolicy

AGGREGATE = {"input": "orders", "by": ["region"], "aggs": {"total": "sum(amount)"}}


def double(x: int) -> int:
    return 2 * x


def triple(x: int) -> int:
    return 3 * x


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(Node("n", code="1"), Node("n", code="1"), id="code"),
        pytest.param(
            Node("n", component="aggregate", params=AGGREGATE),
            Node(
                "n",
                component="aggregate",
                params={"aggs": {"total": "sum(amount)"}, "by": ["region"], "input": "orders"},
            ),
            id="params-in-another-order",
        ),
        pytest.param(
            Node("n", code="x", inputs=["x"], checks=["a > 0"], tags=["t"]),  # type: ignore[arg-type]
            Node("n", code="x", inputs=("x",), checks=("a > 0",), tags=("t",)),
            id="lists-where-tuples-belong",
        ),
        pytest.param(
            Node("n", code="1", position=[10, 20]),  # type: ignore[arg-type]
            Node("n", code="1", position=(10.0, 20.0)),
            id="position-as-list",
        ),
        pytest.param(Node.from_function(double), Node.from_function(double), id="same-function"),
    ],
)
def test_equal_nodes_hash_equal(a: Node, b: Node) -> None:
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(Node("n", code="1"), Node("n", code="2"), id="code"),
        pytest.param(
            Node("n", component="aggregate", params=AGGREGATE),
            Node("n", component="aggregate", params={**AGGREGATE, "by": ["city"]}),
            id="nested-param",
        ),
        pytest.param(
            Node("n", code="1", retry=RetryPolicy(retries=1)),
            Node("n", code="1", retry=RetryPolicy(retries=1, cap=5.0)),
            id="retry-cap",
        ),
        pytest.param(Node("n", code="1"), Node("n", code="1", cache=True), id="cache"),
        pytest.param(Node("n", code="1"), Node("n", code="1", position=(0, 0)), id="position"),
        pytest.param(Node("n", code="1"), Node("n", code="1", cell_id="c1"), id="cell-id"),
        pytest.param(
            Node.from_function(double, name="f"),
            Node.from_function(triple, name="f"),
            id="other-function-same-name",
        ),
    ],
)
def test_nodes_that_differ_are_unequal(a: Node, b: Node) -> None:
    assert a != b
    assert len({a, b}) == 2


def test_params_cannot_be_changed_from_outside() -> None:
    given: dict[str, Any] = {"input": "orders", "by": ["region"]}
    node = Node("n", component="aggregate", params=given)
    given["by"].append("city")  # the caller's dict is not the node's
    node.params["by"].append("city")  # nor is what reading gives
    assert node.params == {"input": "orders", "by": ["region"]}
    with pytest.raises(TypeError):
        node.params["input"] = "customers"  # type: ignore[index]
    assert dict(node.params) == {"input": "orders", "by": ["region"]}
    assert replace(node, cell_id="c").params == node.params


def test_a_node_pickles_after_it_was_analyzed_and_compiled() -> None:
    """A task carries a node to another process: its compiled code stays behind."""
    node = Node("n", component="filter", params={"input": "a", "condition": "x > :min"})
    code = Node("c", code="a + 1", inputs=("a",), position=(1.5, 2))
    assert code.analysis.reads == {"a"} and code.compiled is not None
    for original in (node, code):
        copy = pickle.loads(pickle.dumps(original))
        assert copy == original and hash(copy) == hash(original)
    assert pickle.loads(pickle.dumps(code)).analysis.reads == {"a"}


def test_a_bad_position_names_the_node() -> None:
    with pytest.raises(PipelineDefinitionError, match=r"position must be a pair") as info:
        Node("n", code="1", position=(1, 2, 3))  # type: ignore[arg-type]
    assert info.value.node == "n"

"""The pipeline model: building it, its graph, and its dict form."""

from __future__ import annotations

import json

import pytest

from pipeline_lab import Node, Pipeline, PipelineDefinitionError, RetryPolicy
from pipeline_lab.graph import Cell


@pytest.fixture
def sales() -> Pipeline:
    """orders -> paid -> by_region -> report, customers -> enriched <- paid."""
    pipeline = Pipeline("sales", params={"min_amount": 0}, setup=[Cell("def load(name): ...")])
    pipeline.add(Node("orders", code="load('orders')"))
    pipeline.add(Node("customers", code="load('customers')"))
    pipeline.add(Node("paid", code="orders[orders.amount > params.min_amount]"))
    pipeline.add(Node("enriched", code="paid.merge(customers)"))
    pipeline.add(Node("by_region", code="by_region = paid.groupby('region').sum()\nby_region"))
    pipeline.add(Node("report", code="str(by_region) + str(enriched)"))
    return pipeline


def test_add_replaces_a_node_of_the_same_name(sales: Pipeline) -> None:
    before = list(sales.nodes)
    sales.add(Node("paid", code="orders[orders.status == 'paid']"))
    sales.add(Node("paid", code="orders[orders.status == 'paid']"))
    assert list(sales.nodes) == before
    assert sales.nodes["paid"].code == "orders[orders.status == 'paid']"
    assert sales.duplicates == []
    assert sales.validate() == []


def test_redefining_a_node_changes_its_edges(sales: Pipeline) -> None:
    assert sales.dependencies("enriched") == ("customers", "paid")
    sales.add(Node("enriched", code="customers.copy()"))
    assert sales.dependencies("enriched") == ("customers",)
    assert "enriched" not in sales.downstream("paid")


def test_remove(sales: Pipeline) -> None:
    removed = sales.remove("report")
    assert removed.name == "report"
    assert "report" not in sales.nodes


def test_remove_unknown_suggests_close_names(sales: Pipeline) -> None:
    with pytest.raises(PipelineDefinitionError) as info:
        sales.remove("ordres")
    assert "has no node 'ordres'" in info.value.message
    assert "'orders'" in (info.value.hint or "")


def test_remove_unknown_without_close_names_lists_nodes() -> None:
    pipeline = Pipeline("p")
    pipeline.add(Node("alpha", code="1"))
    with pytest.raises(PipelineDefinitionError) as info:
        pipeline.remove("zzz")
    assert info.value.hint == "nodes: alpha"


def test_connect_adds_an_edge_and_keeps_existing_ones(sales: Pipeline) -> None:
    node = sales.connect("customers", "paid")
    assert node.inputs == ("orders", "customers")
    assert sales.dependencies("paid") == ("orders", "customers")
    assert "paid" in sales.downstream("customers")
    assert sales.order().index("customers") < sales.order().index("paid")


@pytest.mark.parametrize(
    ("upstream", "downstream"),
    [
        pytest.param("nope", "paid", id="unknown-upstream"),
        pytest.param("paid", "nope", id="unknown-downstream"),
    ],
)
def test_connect_unknown_node(sales: Pipeline, upstream: str, downstream: str) -> None:
    with pytest.raises(PipelineDefinitionError, match="has no node 'nope'"):
        sales.connect(upstream, downstream)


def test_dependencies_are_the_nodes_a_cell_reads(sales: Pipeline) -> None:
    assert sales.dependencies("orders") == ()
    assert sales.dependencies("paid") == ("orders",)
    # `by_region` assigns its own name before reading it: no self edge.
    assert sales.dependencies("by_region") == ("paid",)
    assert sales.parameters_of("paid") == ("min_amount",)


def test_bare_parameter_name_counts_as_parameter() -> None:
    pipeline = Pipeline("p", params={"limit": 3})
    pipeline.add(Node("n", code="list(range(limit))"))
    assert pipeline.parameters_of("n") == ("limit",)
    assert pipeline.dependencies("n") == ()


def test_explicit_inputs_override_reads(sales: Pipeline) -> None:
    sales.add(Node("report", code="str(by_region) + str(enriched)", inputs=("by_region",)))
    assert sales.dependencies("report") == ("by_region",)


def test_upstream_and_downstream(sales: Pipeline) -> None:
    assert sales.upstream("report") == {"orders", "customers", "paid", "enriched", "by_region"}
    assert sales.upstream("orders") == set()
    assert sales.downstream("orders") == {"paid", "enriched", "by_region", "report"}
    assert sales.downstream("report") == set()
    with pytest.raises(PipelineDefinitionError):
        sales.upstream("nope")
    with pytest.raises(PipelineDefinitionError):
        sales.downstream("nope")


def test_order_is_topological(sales: Pipeline) -> None:
    order = sales.order()
    assert sorted(order) == sorted(sales.nodes)
    for name in order:
        for dep in sales.dependencies(name):
            assert order.index(dep) < order.index(name)


def test_order_keeps_a_valid_insertion_order() -> None:
    """Nodes already in a valid order stay in it (a notebook written back keeps its cells)."""
    pipeline = Pipeline("p")
    for name, code in [("x", "1"), ("y", "x + 1"), ("z", "2"), ("w", "y + z")]:
        pipeline.add(Node(name, code=code))
    assert pipeline.order() == ["x", "y", "z", "w"]


def test_order_moves_only_what_must_move() -> None:
    pipeline = Pipeline("p")
    for name, code in [("b", "a + 1"), ("c", "3"), ("a", "1")]:
        pipeline.add(Node(name, code=code))
    assert pipeline.order() == ["c", "a", "b"]


def test_order_of_a_cycle_raises_with_the_path() -> None:
    pipeline = Pipeline("p")
    pipeline.add(Node("a", code="b + 1"))
    pipeline.add(Node("b", code="a + 1"))
    with pytest.raises(PipelineDefinitionError, match=r"cycle: a -> b -> a"):
        pipeline.order()


def test_to_dict_from_dict_round_trip(sales: Pipeline) -> None:
    sales.add(
        Node(
            "write",
            code="by_region.to_csv(params.out)",
            inputs=("by_region",),
            checks=("amount > 0", "region IS NOT NULL"),
            retry=RetryPolicy(retries=2, delay=0.5, factor=3.0, cap=10.0),
            timeout=12.5,
            cache=True,
            tags=("sink",),
            position=(10.0, 20.5),
        )
    )
    sales.add(
        Node("filtered", component="filter", params={"condition": "amount > 0"}, inputs=("orders",))
    )
    sales.setup.append(Cell("import pandas as pd", index=2))
    sales.reports.append(Cell("print(report)", index=9))
    sales.param_code = "min_amount = 0"
    data = sales.to_dict()
    again = Pipeline.from_dict(json.loads(json.dumps(data)))
    assert again.to_dict() == data
    assert again.nodes == sales.nodes
    assert list(again.nodes) == list(sales.nodes)
    assert again.setup == sales.setup
    assert again.reports == sales.reports
    assert again.params == sales.params


def test_to_dict_omits_defaults() -> None:
    assert Node("n", code="1").to_dict() == {"name": "n", "kind": "code", "code": "1"}


def test_from_dict_records_duplicate_nodes() -> None:
    pipeline = Pipeline.from_dict(
        {"name": "p", "nodes": [{"name": "a", "code": "1"}, {"name": "a", "code": "2"}]}
    )
    assert pipeline.duplicates == ["a"]
    assert [i.code for i in pipeline.validate()] == ["duplicate-node"]


def test_function_nodes_take_their_parameters_as_inputs() -> None:
    pipeline = Pipeline("p", params={"n": 4})

    @pipeline.node
    def numbers(n: int) -> list[int]:
        return list(range(n))

    @pipeline.node(name="total")
    def add_up(numbers: list[int]) -> int:
        return sum(numbers)

    assert pipeline.dependencies("total") == ("numbers",)
    result = pipeline.run(hooks=[])
    assert result.status == "succeeded", {n: r.error for n, r in result.node_runs.items()}
    assert result.outputs == {"numbers": [0, 1, 2, 3], "total": 6}


def test_docstring_example() -> None:
    p = Pipeline("demo", params={"n": 3})
    p.add(Node("numbers", code="list(range(n))"))
    p.add(Node("total", code="sum(numbers)"))
    assert p.run(hooks=[]).outputs["total"] == 3


def test_function_node_with_explicit_inputs_gets_parameters_too() -> None:
    pipeline = Pipeline("p", params={"n": 2})
    pipeline.add(Node("a", code="3"))
    pipeline.add(
        Node.from_function(lambda value, times: value * times, name="scaled", inputs=("a", "n"))
    )
    result = pipeline.run(hooks=[])
    assert result.outputs == {"a": 3, "scaled": 6}, result.node_runs["scaled"].error


def test_nodes_are_read_only_and_add_remove_update_the_graph() -> None:
    pipeline = Pipeline("p")
    pipeline.add(Node("a", code="1"))
    pipeline.add(Node("b", code="a + 1"))
    assert pipeline.order() == ["a", "b"]
    with pytest.raises(TypeError):
        pipeline.nodes["c"] = Node("c", code="b + 1")  # type: ignore[index]
    with pytest.raises(AttributeError):
        pipeline.nodes.pop("a")  # type: ignore[attr-defined]
    assert list(pipeline.nodes) == ["a", "b"]
    pipeline.add(Node("c", code="b + 1"))
    assert pipeline.order() == ["a", "b", "c"]
    assert pipeline.downstream("a") == {"b", "c"}
    pipeline.add(Node("b", code="2"))
    assert pipeline.upstream("c") == {"b"}
    pipeline.remove("a")
    assert pipeline.order() == ["b", "c"]
    pipeline.connect("c", "b")  # b now reads c too: a cycle
    assert [i.code for i in pipeline.validate()] == ["cycle"]


def test_copy_is_independent() -> None:
    pipeline = Pipeline("p", params={"n": 1})
    pipeline.add(Node("a", code="n"))
    other = pipeline.copy()
    other.add(Node("b", code="a + 1"))
    assert list(pipeline.nodes) == ["a"]
    assert other.order() == ["a", "b"]
    assert pipeline.order() == ["a"]

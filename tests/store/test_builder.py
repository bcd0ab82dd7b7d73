"""PipelineBuilder: round trips, versions, validation before writing, node edits, errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from pipeline_lab import Node, Pipeline, PipelineDefinitionError, StoreError
from pipeline_lab.components import COMPONENTS, Component, ComponentParams, get_component
from pipeline_lab.store import PipelineBuilder, Store
from pipeline_lab.store._models import PipelineRecord, PipelineVersionRecord

Factory = Callable[[], Pipeline]


def _count(store: Store, model: type) -> int:
    with store.session(write=False) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_create_and_get_round_trip(store: Store, sales: Factory) -> None:
    builder = PipelineBuilder(store)
    pipeline = sales()
    created = builder.create(pipeline, message="first cut")
    assert (created.name, created.version, created.nodes, created.message) == (
        "sales",
        1,
        3,
        "first cut",
    )
    loaded = builder.get("sales")
    assert loaded.to_dict() == pipeline.to_dict()
    assert loaded.nodes["paid"].retry == pipeline.nodes["paid"].retry
    assert loaded.nodes["paid"].position == (120.0, 40.5)
    assert loaded.setup[0].code == "import math\nTAX = 0.2"
    assert loaded.order() == ["orders", "paid", "total"]
    assert loaded.run(hooks=[]).outputs["total"] == pytest.approx(sum(range(11, 20)) * 1.2)


def test_component_node_round_trip(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    class KeepRowsParams(ComponentParams):
        where: str
        limit: int

    class KeepRows(Component):
        name, category, description, Params = "keep_rows", "transform", "test", KeepRowsParams

        def apply(self, inputs):  # type: ignore[no-untyped-def]
            raise NotImplementedError  # never run: only saved and read back

        def to_code(self) -> str:
            return ""

    get_component("filter")  # the built-ins are loaded before the test's own is added
    monkeypatch.setitem(COMPONENTS._items, "keep_rows", KeepRows)
    pipeline = Pipeline("components")
    pipeline.add(Node("numbers", code="[1, 2, 3]"))
    pipeline.add(
        Node(
            "kept",
            component="keep_rows",
            params={"where": "x > 1", "limit": 5},
            inputs=("numbers",),
            cache=True,
        )
    )
    builder = PipelineBuilder(store)
    builder.create(pipeline)
    saved = builder.get("components")
    assert saved.to_dict() == pipeline.to_dict()
    kept = saved.get("kept")
    assert (kept.kind, kept.component, dict(kept.params), kept.inputs, kept.cache) == (
        "component",
        "keep_rows",
        {"where": "x > 1", "limit": 5},
        ("numbers",),
        True,
    )


def test_every_node_field_survives_a_save(store: Store, sales: Factory) -> None:
    builder = PipelineBuilder(store)
    builder.create(sales())
    saved = builder.get("sales")
    assert list(saved.nodes) == ["orders", "paid", "total"]
    paid = saved.get("paid")
    assert paid.kind == "code" and (paid.code or "").startswith("[o for o in orders")
    assert (paid.retry.retries, paid.retry.delay, paid.retry.factor, paid.retry.cap) == (
        2,
        0.5,
        3.0,
        10.0,
    )
    assert (paid.timeout, paid.position, paid.inputs) == (30.0, (120.0, 40.5), None)
    assert saved.get("total").checks == ("total > 0",)
    assert saved.get("orders").tags == ("source",)
    assert [v.nodes for v in builder.versions("sales")] == [3]


def test_every_save_is_a_new_version(store: Store, sales: Factory) -> None:
    builder = PipelineBuilder(store)
    pipeline = sales()
    assert builder.save(pipeline).version == 1
    pipeline.params["threshold"] = 15
    assert builder.update(pipeline, message="higher threshold").version == 2
    assert builder.save(pipeline).version == 3
    assert [(v.version, v.message) for v in builder.versions("sales")] == [
        (1, "created"),
        (2, "higher threshold"),
        (3, None),
    ]
    assert builder.get("sales", version=1).params["threshold"] == 10
    assert builder.get("sales").params["threshold"] == 15
    [summary] = builder.list()
    assert (summary.name, summary.version, summary.nodes) == ("sales", 3, 3)
    assert summary.updated_at.tzinfo is not None


def test_list_is_sorted_by_name(store: Store, sales: Factory) -> None:
    builder = PipelineBuilder(store)
    for name in ("zeta", "alpha"):
        pipeline = sales()
        pipeline.name = name
        builder.create(pipeline)
    assert [p.name for p in builder.list()] == ["alpha", "zeta"]


def test_a_pipeline_with_a_cycle_is_refused_and_nothing_is_written(store: Store) -> None:
    pipeline = Pipeline("loop")
    pipeline.add(Node("a", code="b + 1"))
    pipeline.add(Node("b", code="a + 1"))
    pipeline.add(Node("c", code="undefined_name"))
    with pytest.raises(PipelineDefinitionError) as caught:
        PipelineBuilder(store).create(pipeline)
    assert "cycle" in str(caught.value) and "undefined_name" in str(caught.value)
    assert _count(store, PipelineRecord) == 0
    assert _count(store, PipelineVersionRecord) == 0


def test_an_invalid_update_keeps_the_current_version(store: Store, sales: Factory) -> None:
    builder = PipelineBuilder(store)
    builder.create(sales())
    broken = sales()
    broken.add(Node("orders", code="total + 1"))  # orders -> ... -> total -> orders
    with pytest.raises(PipelineDefinitionError, match="cycle"):
        builder.update(broken)
    assert [v.version for v in builder.versions("sales")] == [1]


def test_function_nodes_and_non_json_params_are_refused(store: Store) -> None:
    builder = PipelineBuilder(store)
    pipeline = Pipeline("funcs")
    pipeline.add(Node.from_function(lambda: 1, name="one"))
    with pytest.raises(PipelineDefinitionError, match="Python function"):
        builder.create(pipeline)
    pipeline = Pipeline("params", params={"when": object()})
    pipeline.add(Node("one", code="1"))
    with pytest.raises(PipelineDefinitionError, match="cannot be saved"):
        builder.create(pipeline)
    assert builder.list() == []


def test_creating_an_existing_pipeline_suggests_update(store: Store, sales: Factory) -> None:
    builder = PipelineBuilder(store)
    builder.create(sales())
    with pytest.raises(StoreError, match="already exists") as caught:
        builder.create(sales())
    assert "update()" in str(caught.value)


def test_unknown_names_suggest_close_ones(store: Store, sales: Factory) -> None:
    builder = PipelineBuilder(store)
    builder.create(sales())
    for call in (
        lambda: builder.get("sale"),
        lambda: builder.versions("sale"),
        lambda: builder.delete("sale"),
        lambda: builder.add_node("sale", Node("x", code="1")),
    ):
        with pytest.raises(StoreError, match="no pipeline 'sale'") as caught:
            call()
        assert "did you mean 'sales'" in str(caught.value)
    missing = sales()
    missing.name = "other"
    with pytest.raises(StoreError, match="saved pipelines: sales"):
        builder.update(missing)
    with pytest.raises(StoreError, match="no version 7"):
        builder.get("sales", version=7)


def test_delete_removes_every_version(store: Store, sales: Factory) -> None:
    builder = PipelineBuilder(store)
    builder.create(sales())
    builder.update(sales())
    builder.delete("sales")
    assert builder.list() == []
    assert _count(store, PipelineVersionRecord) == 0
    assert builder.create(sales()).version == 1


def test_node_edits_make_new_versions(store: Store, sales: Factory) -> None:
    builder = PipelineBuilder(store)
    builder.create(sales())
    added = builder.add_node("sales", Node("report", code="f'{total:.2f}'"))
    assert (added.version, added.nodes, added.message) == (2, 4, "add node 'report'")
    builder.update_node("sales", Node("paid", code="[o for o in orders if o['amount'] > 18]"))
    pipeline = builder.get("sales")
    assert list(pipeline.nodes) == ["orders", "paid", "total", "report"]  # the node kept its place
    assert pipeline.run(hooks=[]).outputs["report"] == "22.80"
    removed = builder.remove_node("sales", "report")
    assert (removed.version, removed.nodes) == (4, 3)
    assert [v.message for v in builder.versions("sales")][1:] == [
        "add node 'report'",
        "update node 'paid'",
        "remove node 'report'",
    ]


def test_node_edit_errors(store: Store, sales: Factory) -> None:
    builder = PipelineBuilder(store)
    builder.create(sales())
    with pytest.raises(StoreError, match=r"(?s)already has a node 'paid'.*update_node\(\)"):
        builder.add_node("sales", Node("paid", code="1"))
    with pytest.raises(StoreError, match="did you mean 'paid'"):
        builder.update_node("sales", Node("pad", code="1"))
    with pytest.raises(StoreError, match="did you mean 'total'"):
        builder.remove_node("sales", "totl")
    with pytest.raises(PipelineDefinitionError, match="paid"):
        builder.remove_node("sales", "paid")  # total reads it
    with pytest.raises(PipelineDefinitionError, match="cycle"):
        builder.add_node("sales", Node("orders2", code="total"))  # fine on its own...
        builder.update_node("sales", Node("orders", code="orders2"))  # ...but this loops
    assert builder.get("sales").nodes.keys() == {"orders", "paid", "total", "orders2"}

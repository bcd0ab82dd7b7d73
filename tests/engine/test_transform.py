"""The transformation engine: component chains stay one lazy plan until a value is needed."""

from __future__ import annotations

import pandas as pd
import polars as pl
import pytest

from pipeline_lab import Node, Pipeline
from pipeline_lab.engine import TransformationEngine
from pipeline_lab.errors import PipelineDefinitionError
from pipeline_lab.quality import ChecksGate


def _chain(source: object = None) -> Pipeline:
    frame = (
        source
        if source is not None
        else pl.DataFrame({"amount": [5, 20, 30, 40], "status": ["paid", "paid", "open", "paid"]})
    )
    p = Pipeline("chain")
    p.add(Node.from_function(lambda: frame, name="orders"))
    p.add(
        Node("paid", component="filter", params={"input": "orders", "condition": "status = 'paid'"})
    )
    p.add(Node("big", component="filter", params={"input": "paid", "condition": "amount > 10"}))
    return p


def test_interior_component_stays_lazy_and_the_end_is_collected():
    result = _chain().run(hooks=[])
    assert isinstance(result.outputs["paid"], pl.LazyFrame)  # fused into 'big', never collected
    assert isinstance(result.outputs["big"], pl.DataFrame)
    assert result.outputs["big"]["amount"].to_list() == [20, 40]
    assert result.node_runs["paid"].rows is None and result.node_runs["big"].rows == 2


def test_a_code_node_reading_a_component_gets_a_collected_frame():
    p = _chain()
    p.add(Node("total", code="int(paid['amount'].sum())"))
    result = p.run(hooks=[])
    assert isinstance(result.outputs["paid"], pl.DataFrame)
    assert result.outputs["total"] == 65


def test_checks_need_the_value():
    p = _chain()
    p.add(
        Node(
            "paid",
            component="filter",
            checks=("amount > 0",),
            params={"input": "orders", "condition": "status = 'paid'"},
        )
    )
    result = p.run(hooks=[ChecksGate()])
    assert result.ok and isinstance(result.outputs["paid"], pl.DataFrame)


def test_only_a_selected_interior_node_is_collected_as_the_end_of_its_run():
    result = _chain().run(only=["paid"], hooks=[])
    assert isinstance(result.outputs["paid"], pl.DataFrame) and result.outputs["paid"].height == 3


def test_materialize_collects_every_component():
    from pipeline_lab.engine import run_pipeline

    result = run_pipeline(_chain(), hooks=[], materialize=True)
    assert all(isinstance(result.outputs[n], pl.DataFrame) for n in ("paid", "big"))


def test_pandas_input_goes_through_arrow():
    source = pd.DataFrame({"amount": [5, 20, 30], "status": ["paid", "paid", "open"]})
    result = _chain(source).run(hooks=[])
    assert result.outputs["big"]["amount"].to_list() == [20]


def test_explain_shows_one_fused_filter():
    p = _chain()
    result = p.run(only=["orders"], hooks=[])
    plan = p.explain("big", result.outputs)
    assert plan.count("FILTER") == 1 and '"amount"' in plan and '"paid"' in plan
    assert p.explain("big", result.outputs, optimized=False).count("FILTER") == 2


def test_explain_of_a_code_node_or_without_values_is_a_clear_error():
    p = _chain()
    with pytest.raises(PipelineDefinitionError, match="code, not a component"):
        p.explain("orders", {})
    with pytest.raises(PipelineDefinitionError, match="run 'orders' first"):
        p.explain("big", {})


@pytest.mark.parametrize(
    ("streaming", "estimate", "expected"),
    [
        pytest.param(True, 0, True, id="forced-on"),
        pytest.param(False, 10**15, False, id="forced-off"),
        pytest.param(None, 10, False, id="small-input"),
        pytest.param(None, 10**15, True, id="input-larger-than-memory-share"),
    ],
)
def test_streaming_when_asked_or_when_inputs_are_large(streaming, estimate, expected):
    class Sized:
        def estimated_size(self) -> int:
            return estimate

    engine = TransformationEngine(_chain(), ["orders", "paid", "big"], streaming=streaming)
    assert engine.use_streaming({"orders": Sized()}) is expected


def test_streaming_engine_gives_the_same_result():
    from pipeline_lab.engine import run_pipeline

    fused = run_pipeline(_chain(), hooks=[], streaming=True).outputs["big"]
    assert fused.equals(run_pipeline(_chain(), hooks=[], streaming=False).outputs["big"])


def test_a_check_is_collected_where_it_is_and_fails_its_own_node():
    p = Pipeline("strict")
    p.add(Node.from_function(lambda: pl.DataFrame({"a": ["1", "x", "3"]}), name="raw"))
    p.add(Node("typed", component="schema", params={"input": "raw", "columns": {"a": "int64"}}))
    p.add(Node("big", component="filter", params={"input": "typed", "condition": "a > 1"}))
    engine = TransformationEngine(p, ["raw", "typed", "big"])
    assert engine.collected == {"typed", "big"}  # a check (must_collect) is never fused on
    result = p.run(hooks=[])
    assert result.node_runs["typed"].status.value == "failed"
    assert "1 of 3 values do not convert" in (result.node_runs["typed"].error or "")
    assert result.node_runs["big"].status.value == "skipped"


def _parameterized() -> Pipeline:
    p = Pipeline("params", params={"min_amount": 10, "status": "paid"})
    p.add(
        Node.from_function(
            lambda: pl.DataFrame(
                {"amount": [5, 20, 30, 40], "status": ["paid", "paid", "open", "paid"]}
            ),
            name="orders",
        )
    )
    p.add(
        Node(
            "big",
            component="filter",
            params={"input": "orders", "condition": "amount > :min_amount AND status = :status"},
        )
    )
    return p


def test_component_sql_reads_pipeline_parameters_as_literals():
    p = _parameterized()
    assert p.parameters_of("big") == ("min_amount", "status")
    assert p.run(hooks=[]).outputs["big"]["amount"].to_list() == [20, 40]
    assert p.run(params={"min_amount": 25}, hooks=[]).outputs["big"]["amount"].to_list() == [40]
    # a string parameter is a quoted literal, never code: no row has this status
    odd = p.run(params={"status": "x' OR '1'='1"}, hooks=[]).outputs["big"]
    assert odd.height == 0
    frame = pl.DataFrame({"amount": [1], "status": ["paid"]})
    plan = p.explain("big", {"orders": frame}, params={"min_amount": 25, "status": "paid"})
    assert "25" in plan and '"paid"' in plan


def test_unknown_sql_parameter_is_a_validation_issue():
    p = _parameterized()
    p.add(
        Node(
            "odd",
            component="filter",
            params={"input": "orders", "condition": "amount > :min_amout"},
        )
    )
    [issue] = [i for i in p.validate() if i.node == "odd"]
    assert issue.code == "unknown-parameter" and "did you mean 'min_amount'" in (issue.hint or "")

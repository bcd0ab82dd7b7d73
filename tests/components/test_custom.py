"""Custom transforms: @pipeline_lab.transform functions as components, and the python component."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import pipeline_lab
from pipeline_lab import Node, Pipeline, transform
from pipeline_lab.components import (
    COMPONENTS,
    ComponentError,
    component_names,
    components_by_category,
    get_component,
)
from pipeline_lab.errors import PipelineDefinitionError
from pipeline_lab.frames import to_polars


def scale(frame: pl.DataFrame, *, factor: float = 1.0, label: str = "x") -> pl.DataFrame:
    """Multiply the amounts by a factor.

    And label the rows.
    """
    assert isinstance(frame, pl.DataFrame)
    return frame.with_columns(pl.col("amount") * factor, label=pl.lit(label))


def pandas_scale(frame: pd.DataFrame, factor: float = 2.0) -> pd.DataFrame:
    assert isinstance(frame, pd.DataFrame)
    return frame.assign(amount=frame["amount"] * factor)


def lazy_scale(frame: pl.LazyFrame, factor: float = 2.0) -> pl.LazyFrame:
    assert isinstance(frame, pl.LazyFrame)
    return frame.with_columns(pl.col("amount") * factor)


def enrich(orders: pl.DataFrame, customers: pd.DataFrame, *, how: str = "left") -> pl.DataFrame:
    """Orders with their customer's region."""
    assert isinstance(customers, pd.DataFrame)
    return orders.join(pl.from_pandas(customers), on="customer", how=how)  # type: ignore[arg-type]


def stack(*frames: pl.DataFrame) -> pl.DataFrame:
    """All rows of every input."""
    return pl.concat(frames)


def threshold_rows(frame: pl.DataFrame, *, minimum: float) -> pl.DataFrame:
    """Rows at or above a required minimum amount."""
    return frame.filter(pl.col("amount") >= minimum)


@pytest.fixture(autouse=True)
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Transforms registered by a test are forgotten after it (other tests list the library)."""
    component_names()  # the built-ins first, so the snapshot holds them
    monkeypatch.setattr(COMPONENTS, "_items", dict(COMPONENTS._items))
    yield


@pytest.fixture
def sales() -> pl.DataFrame:
    return pl.DataFrame(
        {"customer": [1, 2, None], "amount": [10.0, None, 2.5], "été": ["a", "b", "c"]}
    )


@pytest.fixture
def customers() -> pl.DataFrame:
    return pl.DataFrame({"customer": [1, 2], "region": ["north", "süd"]})


def test_decorator_without_arguments_registers_a_transform() -> None:
    assert transform(scale) is scale  # still a plain function
    assert "scale" in component_names()
    cls = get_component("scale")
    assert cls.category == "transform"
    assert cls.description == "Multiply the amounts by a factor."
    assert cls in components_by_category()["transform"]
    schema = cls.json_schema()
    assert list(schema["properties"]) == ["input", "factor", "label"]
    assert schema["properties"]["factor"] == {"default": 1.0, "title": "Factor", "type": "number"}
    assert schema["required"] == ["input"]


def test_decorator_with_arguments() -> None:
    decorated = transform(name="scale_amounts", description="Scale amounts")(scale)
    assert decorated is scale
    cls = get_component("scale_amounts")
    assert cls.description == "Scale amounts"
    assert "scale" not in component_names()


def test_exported_at_the_top_level() -> None:
    assert pipeline_lab.transform is transform
    assert "transform" in pipeline_lab.__all__


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param(
            {"input": "sales", "factor": "big"},
            ["parameter 'factor'", "factor: float"],
            id="wrong-type",
        ),
        pytest.param(
            {"input": "sales", "label": 3}, ["parameter 'label'", "label: str"], id="wrong-type-str"
        ),
        pytest.param(
            {"input": "sales", "fator": 2}, ["unknown parameter 'fator'", "factor"], id="unknown"
        ),
        pytest.param({"factor": 2}, ["parameter 'input' is required"], id="no-input"),
    ],
)
def test_parameter_errors_name_the_parameter_and_type(
    params: dict[str, Any], expected: list[str]
) -> None:
    transform(scale)
    with pytest.raises(ComponentError) as caught:
        get_component("scale")(params, node="scaled")
    assert all(e in str(caught.value) for e in expected), str(caught.value)


def test_required_keyword_parameter() -> None:
    transform(threshold_rows)
    with pytest.raises(ComponentError, match="parameter 'minimum' is required"):
        get_component("threshold_rows")({"input": "sales"})


def test_polars_function_gets_a_dataframe(sales: pl.DataFrame, run_code: Any) -> None:
    transform(scale)
    component = get_component("scale")({"input": "sales", "factor": 2}, node="scaled")
    out = component.build({"sales": sales.lazy()})
    assert isinstance(out, pl.LazyFrame)
    expected = sales.with_columns(amount=pl.Series([20.0, None, 5.0]), label=pl.lit("x"))
    assert_frame_equal(out.collect(), expected)
    code = component.to_code()
    assert code == f"from {scale.__module__} import scale\nscale(sales, factor=2.0)"
    assert_frame_equal(run_code(code, {"sales": sales}), expected)


def test_pandas_function_gets_pandas_and_returns_through_arrow(
    sales: pl.DataFrame, run_code: Any
) -> None:
    transform(pandas_scale)
    component = get_component("pandas_scale")({"input": "sales"})
    out = component.build({"sales": sales}).collect()
    assert out.get_column("amount").to_list() == [20.0, None, 5.0]
    assert out.columns == ["customer", "amount", "été"]
    assert_frame_equal(to_polars(run_code(component.to_code(), {"sales": sales.to_pandas()})), out)


def test_lazy_function_keeps_the_plan(sales: pl.DataFrame) -> None:
    transform(lazy_scale)
    plan = get_component("lazy_scale")({"input": "sales", "factor": 3}).build(
        {"sales": sales.lazy()}
    )
    assert plan.collect().get_column("amount").to_list() == [30.0, None, 7.5]


def test_function_of_several_frames(sales: pl.DataFrame, customers: pl.DataFrame) -> None:
    transform(enrich)
    cls = get_component("enrich")
    assert list(cls.json_schema()["properties"]) == ["inputs", "how"]
    component = cls({"inputs": ["sales", "customers"], "how": "inner"})
    assert component.input_names() == ("sales", "customers")
    out = component.build({"sales": sales, "customers": customers}).collect()
    assert out.get_column("region").to_list() == ["north", "süd"]
    with pytest.raises(ComponentError, match="parameter 'inputs'"):
        cls({"inputs": ["sales"]})


def test_function_of_any_number_of_frames(sales: pl.DataFrame) -> None:
    transform(stack)
    component = get_component("stack")({"inputs": ["a", "b", "c"]})
    out = component.build({"a": sales, "b": sales, "c": sales.head(1)}).collect()
    assert out.height == 7


def test_function_errors_are_wrapped_with_the_node(sales: pl.DataFrame) -> None:
    @transform
    def broken(frame: pl.DataFrame) -> pl.DataFrame:
        raise ValueError("no amounts today")

    @transform
    def not_a_frame(frame: pl.DataFrame) -> int:
        return 3

    with pytest.raises(
        ComponentError, match="broken failed: ValueError: no amounts today"
    ) as caught:
        get_component("broken")({"input": "sales"}, node="b").build({"sales": sales})
    assert caught.value.node == "b"
    with pytest.raises(ComponentError, match="returned a int, not a frame"):
        get_component("not_a_frame")({"input": "sales"}).build({"sales": sales})


@pytest.mark.parametrize(
    ("func", "expected"),
    [
        pytest.param(lambda *, n=1: None, "takes its input frame", id="no-frame"),
        pytest.param(
            lambda frame, **options: frame, "cannot become typed parameters", id="var-keyword"
        ),
        pytest.param(
            lambda frame, input="x": frame, "'input' names the input nodes", id="reserved-name"
        ),
    ],
)
def test_unusable_signatures_are_refused(func: Any, expected: str) -> None:
    with pytest.raises(TypeError, match=expected):
        transform(name="bad")(func)


def test_lambda_needs_a_name() -> None:
    with pytest.raises(TypeError, match="pass name="):
        transform(lambda frame: frame)


def test_cannot_shadow_a_builtin_component() -> None:
    with pytest.raises(PipelineDefinitionError, match="'filter' already exists"):
        transform(name="filter")(scale)
    assert get_component("filter").__module__.endswith("rows")


def test_redefining_replaces_the_earlier_transform(sales: pl.DataFrame) -> None:
    transform(name="clean")(scale)
    transform(name="clean")(pandas_scale)  # a re-run notebook cell
    out = get_component("clean")({"input": "sales"}).build({"sales": sales}).collect()
    assert out.get_column("amount").to_list() == [20.0, None, 5.0]


def test_runs_as_a_node_in_a_pipeline(sales: pl.DataFrame, customers: pl.DataFrame) -> None:
    transform(scale)
    transform(enrich)
    pipeline = Pipeline("shop")
    pipeline.add(Node.from_function(lambda: sales, name="sales"))
    pipeline.add(Node.from_function(lambda: customers.to_pandas(), name="customers"))
    pipeline.add(Node("doubled", component="scale", params={"input": "sales", "factor": 2.0}))
    pipeline.add(Node("regions", component="enrich", params={"inputs": ["doubled", "customers"]}))
    pipeline.add(
        Node("paid", component="filter", params={"input": "regions", "condition": "amount > 0"})
    )
    assert pipeline.validate() == []
    result = pipeline.run(hooks=[])
    assert result.ok, {n: r.error for n, r in result.node_runs.items()}
    paid = to_polars(result.outputs["paid"])
    assert paid.select("amount", "region").rows() == [(20.0, "north"), (5.0, None)]


def test_python_component_runs_a_registered_transform(sales: pl.DataFrame, run_code: Any) -> None:
    transform(scale)
    component = get_component("python")(
        {"input": "sales", "function": "scale", "params": {"factor": 3}}
    )
    assert component.input_names() == ("sales",)
    out = component.build({"sales": sales}).collect()
    assert out.get_column("amount").to_list() == [30.0, None, 7.5]
    assert_frame_equal(run_code(component.to_code(), {"sales": sales}), out)


def test_python_component_with_several_inputs(sales: pl.DataFrame, customers: pl.DataFrame) -> None:
    transform(enrich)
    component = get_component("python")({"inputs": ["sales", "customers"], "function": "enrich"})
    out = component.build({"sales": sales, "customers": customers}).collect()
    assert out.columns == ["customer", "amount", "été", "region"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param(
            {"input": "s", "function": "scal"},
            ["no custom transform named 'scal'", "registered: ", "scale", "did you mean 'scale'"],
            id="unknown-function",
        ),
        pytest.param(
            {"input": "s", "function": "filter"},
            ["no custom transform named 'filter'"],
            id="builtin-is-not-custom",
        ),
        pytest.param(
            {"input": "s", "function": "os.system"},
            ["no custom transform named 'os.system'"],
            id="no-import-paths",
        ),
        pytest.param(
            {"input": "s", "function": "scale", "params": {"factor": "x"}},
            ["rejects its arguments", "parameter 'factor'", "factor: float"],
            id="bad-params",
        ),
        pytest.param({"function": "scale"}, ["give either 'input'"], id="no-input"),
        pytest.param(
            {"input": "s", "function": "scale", "params": {"input": "t"}},
            ["beside 'params'"],
            id="input-inside-params",
        ),
    ],
)
def test_python_component_errors(params: dict[str, Any], expected: list[str]) -> None:
    transform(scale)
    with pytest.raises(ComponentError) as caught:
        get_component("python")(params, node="p")
    assert all(e in str(caught.value) for e in expected), str(caught.value)


def test_unknown_function_is_a_validation_issue() -> None:
    pipeline = Pipeline("shop")
    pipeline.add(Node("p", component="python", params={"input": "p0", "function": "nope"}))
    pipeline.add(Node.from_function(lambda: pl.DataFrame({"a": [1]}), name="p0"))
    [issue] = pipeline.validate()
    assert issue.code == "bad-parameters" and "no custom transform named 'nope'" in issue.message


def test_importing_pipeline_lab_stays_light() -> None:
    import subprocess

    code = "import pipeline_lab, sys; print('polars' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_unresolvable_hints_fall_back_to_defaults(sales: pl.DataFrame) -> None:
    def tag(frame: Undefined, *, label: AlsoUndefined = "x", n: Missing = None) -> pl.DataFrame:  # noqa: F821
        return frame.with_columns(tag=pl.lit(label))

    transform(tag)
    cls = get_component("tag")
    assert cls.json_schema()["properties"]["label"]["type"] == "string"
    out = cls({"input": "sales", "label": "y", "n": [1]}).build({"sales": sales}).collect()
    assert out.get_column("tag").to_list() == ["y"] * 3
    with pytest.raises(ComponentError, match="parameter 'label'"):
        cls({"input": "sales", "label": 3})

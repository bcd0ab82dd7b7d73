"""Reshaping: pivot (long to wide) and unpivot (wide to long)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from pipeline_lab.components import component
from pipeline_lab.components._base import (
    ColumnLineage,
    ColumnList,
    Component,
    ComponentError,
    ComponentParams,
    NodeInput,
    code_list,
)
from pipeline_lab.components._expressions import require_columns

if TYPE_CHECKING:
    import polars as pl


PivotAggregate = Literal["first", "last", "sum", "mean", "median", "min", "max", "count", "len"]


class PivotParams(ComponentParams):
    input: str = NodeInput()
    index: ColumnList = Field(description="columns that identify an output row")
    on: str = Field(description="the column whose values become columns")
    values: ColumnList | None = Field(None, description="value columns (default: all others)")
    aggregate: PivotAggregate = Field(
        "first", description="how to combine several values for one cell (count: non-null)"
    )
    on_columns: list[str | int | float | bool] | None = Field(
        None,
        description="the values of 'on' that become columns (default: every distinct value, "
        "which reads the input once more)",
    )


@component
class Pivot(Component[PivotParams]):
    """Long to wide: one row per index, one column per distinct value of ``on``.

    A polars lazy pivot must know its output columns in advance. Unless ``on_columns`` lists
    them, :meth:`apply` collects the distinct values of ``on`` (sorted, null last) first: the
    one place a component reads its input before the plan runs, so that input is computed twice.
    """

    name = "pivot"
    category = "transform"
    description = "Long to wide: one column per distinct value of a column"
    Params = PivotParams

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        params = self.params
        frame = inputs[params.input]
        names = frame.collect_schema().names()
        for param, wanted in (
            ("on", [params.on]),
            ("index", params.index),
            ("values", params.values or []),
        ):
            require_columns(
                names,
                wanted,
                param=param,
                component=self.name,
                node=self.node,
                input_name=params.input,
            )
        if params.on in params.index:
            raise ComponentError(
                f"pivot: column '{params.on}' cannot be both 'on' and an 'index' column",
                node=self.node,
            )
        values = self._values(names)
        if not values:
            raise ComponentError(
                "pivot: no value columns are left once 'on' and 'index' are taken",
                node=self.node,
                hint="name the 'values' columns, or drop some 'index' columns",
            )
        return frame.pivot(
            params.on,
            on_columns=self._on_columns(frame),
            index=params.index,
            values=values,
            aggregate_function=self._aggregate(),
            maintain_order=True,
        )

    def output_schema(self, input_schemas: Mapping[str, Mapping[str, Any]]) -> pl.Schema | None:
        # Without on_columns the columns are the data's distinct values: none in empty frames.
        return None if self.params.on_columns is None else super().output_schema(input_schemas)

    def _values(self, names: list[str]) -> list[str]:
        params = self.params
        if params.values is not None:
            return params.values
        return [c for c in names if c != params.on and c not in params.index]

    def _on_columns(self, frame: pl.LazyFrame) -> Any:
        import polars as pl

        if self.params.on_columns is not None:
            return self.params.on_columns
        distinct = pl.col(self.params.on).unique().sort(nulls_last=True)
        return frame.select(distinct).collect().to_series()

    def _aggregate(self) -> Any:
        import polars as pl

        aggregate = self.params.aggregate
        # polars' "len" counts rows; "count" counts non-null values, as SQL COUNT(x) does.
        return pl.element().count() if aggregate == "count" else aggregate

    def columns(self, input_schemas: Mapping[str, Mapping[str, Any]]) -> list[ColumnLineage]:
        """Index columns, and the pivoted ones when ``on_columns`` names them (else unknown
        until the data is read)."""
        import polars as pl

        params = self.params
        schema = input_schemas[params.input]
        values = self._values(list(schema))
        lineage = [ColumnLineage(c, ((params.input, c),), "direct") for c in params.index]
        if params.on_columns is None:
            return lineage
        plan = self.apply({params.input: pl.LazyFrame(schema=dict(schema))})
        for column in plan.collect_schema().names()[len(params.index) :]:
            value = values[0]
            if len(values) > 1:
                value = next((v for v in values if column.startswith(f"{v}_")), value)
            sources = ((params.input, params.on), (params.input, value))
            lineage.append(ColumnLineage(column, sources, "aggregated"))
        return lineage

    def to_code(self) -> str:
        params = self.params
        source = params.input
        if params.on_columns is not None:
            on_columns = code_list(params.on_columns)
        else:
            on_columns = (
                f"{source}.select(pl.col({params.on!r}).unique().sort(nulls_last=True))"
                ".collect().to_series()"
            )
        values = (
            code_list(params.values)
            if params.values is not None
            else f"[c for c in {source}.collect_schema().names() "
            f"if c not in {code_list([params.on, *params.index])}]"
        )
        aggregate = (
            "pl.element().count()" if params.aggregate == "count" else repr(params.aggregate)
        )
        return (
            f"{source}.pivot(\n    {params.on!r},\n    on_columns={on_columns},\n"
            f"    index={code_list(params.index)},\n    values={values},\n"
            f"    aggregate_function={aggregate},\n    maintain_order=True,\n)"
        )


class UnpivotParams(ComponentParams):
    input: str = NodeInput()
    index: ColumnList = Field(default_factory=list, description="columns kept on every row")
    on: ColumnList | None = Field(None, description="columns to unpivot (default: all others)")
    variable_name: str = Field("variable", description="the column of former column names")
    value_name: str = Field("value", description="the column of their values")


@component
class Unpivot(Component[UnpivotParams]):
    """Wide to long: one row per index and unpivoted column (name, value)."""

    name = "unpivot"
    category = "transform"
    description = "Wide to long: turn columns into (variable, value) rows"
    Params = UnpivotParams

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        params = self.params
        frame = inputs[params.input]
        names = frame.collect_schema().names()
        for param, wanted in (("index", params.index), ("on", params.on or [])):
            require_columns(
                names,
                wanted,
                param=param,
                component=self.name,
                node=self.node,
                input_name=params.input,
            )
        clash = {params.variable_name, params.value_name} & set(params.index)
        if params.variable_name == params.value_name or clash:
            raise ComponentError(
                "unpivot: 'variable_name' and 'value_name' must differ from each other and "
                f"from the index columns (got {params.variable_name!r}, {params.value_name!r})",
                node=self.node,
                hint="choose other names for the new columns",
            )
        return frame.unpivot(
            self._on(names),
            index=params.index,
            variable_name=params.variable_name,
            value_name=params.value_name,
        )

    def _on(self, names: list[str]) -> list[str]:
        if self.params.on is not None:
            return self.params.on
        return [c for c in names if c not in self.params.index]

    def columns(self, input_schemas: Mapping[str, Mapping[str, Any]]) -> list[ColumnLineage]:
        params = self.params
        unpivoted = tuple((params.input, c) for c in self._on(list(input_schemas[params.input])))
        return [
            *(ColumnLineage(c, ((params.input, c),), "direct") for c in params.index),
            ColumnLineage(params.variable_name, unpivoted, "derived"),
            ColumnLineage(params.value_name, unpivoted, "derived"),
        ]

    def to_code(self) -> str:
        params = self.params
        on = code_list(params.on) if params.on is not None else "None"
        return (
            f"{params.input}.unpivot({on}, index={code_list(params.index)}, "
            f"variable_name={params.variable_name!r}, value_name={params.value_name!r})"
        )

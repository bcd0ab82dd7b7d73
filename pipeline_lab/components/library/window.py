"""Window functions: rank, row_number, lag, lead, rolling sums and means, running sums.

Each output column is a polars expression evaluated ``over`` a partition in an order, like
SQL's ``f(...) OVER (PARTITION BY ... ORDER BY ...)``. Nulls in the ordering columns sort
last, in either direction. Rows keep their input order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from pipeline_lab.components import component
from pipeline_lab.components._base import (
    ColumnLineage,
    ColumnList,
    Component,
    ComponentParams,
    NodeInput,
    code_list,
)
from pipeline_lab.components._expressions import require_columns

if TYPE_CHECKING:
    import polars as pl

WindowFunction = Literal[
    "rank", "dense_rank", "row_number", "lag", "lead", "rolling_sum", "rolling_mean", "cum_sum"
]
_RANKS = ("rank", "dense_rank", "row_number")
_ROLLING = ("rolling_sum", "rolling_mean")


class WindowSpec(ComponentParams):
    function: WindowFunction
    column: str | None = Field(None, description="the value column (lag, lead, rolling, cum_sum)")
    partition_by: ColumnList = Field(default_factory=list, description="restart per group")
    order_by: ColumnList = Field(default_factory=list, description="row order within a group")
    descending: bool = Field(False, description="order_by from largest to smallest")
    offset: int = Field(1, ge=1, description="lag/lead: how many rows back or ahead")
    window_size: int | None = Field(None, ge=1, description="rolling: rows in the window")
    min_samples: int = Field(
        1, ge=1, description="rolling: fewest non-null values for a result (1: partial windows)"
    )

    @model_validator(mode="after")
    def _fits_function(self) -> WindowSpec:
        function = self.function
        if function in _RANKS and self.column is not None:
            raise ValueError(f"{function} orders rows by 'order_by'; it takes no 'column'")
        if function not in _RANKS and self.column is None:
            raise ValueError(f"{function} needs 'column', the column it reads")
        if function in ("rank", "dense_rank") and not self.order_by:
            raise ValueError(f"{function} needs 'order_by', the columns it ranks by")
        if function in _ROLLING and self.window_size is None:
            raise ValueError(f"{function} needs 'window_size', the number of rows it spans")
        if function not in _ROLLING and self.window_size is not None:
            raise ValueError(f"'window_size' is for rolling_sum and rolling_mean, not {function}")
        return self


class WindowParams(ComponentParams):
    input: str = NodeInput()
    columns: dict[str, WindowSpec] = Field(
        min_length=1, description="output column -> window function spec"
    )


@component
class Window(Component[WindowParams]):
    """Add window-function columns (rank, lag, rolling_sum, ...) over partitions."""

    name = "window"
    category = "transform"
    description = "Add rank, row_number, lag, lead, rolling and running columns over partitions"
    Params = WindowParams

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        params = self.params
        frame = inputs[params.input]
        names = frame.collect_schema().names()
        exprs = []
        for output, spec in params.columns.items():
            for field, wanted in (
                ("column", [spec.column] if spec.column else []),
                ("partition_by", spec.partition_by),
                ("order_by", spec.order_by),
            ):
                require_columns(
                    names,
                    wanted,
                    param=f"columns.{output}.{field}",
                    component=self.name,
                    node=self.node,
                    input_name=params.input,
                )
            exprs.append(window_expr(spec)[0].alias(output))
        return frame.with_columns(exprs)

    def columns(self, input_schemas: Mapping[str, Mapping[str, Any]]) -> list[ColumnLineage]:
        params = self.params
        source = params.input
        lineage = [
            ColumnLineage(c, ((source, c),), "direct")
            for c in input_schemas[source]
            if c not in params.columns
        ]
        for output, spec in params.columns.items():
            read = [spec.column] if spec.column else []
            read += [*spec.order_by, *spec.partition_by]
            sources = tuple((source, c) for c in dict.fromkeys(read))
            lineage.append(ColumnLineage(output, sources, "derived"))
        return lineage

    def to_code(self) -> str:
        params = self.params
        exprs = "".join(
            f"    {window_expr(spec)[1]}.alias({output!r}),\n"
            for output, spec in params.columns.items()
        )
        return f"{params.input}.with_columns(\n{exprs})"


def window_expr(spec: WindowSpec) -> tuple[pl.Expr, str]:
    """The polars expression of ``spec`` and the same expression as code."""
    import polars as pl

    function = spec.function
    if function in ("rank", "dense_rank"):
        method: Literal["min", "dense"] = "min" if function == "rank" else "dense"
        # A struct of (null flag, value) per key ranks nulls last in either direction.
        flag = "is_not_null" if spec.descending else "is_null"
        fields = []
        codes = []
        for i, column in enumerate(spec.order_by):
            fields += [
                getattr(pl.col(column), flag)().alias(f"n{i}"),
                pl.col(column).alias(f"v{i}"),
            ]
            codes += [
                f"pl.col({column!r}).{flag}().alias('n{i}')",
                f"pl.col({column!r}).alias('v{i}')",
            ]
        expr = pl.struct(fields).rank(method, descending=spec.descending)
        code = f"pl.struct({', '.join(codes)}).rank({method!r}, descending={spec.descending})"
        return _over(expr, code, spec.partition_by, None, spec.descending)
    if function == "row_number":
        expr, code = pl.int_range(1, pl.len() + 1), "pl.int_range(1, pl.len() + 1)"
    else:
        column = spec.column or ""  # set for every value function (WindowSpec checks)
        value, code = pl.col(column), f"pl.col({column!r})"
        if function in ("lag", "lead"):
            shift = spec.offset if function == "lag" else -spec.offset
            expr, code = value.shift(shift), f"{code}.shift({shift})"
        elif function in _ROLLING:
            size, least = spec.window_size or 1, spec.min_samples
            expr = getattr(value, function)(size, min_samples=least)
            code = f"{code}.{function}({size}, min_samples={least})"
        else:
            expr, code = value.cum_sum(), f"{code}.cum_sum()"
    return _over(expr, code, spec.partition_by, spec.order_by, spec.descending)


def _over(
    expr: pl.Expr,
    code: str,
    partition_by: list[str],
    order_by: list[str] | None,
    descending: bool,
) -> tuple[pl.Expr, str]:
    if not partition_by and not order_by:
        return expr, code
    partition = partition_by or None
    if not order_by:
        return expr.over(partition), f"{code}.over({code_list(partition_by)})"
    expr = expr.over(partition, order_by=order_by, descending=descending, nulls_last=True)
    partition_code = code_list(partition_by) if partition_by else "None"
    code = (
        f"{code}.over({partition_code}, order_by={code_list(order_by)}, "
        f"descending={descending}, nulls_last=True)"
    )
    return expr, code

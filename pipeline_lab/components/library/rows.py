"""Row transforms: filter, sort, deduplicate, fill_null, drop_nulls, sample, limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline_lab.components import component
from pipeline_lab.components._base import Component, ComponentParams, NodeInput
from pipeline_lab.components._expressions import require_columns, sql_expr

if TYPE_CHECKING:
    import polars as pl


class FilterParams(ComponentParams):
    input: str = NodeInput()
    condition: str


@component
class Filter(Component[FilterParams]):
    """Keep the rows where a SQL condition holds (NULL counts as false)."""

    name = "filter"
    category = "transform"
    description = "Keep the rows where a SQL condition holds"
    Params = FilterParams

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        params = self.params
        frame = inputs[params.input]
        expr = sql_expr(params.condition, param="condition", component=self.name, node=self.node)
        require_columns(
            frame.collect_schema().names(),
            expr.meta.root_names(),
            param="condition",
            component=self.name,
            node=self.node,
            input_name=params.input,
        )
        return frame.filter(expr)

    def columns(self, input_schemas):
        params = self.params
        from pipeline_lab.components._base import ColumnLineage

        return [
            ColumnLineage(c, ((params.input, c),), "filtered") for c in input_schemas[params.input]
        ]

    def to_code(self) -> str:
        params = self.params
        return f"{params.input}.filter(pl.sql_expr({params.condition!r}))"

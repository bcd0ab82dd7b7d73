"""Row transforms: filter, sort, deduplicate, fill_null, drop_nulls, sample, limit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from pipeline_lab.components import component
from pipeline_lab.components._base import (
    ColumnLineage,
    Component,
    ComponentError,
    ComponentParams,
    NodeInput,
)
from pipeline_lab.components._expressions import checked_expression, sql_expr
from pipeline_lab.components.library.columns import (
    require_input,
    resolved,
    same_name_lineage,
)

if TYPE_CHECKING:
    import polars as pl

Schemas = Mapping[str, Mapping[str, Any]]
FillValue = bool | int | float | str | datetime | date


def _call(subject: str, method: str, *args: Any, **options: Any) -> str:
    """``subject.method(args, key=value)`` with values as Python literals."""
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in options.items()]
    return f"{subject}.{method}({', '.join(parts)})"


# -- filter ------------------------------------------------------------------------------------
class FilterParams(ComponentParams):
    input: str = NodeInput()
    condition: str = Field(description="SQL condition over the input's columns")


@component
class Filter(Component[FilterParams]):
    """Keep the rows where a SQL condition holds (NULL counts as false)."""

    name = "filter"
    category = "transform"
    description = "Keep the rows where a SQL condition holds"
    Params = FilterParams

    def check_parameters(self) -> None:
        self._condition()

    def _condition(self) -> str:
        """The condition as polars runs it (the SQL policy's text)."""
        return checked_expression(
            self.params.condition, param="condition", component=self.name, node=self.node
        )

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        frame = inputs[self.params.input]
        expr = sql_expr(
            self.params.condition, param="condition", component=self.name, node=self.node
        )
        require_input(self, frame, expr.meta.root_names(), "condition")
        return resolved(self, frame.filter(expr), "condition", self.params.condition)

    def columns(self, input_schemas: Schemas) -> list[ColumnLineage]:
        return same_name_lineage(self, input_schemas, "filtered")

    def to_code(self) -> str:
        return f"{self.params.input}.filter(pl.sql_expr({self._condition()!r}))"


# -- sort --------------------------------------------------------------------------------------
class SortParams(ComponentParams):
    input: str = NodeInput()
    by: str | list[str] = Field(description="the column (or columns, in order) to sort by")
    descending: bool | list[bool] = Field(False, description="one flag, or one per column")
    nulls_last: bool | list[bool] = Field(False, description="one flag, or one per column")
    maintain_order: bool = Field(True, description="rows with equal keys keep their order")

    @model_validator(mode="after")
    def _one_flag_per_column(self) -> SortParams:
        by = [self.by] if isinstance(self.by, str) else self.by
        if not by:
            raise ValueError("'by' names no column")
        for key in ("descending", "nulls_last"):
            flags = getattr(self, key)
            if isinstance(flags, list) and len(flags) != len(by):
                raise ValueError(f"'{key}' has {len(flags)} flags for {len(by)} 'by' columns")
        return self


@component
class Sort(Component[SortParams]):
    """Order the rows by one or more columns."""

    name = "sort"
    category = "transform"
    description = "Order the rows by one or more columns"
    Params = SortParams

    def _options(self) -> dict[str, Any]:
        p = self.params
        return {
            "descending": p.descending,
            "nulls_last": p.nulls_last,
            "maintain_order": p.maintain_order,
        }

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        frame = inputs[self.params.input]
        by = self.params.by
        require_input(self, frame, [by] if isinstance(by, str) else by, "by")
        return frame.sort(by, **self._options())

    def columns(self, input_schemas: Schemas) -> list[ColumnLineage]:
        return same_name_lineage(self, input_schemas, "direct")

    def to_code(self) -> str:
        return _call(self.params.input, "sort", self.params.by, **self._options())


# -- deduplicate -------------------------------------------------------------------------------
class DeduplicateParams(ComponentParams):
    input: str = NodeInput()
    subset: list[str] | None = Field(
        None, min_length=1, description="columns that identify a duplicate (default: all)"
    )
    keep: Literal["first", "last", "none"] = Field(
        "first", description="which of the duplicates to keep (none: drop them all)"
    )
    maintain_order: bool = Field(True, description="kept rows stay in input order")


@component
class Deduplicate(Component[DeduplicateParams]):
    """Drop duplicate rows, comparing all columns or a subset."""

    name = "deduplicate"
    category = "transform"
    description = "Drop duplicate rows (all columns or a subset)"
    Params = DeduplicateParams

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        p = self.params
        frame = inputs[p.input]
        require_input(self, frame, p.subset or (), "subset")
        return frame.unique(p.subset, keep=p.keep, maintain_order=p.maintain_order)

    def columns(self, input_schemas: Schemas) -> list[ColumnLineage]:
        return same_name_lineage(self, input_schemas, "filtered")

    def to_code(self) -> str:
        p = self.params
        return _call(p.input, "unique", p.subset, keep=p.keep, maintain_order=p.maintain_order)


# -- fill_null ---------------------------------------------------------------------------------
Strategy = Literal["forward", "backward", "min", "max", "mean", "zero", "one"]
_NUMERIC_ONLY = ("mean", "zero", "one")


class FillNullParams(ComponentParams):
    input: str = NodeInput()
    columns: list[str] | None = Field(
        None, min_length=1, description="columns to fill (default: every column that fits)"
    )
    value: FillValue | None = Field(None, description="the value to put in place of nulls")
    strategy: Strategy | None = Field(None, description="or how to compute the fill")
    limit: int | None = Field(
        None, ge=1, description="forward/backward: fill at most this many nulls in a row"
    )

    @field_validator("value")
    @classmethod
    def _integral(cls, value: FillValue | None) -> FillValue | None:
        # 2.0 fills integer columns as 2 does, instead of turning them into floats.
        return int(value) if isinstance(value, float) and value.is_integer() else value

    @model_validator(mode="after")
    def _value_or_strategy(self) -> FillNullParams:
        if (self.value is None) == (self.strategy is None):
            raise ValueError(
                "give exactly one of 'value' (e.g. value: 0) or 'strategy' "
                "(forward, backward, min, max, mean, zero, one)"
            )
        if self.limit is not None and self.strategy not in ("forward", "backward"):
            raise ValueError("'limit' only applies to strategy forward or backward")
        if isinstance(self.value, datetime) and self.value.tzinfo is not None:
            raise ValueError("'value' must be a datetime without time zone")
        return self


# The columns each kind of fill fits, as a ``pl.selectors`` function and its options.
_KINDS: dict[str, tuple[str, dict[str, Any]]] = {
    "any": ("all", {}),
    "numeric": ("numeric", {}),
    "float": ("float", {}),
    "boolean": ("boolean", {}),
    "string": ("string", {"include_categorical": True}),
    "datetime": ("datetime", {"time_zone": None}),
    "date": ("date", {}),
}


@component
class FillNull(Component[FillNullParams]):
    """Replace nulls with a value, or with the previous, next, min, max or mean value.

    A value fills only the columns of its kind, so no column changes type: an integer fills
    numeric columns, a non-integral number float columns, a string string and categorical
    columns, a boolean boolean ones, a date date columns, a datetime naive datetime columns.
    mean, zero and one fill numeric columns; forward, backward, min and max every column.
    """

    name = "fill_null"
    category = "transform"
    description = "Replace nulls with a value or a strategy (forward, mean, ...)"
    Params = FillNullParams

    def _kind(self) -> str:
        value, strategy = self.params.value, self.params.strategy
        if strategy is not None:
            return "numeric" if strategy in _NUMERIC_ONLY else "any"
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, int | float):
            return "numeric" if isinstance(value, int) else "float"
        if isinstance(value, str):
            return "string"
        return "datetime" if isinstance(value, datetime) else "date"

    def _selector(self) -> Any:
        import polars as pl

        method, options = _KINDS[self._kind()]
        return getattr(pl.selectors, method)(**options)

    def _targets(self, schema: Mapping[str, Any]) -> list[str]:
        """The columns this fill changes; named columns that do not fit are an error."""
        import polars as pl

        fits = pl.LazyFrame(schema=dict(schema)).select(self._selector()).collect_schema().names()
        if self.params.columns is None:
            return fits
        for column in self.params.columns:
            if column not in fits:
                what = self.params.strategy or f"value {self.params.value!r}"
                raise ComponentError(
                    f"{self.name}: {what} does not fit column {column!r} of type "
                    f"{schema[column]} (it fills {self._kind()} columns)",
                    node=self.node,
                    hint="use a value of the column's type, or cast the column first",
                )
        return list(self.params.columns)

    def _fill(self) -> tuple[dict[str, Any], str]:
        """The ``fill_null`` arguments, and their code."""
        import polars as pl

        p, value = self.params, self.params.value
        if p.strategy is not None:
            options: dict[str, Any] = {"strategy": p.strategy}
            if p.limit is not None:
                options["limit"] = p.limit
            return options, ", ".join(f"{k}={v!r}" for k, v in options.items())
        if isinstance(value, datetime):
            parts = (value.year, value.month, value.day, value.hour, value.minute, value.second)
            code = f"pl.datetime({', '.join(map(str, parts))}, {value.microsecond})"
            return {"value": pl.lit(value)}, code
        if isinstance(value, date):
            return {"value": pl.lit(value)}, f"pl.date({value.year}, {value.month}, {value.day})"
        return {"value": value}, repr(value)

    def _selection(self) -> tuple[str, Any]:
        """Code and expression for the columns to fill."""
        import polars as pl

        if self.params.columns is not None:
            columns = self.params.columns
            return f"pl.col({', '.join(map(repr, columns))})", pl.col(columns)
        method, options = _KINDS[self._kind()]
        return _call("pl.selectors", method, **options), self._selector()

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        p = self.params
        frame = inputs[p.input]
        require_input(self, frame, p.columns or (), "columns")
        self._targets(frame.collect_schema())
        return frame.with_columns(self._selection()[1].fill_null(**self._fill()[0]))

    def columns(self, input_schemas: Schemas) -> list[ColumnLineage]:
        lineage = same_name_lineage(self, input_schemas, "direct")  # first: it checks the columns
        changed = self._targets(input_schemas[self.params.input])
        return [replace(c, how="derived") if c.column in changed else c for c in lineage]

    def to_code(self) -> str:
        target, fill = self._selection()[0], self._fill()[1]
        return f"{self.params.input}.with_columns({target}.fill_null({fill}))"


# -- drop_nulls --------------------------------------------------------------------------------
class DropNullsParams(ComponentParams):
    input: str = NodeInput()
    subset: list[str] | None = Field(
        None, min_length=1, description="drop a row if one of these is null (default: any column)"
    )


@component
class DropNulls(Component[DropNullsParams]):
    """Drop the rows that have a null in any column, or in one of a subset."""

    name = "drop_nulls"
    category = "transform"
    description = "Drop the rows that have nulls (in any column or a subset)"
    Params = DropNullsParams

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        frame = inputs[self.params.input]
        require_input(self, frame, self.params.subset or (), "subset")
        return frame.drop_nulls(self.params.subset)

    def columns(self, input_schemas: Schemas) -> list[ColumnLineage]:
        return same_name_lineage(self, input_schemas, "filtered")

    def to_code(self) -> str:
        return _call(self.params.input, "drop_nulls", self.params.subset)


# -- sample ------------------------------------------------------------------------------------
class SampleParams(ComponentParams):
    input: str = NodeInput()
    n: int | None = Field(None, ge=0, description="how many rows (at most the input's rows)")
    fraction: float | None = Field(None, gt=0, description="or which share of the rows")
    seed: int = Field(0, ge=0, description="the same seed gives the same sample")
    with_replacement: bool = Field(False, description="a row may be drawn more than once")

    @model_validator(mode="after")
    def _n_or_fraction(self) -> SampleParams:
        if (self.n is None) == (self.fraction is None):
            raise ValueError("give exactly one of 'n' (rows) or 'fraction' (e.g. 0.1)")
        if self.fraction is not None and self.fraction > 1 and not self.with_replacement:
            raise ValueError("'fraction' above 1 needs with_replacement: true")
        return self


@component
class Sample(Component[SampleParams]):
    """A reproducible random sample of the rows, kept in input order.

    Without replacement, ``n`` larger than the input takes every row (so a sample of an
    empty input is empty instead of an error).
    """

    name = "sample"
    category = "transform"
    description = "A reproducible random sample of rows (n or fraction)"
    Params = SampleParams

    def _indices(self) -> str:
        """The sampled row numbers, as polars code (``apply`` runs this same expression)."""
        p = self.params
        size = f"fraction={p.fraction!r}"
        if p.n is not None:
            size = f"n={p.n}" if p.with_replacement else f"n=pl.min_horizontal(pl.len(), {p.n})"
        return (
            f"pl.int_range(pl.len()).sample({size}, with_replacement={p.with_replacement}, "
            f"seed={p.seed}).sort()"
        )

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        import polars as pl

        p = self.params
        size: dict[str, Any] = {"fraction": p.fraction}
        if p.n is not None:
            size = {"n": p.n if p.with_replacement else pl.min_horizontal(pl.len(), p.n)}
        indices = (
            pl.int_range(pl.len())
            .sample(**size, with_replacement=p.with_replacement, seed=p.seed)
            .sort()
        )
        return inputs[p.input].select(pl.all().gather(indices))

    def columns(self, input_schemas: Schemas) -> list[ColumnLineage]:
        return same_name_lineage(self, input_schemas, "filtered")

    def to_code(self) -> str:
        return f"{self.params.input}.select(pl.all().gather({self._indices()}))"


# -- limit -------------------------------------------------------------------------------------
class LimitParams(ComponentParams):
    input: str = NodeInput()
    n: int = Field(ge=0, description="how many rows to keep")
    offset: int = Field(0, ge=0, description="how many rows to skip first")


@component
class Limit(Component[LimitParams]):
    """Keep ``n`` rows, after skipping ``offset`` rows."""

    name = "limit"
    category = "transform"
    description = "Keep the first n rows (after an offset)"
    Params = LimitParams

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        return inputs[self.params.input].slice(self.params.offset, self.params.n)

    def columns(self, input_schemas: Schemas) -> list[ColumnLineage]:
        return same_name_lineage(self, input_schemas, "filtered")

    def to_code(self) -> str:
        return _call(self.params.input, "slice", self.params.offset, self.params.n)

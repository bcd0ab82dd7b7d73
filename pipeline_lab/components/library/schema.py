"""The schema component: cast a frame to a declared schema, strictly or leniently.

The conversion rules (numbers, booleans, dates and time zones from text) are in
:mod:`pipeline_lab.components._conversion`. Strict mode (the default) is a gate: the plan
carries, next to each converted column, the raw values that did not convert, and one step of
the plan (a polars ``map_batches``) checks them when the plan is collected, so ``apply`` stays
lazy and the data is read once. The error names every failing column with its target type,
the number of failing values and up to five examples. The gate sees its whole input: filters
downstream are not pushed below it. Lenient mode has no gate: failing values become nulls and
:meth:`Schema.conversion_report` counts them.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, ValidationError, field_validator

from pipeline_lab.components import component
from pipeline_lab.components._base import (
    ColumnLineage,
    Component,
    ComponentError,
    ComponentParams,
    NodeInput,
)
from pipeline_lab.components._conversion import (
    Chain,
    ColumnType,
    Conversion,
    column_type,
    conversion,
    problem,
)
from pipeline_lab.components._expressions import require_columns
from pipeline_lab.frames import to_lazy

if TYPE_CHECKING:
    import polars as pl


class SchemaParams(ComponentParams):
    input: str = NodeInput()
    columns: dict[str, ColumnType | str] = Field(
        description="column -> type: 'int64', 'decimal(12,2)', 'date', ... or a mapping with "
        "'type' and options (format, time_zone, decimal, thousands, true_values, nullable, ...)"
    )
    mode: Literal["strict", "lenient"] = Field(
        "strict", description="strict: fail on values that do not convert; lenient: null them"
    )
    extra_columns: Literal["keep", "drop", "error"] = Field(
        "keep", description="what to do with input columns that are not declared"
    )
    missing_columns: Literal["error", "null"] = Field(
        "error", description="what to do with declared columns the input lacks"
    )

    @field_validator("columns", mode="before")
    @classmethod
    def _parse_types(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value  # pydantic reports the wrong type
        specs = {}
        for name, spec in value.items():
            try:
                specs[name] = column_type(spec)
            except ValidationError as exc:
                raise ValueError(f"column {name!r}: {problem(exc)}") from None
        return specs

    def specs(self) -> dict[str, ColumnType]:
        return {name: column_type(spec) for name, spec in self.columns.items()}


@component
class Schema(Component[SchemaParams]):
    """Cast columns to declared types; strict mode fails on values that do not convert."""

    name = "schema"
    category = "transform"
    description = "Cast columns to declared types (numbers, booleans, dates, time zones)"
    Params = SchemaParams
    _seen: dict[str, Any] | None = None

    def conversions(self, schema: Mapping[str, Any]) -> list[Conversion]:
        """One conversion per declared column, checking the column policies against ``schema``."""
        params, specs = self.params, self.params.specs()
        missing = [c for c in specs if c not in schema]
        if missing and params.missing_columns == "error":
            require_columns(
                schema,
                specs,
                param="columns",
                component=self.name,
                node=self.node,
                input_name=params.input,
            )
        extra = [c for c in schema if c not in specs]
        if extra and params.extra_columns == "error":
            raise ComponentError(
                f"schema: input '{params.input}' has undeclared column(s) {', '.join(map(repr, extra))}",
                node=self.node,
                hint="declare them in 'columns', or set extra_columns: keep (or drop)",
            )
        out = []
        for column, spec in specs.items():
            if column in missing:
                value = Chain.pl("lit", None, dtype=spec.dtype())
                out.append(Conversion(column, spec, value, None))
            else:
                out.append(conversion(column, schema[column], spec))
        return out

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        import polars as pl

        frame = inputs[self.params.input]
        schema = dict(frame.collect_schema())
        self._seen = schema  # so to_code() writes the conversions that ran
        convs = self.conversions(schema)
        strict = self.params.mode == "strict"
        checks = [c for c in convs if strict or not c.spec.nullable]
        hidden = {f"__pipeline_lab_failed_{i}": c for i, c in enumerate(checks)}
        if strict:
            # Convert once into temporary columns; the failures are read off them.
            temps = [f"__pipeline_lab_value_{i}" for i in range(len(convs))]
            frame = frame.with_columns(
                c.value.expr.alias(t) for t, c in zip(temps, convs, strict=True)
            )
            exprs = [pl.col(t).alias(c.column) for t, c in zip(temps, convs, strict=True)]
            for (key, c), t in zip(hidden.items(), temps, strict=True):
                raw = pl.col(c.column) if c.present is not None else pl.lit(None)
                failed = pl.col(t).is_null() & (c.present.expr if c.present else pl.lit(False))
                exprs.append(pl.when(failed).then(raw.cast(pl.String)).alias(key))
        else:
            temps, exprs = [], [c.value.call("alias", c.column).expr for c in convs]
        if self.params.extra_columns == "drop":
            plan = frame.select(exprs)
        else:
            plan = frame.with_columns(exprs).drop(temps)
        if not checks:
            return plan
        plan = plan.map_batches(partial(_verify, checks=hidden, strict=strict, node=self.node))
        return plan.drop(list(hidden)) if strict else plan

    def conversion_report(self, frame: Any) -> dict[str, int]:
        """How many present values of each declared column do not convert (collects ``frame``)."""
        lazy = to_lazy(frame)
        convs = [c for c in self.conversions(dict(lazy.collect_schema())) if c.present is not None]
        counts = lazy.select(
            [c.failed.call("sum").call("alias", c.column).expr for c in convs]
        ).collect()
        return {c.column: int(counts[c.column][0] or 0) for c in convs}

    def columns(self, input_schemas: Mapping[str, Mapping[str, Any]]) -> list[ColumnLineage]:
        source, specs = self.params.input, self.params.specs()
        lineage = [
            ColumnLineage(c, ((source, c),) if c in input_schemas[source] else (), "derived")
            for c in specs
        ]
        if self.params.extra_columns == "keep":
            lineage += [
                ColumnLineage(c, ((source, c),), "direct")
                for c in input_schemas[source]
                if c not in specs
            ]
        return lineage

    def to_code(self, input_schema: Mapping[str, Any] | None = None) -> str:
        """The polars code of the conversion, for the input schema seen last (else strings)."""
        import polars as pl

        source = self.params.input
        schema = dict(input_schema or self._seen or {c: pl.String for c in self.params.columns})
        convs = self.conversions(schema)
        verb = "select" if self.params.extra_columns == "drop" else "with_columns"
        lines = "".join(f"    {c.value.call('alias', c.column).code},\n" for c in convs)
        plan = f"{source}.lazy().{verb}(\n{lines})"
        checks = [c for c in convs if self.params.mode == "strict" or not c.spec.nullable]
        if not checks:
            return plan
        counts = "".join(
            f"    {(c.failed if c.spec.nullable else c.value.call('is_null')).call('sum').call('alias', c.column).code},\n"
            for c in checks
        )
        return (
            f"converted = {plan}\nfailed = {source}.lazy().select(\n{counts}).collect()\n"
            "problems = {c: n for c, n in failed.row(0, named=True).items() if n}\n"
            "if problems:\n"
            '    raise ValueError(f"values that do not convert (or nulls where not allowed): {problems}")\n'
            "converted"
        )


def _verify(
    frame: pl.DataFrame, *, checks: Mapping[str, Conversion], strict: bool, node: str | None
) -> pl.DataFrame:
    """The strict-mode gate: fail naming each column, its type, the count and examples."""
    problems = []
    for key, conv in checks.items():
        values = frame.get_column(conv.column)
        failed = 0
        if strict:
            bad = frame.get_column(key)
            failed = bad.len() - bad.null_count()
            if failed:
                examples = ", ".join(
                    map(repr, bad.drop_nulls().unique(maintain_order=True).head(5))
                )
                total = failed + values.len() - values.null_count()
                problems.append(
                    f"column {conv.column!r} -> {conv.spec.label()}: {failed} of {total} values "
                    f"do not convert, e.g. {examples}"
                )
        nulls = values.null_count() - failed
        if not conv.spec.nullable and nulls:
            problems.append(
                f"column {conv.column!r} -> {conv.spec.label()} is not nullable but has {nulls} null values"
            )
    if problems:
        raise ComponentError(
            "schema: the input does not match the declared schema:\n  " + "\n  ".join(problems),
            node=node,
            hint="fix the values or the declared types (format, time_zone, decimal, thousands, "
            "true_values, false_values), or set mode: lenient to turn failing values into nulls",
        )
    return frame

"""The schema component: cast a frame to a declared schema, strictly or leniently.

The type names and conversion rules (numbers, booleans, dates and time zones from text) are
those of ``cast`` too: :mod:`pipeline_lab.components._types` and
:mod:`pipeline_lab.components._conversion`. Strict mode (the default) is a gate: the plan
computes, next to the converted columns, how many values of each did not convert and a few
examples (native polars aggregates, see :mod:`pipeline_lab.components._checks`), and
:meth:`Schema.finish` raises once the plan is collected, naming every failing column with
its target type, the number of failing values and up to five examples. So the data is read
once, and the gate sees its whole input: the engine collects it where it is, never fused
into a plan downstream. Lenient mode has no gate (unless a column is not nullable): failing
values become nulls and :meth:`Schema.conversion_report` counts them.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from pipeline_lab.components._checks import check_code, converted, read_checks
from pipeline_lab.components._conversion import (
    Chain,
    ColumnType,
    Conversion,
    column_type,
    convert_column,
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
                out.append(convert_column(self, column, schema[column], spec))
        return out

    @property
    def must_collect(self) -> bool:
        return bool(self._checks())

    def _checks(self) -> list[int]:
        """The declared columns (by position) whose conversion the gate checks."""
        strict = self.params.mode == "strict"
        specs = self.params.specs().values()
        return [i for i, spec in enumerate(specs) if strict or not spec.nullable]

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        frame = inputs[self.params.input]
        schema = dict(frame.collect_schema())
        self._seen = schema  # so to_code() writes the conversions that ran
        select = self.params.extra_columns == "drop"
        return converted(frame, self.conversions(schema), checks=self._checks(), select=select)

    def finish(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The converted frame, or the gate's error: every column that fails, with examples."""
        frame, found = read_checks(frame)
        strict = self.params.mode == "strict"
        problems = []
        for i, (column, spec) in enumerate(self.params.specs().items()):
            if i not in found:
                continue
            counts = found[i]
            failed = counts.failed if strict else 0  # lenient: failures are nulls
            if failed:
                problems.append(
                    f"column {column!r} -> {spec.label()}: {failed} of {failed + counts.valid} "
                    f"values do not convert, e.g. {counts.shown}"
                )
            nulls = counts.nulls - failed
            if not spec.nullable and nulls:
                problems.append(
                    f"column {column!r} -> {spec.label()} is not nullable but has {nulls} null "
                    "values"
                )
        if problems:
            raise ComponentError(
                "schema: the input does not match the declared schema:\n  " + "\n  ".join(problems),
                node=self.node,
                hint="fix the values or the declared types (format, time_zone, decimal, "
                "thousands, true_values, false_values), or set mode: lenient to turn failing "
                "values into nulls",
            )
        return frame

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
        checks = [convs[i] for i in self._checks()]
        if not checks:
            return plan
        counts = [
            (c.failed if c.spec.nullable else c.value.call("is_null"))
            .call("sum")
            .call("alias", c.column)
            .code
            for c in checks
        ]
        return check_code(source, plan, counts)

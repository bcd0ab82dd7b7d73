"""Column transforms: select, drop, rename, cast, derive."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from pipeline_lab.components import component
from pipeline_lab.components._base import (
    ColumnLineage,
    Component,
    ComponentError,
    ComponentParams,
    Lineage,
    NodeInput,
    checking_plans,
    visible,
)
from pipeline_lab.components._checks import check_code, converted, read_checks
from pipeline_lab.components._conversion import Conversion, column_type, convert_column
from pipeline_lab.components._expressions import (
    TYPED_SQL,
    checked_expression,
    quote,
    require_columns,
    sql_select,
    with_sql_column,
)
from pipeline_lab.components._types import parse_type

if TYPE_CHECKING:
    import polars as pl

Schemas = Mapping[str, Mapping[str, Any]]


# Helpers for components with one ``input`` node (rows.py uses them too).
def require_input(
    comp: Component[Any], frame: pl.LazyFrame, wanted: Collection[str], param: str
) -> None:
    """Check that the component's input has the columns parameter ``param`` names."""
    require_columns(
        frame.collect_schema().names(),
        wanted,
        param=param,
        component=comp.name,
        node=comp.node,
        input_name=comp.params.input,
    )


def output_columns(comp: Component[Any], input_schemas: Schemas) -> list[str]:
    """The output column names over empty inputs: it checks the parameters as a run does."""
    import polars as pl

    source = comp.params.input
    frame = pl.LazyFrame(schema=dict(input_schemas[source]))
    return visible(comp.apply({source: frame}).collect_schema().names())


def same_name_lineage(
    comp: Component[Any], input_schemas: Schemas, how: Lineage
) -> list[ColumnLineage]:
    """Each output column comes from the same-named input column, ``how``."""
    source = comp.params.input
    return [ColumnLineage(c, ((source, c),), how) for c in output_columns(comp, input_schemas)]


def resolved(comp: Component[Any], plan: pl.LazyFrame, param: str, text: str) -> pl.LazyFrame:
    """``plan`` once polars has resolved its types (no data is read), so type errors show here.

    Not while :meth:`Component.build` applies a component it has already checked.
    """
    if not checking_plans():
        return plan
    try:
        plan.collect_schema()
    except Exception as exc:
        raise ComponentError(
            f"{comp.name}: parameter '{param}' ({text!r}) does not fit the input "
            f"'{comp.params.input}': {str(exc).splitlines()[0]}",
            node=comp.node,
            hint="check the column types in the expression (CAST(x AS INT) converts)",
        ) from None
    return plan


def _distinct(columns: list[str]) -> list[str]:
    if len(set(columns)) != len(columns):
        twice = sorted({c for c in columns if columns.count(c) > 1})
        raise ValueError(f"names {', '.join(map(repr, twice))} more than once")
    return columns


# -- select ------------------------------------------------------------------------------------
class SelectParams(ComponentParams):
    input: str = NodeInput()
    columns: list[str] = Field(min_length=1, description="the columns to keep, in this order")

    check_distinct = field_validator("columns")(_distinct)


@component
class Select(Component[SelectParams]):
    """Keep some columns, in the given order."""

    name = "select"
    category = "transform"
    description = "Keep some columns, in the given order"
    Params = SelectParams

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        frame = inputs[self.params.input]
        require_input(self, frame, self.params.columns, "columns")
        return frame.select(self.params.columns)

    def columns(self, input_schemas: Schemas) -> list[ColumnLineage]:
        return same_name_lineage(self, input_schemas, "direct")

    def to_code(self) -> str:
        return f"{self.params.input}.select({self.params.columns!r})"


# -- drop --------------------------------------------------------------------------------------
class DropParams(ComponentParams):
    input: str = NodeInput()
    columns: list[str] = Field(min_length=1, description="the columns to remove")
    strict: bool = Field(True, description="a column the input lacks is an error")


@component
class Drop(Component[DropParams]):
    """Remove columns; with ``strict: false`` columns the input lacks are ignored."""

    name = "drop"
    category = "transform"
    description = "Remove columns"
    Params = DropParams

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        frame = inputs[self.params.input]
        if self.params.strict:
            require_input(self, frame, self.params.columns, "columns")
        return frame.drop(self.params.columns, strict=self.params.strict)

    def columns(self, input_schemas: Schemas) -> list[ColumnLineage]:
        return same_name_lineage(self, input_schemas, "direct")

    def to_code(self) -> str:
        strict = "" if self.params.strict else ", strict=False"
        return f"{self.params.input}.drop({self.params.columns!r}{strict})"


# -- rename ------------------------------------------------------------------------------------
class RenameParams(ComponentParams):
    input: str = NodeInput()
    columns: dict[str, str] = Field(min_length=1, description="old name -> new name")

    @field_validator("columns")
    @classmethod
    def _new_names(cls, columns: dict[str, str]) -> dict[str, str]:
        if any(not new.strip() for new in columns.values()):
            raise ValueError("a new column name is empty")
        _distinct(list(columns.values()))
        return columns


@component
class Rename(Component[RenameParams]):
    """Give columns new names."""

    name = "rename"
    category = "transform"
    description = "Give columns new names"
    Params = RenameParams

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        frame = inputs[self.params.input]
        mapping = self.params.columns
        require_input(self, frame, mapping, "columns")
        kept = [c for c in frame.collect_schema().names() if c not in mapping]
        clash = [new for new in mapping.values() if new in kept]
        if clash:
            raise ComponentError(
                f"{self.name}: new name(s) {', '.join(map(repr, clash))} are already columns "
                f"of '{self.params.input}'",
                node=self.node,
                hint="choose other names, or drop (or rename) those columns first",
            )
        return frame.rename(mapping)

    def columns(self, input_schemas: Schemas) -> list[ColumnLineage]:
        source, old = self.params.input, {new: o for o, new in self.params.columns.items()}
        return [
            ColumnLineage(c, ((source, old.get(c, c)),), "direct")
            for c in output_columns(self, input_schemas)
        ]

    def to_code(self) -> str:
        return f"{self.params.input}.rename({self.params.columns!r})"


# -- cast --------------------------------------------------------------------------------------
class CastParams(ComponentParams):
    input: str = NodeInput()
    columns: dict[str, str] = Field(
        min_length=1, description="column -> type (int64, float64, string, bool, date, ...)"
    )
    strict: bool = Field(
        True, description="values that do not convert are an error (else they become null)"
    )

    @field_validator("columns")
    @classmethod
    def _known_types(cls, columns: dict[str, str]) -> dict[str, str]:
        return {column: parse_type(kind).text for column, kind in columns.items()}


@component
class Cast(Component[CastParams]):
    """Convert columns to other types, as ``schema`` does with its default options.

    The same type names, and the same rules: text is parsed (numbers with spaces, booleans
    in their usual spellings, dates and datetimes as ISO 8601; empty text is missing, not a
    failure), a number becomes an integer only if it is whole, and a naive time in a zone
    is local time there. With ``strict`` (the default) a value that does not convert fails
    the node with the column, how many values fail and examples; without it such values
    become null.
    """

    name = "cast"
    category = "transform"
    description = "Convert columns to other types"
    Params = CastParams
    _seen: Mapping[str, pl.DataType] | None = None

    @property
    def must_collect(self) -> bool:
        return self.params.strict

    def _conversions(self, schema: Mapping[str, pl.DataType]) -> list[Conversion]:
        return [
            convert_column(self, column, schema[column], column_type(kind))
            for column, kind in self.params.columns.items()
        ]

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        frame = inputs[self.params.input]
        require_input(self, frame, self.params.columns, "columns")
        schema = frame.collect_schema()
        self._seen = schema
        convs = self._conversions(schema)
        checks = range(len(convs)) if self.params.strict else ()
        return converted(frame, convs, checks=checks, select=False)

    def finish(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The converted frame or, strict, an error naming each column that fails."""
        frame, found = read_checks(frame)
        problems = [
            f"column {column!r}: {counts.failed} of {counts.failed + counts.valid} non-null "
            f"values do not convert to {kind}, e.g. {counts.shown}"
            for i, (column, kind) in enumerate(self.params.columns.items())
            if (counts := found.get(i)) is not None and counts.failed
        ]
        if problems:
            raise ComponentError(
                "cast: " + "; ".join(problems),
                node=self.node,
                hint="fix or filter those values first, or set strict: false to make them null",
            )
        return frame

    def columns(self, input_schemas: Schemas) -> list[ColumnLineage]:
        source, cast = self.params.input, self.params.columns
        return [
            ColumnLineage(c, ((source, c),), "derived" if c in cast else "direct")
            for c in output_columns(self, input_schemas)
        ]

    def to_code(self) -> str:
        """The conversions for the input types last seen (else: text columns).

        Strict, a check follows that raises if any value fails, as the component does.
        """
        import polars as pl

        source = self.params.input
        schema = self._seen or dict.fromkeys(self.params.columns, pl.String())
        convs = self._conversions(schema)
        exprs = ", ".join(c.value.call("alias", c.column).code for c in convs)
        plan = f"{source}.with_columns({exprs})"
        if not self.params.strict:
            return plan
        return check_code(
            source, plan, [c.failed.call("sum").call("alias", c.column).code for c in convs]
        )


# -- derive ------------------------------------------------------------------------------------
class DeriveParams(ComponentParams):
    input: str = NodeInput()
    columns: dict[str, str] = Field(
        min_length=1, description="new column -> SQL expression, e.g. total: price * quantity"
    )


def _needs_types(text: str) -> bool:
    """Whether polars must know the columns' types to parse ``text`` (e.g. DATE_TRUNC).

    ``text`` is an expression the SQL policy has accepted.
    """
    import polars as pl

    try:
        pl.sql_expr(text)
    except Exception as exc:
        return TYPED_SQL in str(exc)
    return False


@component
class Derive(Component[DeriveParams]):
    """Add (or replace) columns computed by SQL expressions, in order.

    An expression may use the columns derived before it.
    """

    name = "derive"
    category = "transform"
    description = "Add columns computed by SQL expressions"
    Params = DeriveParams

    def check_parameters(self) -> None:
        self._checked()

    def _checked(self) -> dict[str, str]:
        """Each new column's expression as polars runs it (the SQL policy's text)."""
        return {
            name: checked_expression(
                text, param=f"columns.{name}", component=self.name, node=self.node
            )
            for name, text in self.params.columns.items()
        }

    def _steps(
        self, frame: pl.LazyFrame
    ) -> tuple[pl.LazyFrame, dict[str, frozenset[str]], set[str]]:
        """The plan, the columns each derived column reads, and those computed through SQL."""
        reads: dict[str, frozenset[str]] = {}
        typed: set[str] = set()
        columns = frame.collect_schema().names()  # then kept up to date, not resolved again
        for name, text in self.params.columns.items():
            frame, reads[name], via_sql = with_sql_column(
                frame,
                name,
                text,
                columns=columns,
                param=f"columns.{name}",
                component=self.name,
                node=self.node,
                input_name=self.params.input,
            )
            resolved(self, frame, f"columns.{name}", text)
            if via_sql:
                typed.add(name)
            if name not in columns:
                columns = [*columns, name]
        return frame, reads, typed

    _last_columns: list[str] | None = None  # the input's columns at the last build

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        frame = inputs[self.params.input]
        self._last_columns = frame.collect_schema().names()
        return self._steps(frame)[0]

    def columns(self, input_schemas: Schemas) -> list[ColumnLineage]:
        import polars as pl

        source = self.params.input
        out, reads, _ = self._steps(pl.LazyFrame(schema=dict(input_schemas[source])))
        origins: dict[str, tuple[tuple[str, str], ...]] = {
            c: ((source, c),) for c in input_schemas[source]
        }
        for name, roots in reads.items():
            origins[name] = tuple(dict.fromkeys(r for root in sorted(roots) for r in origins[root]))
        names = out.collect_schema().names()
        return [ColumnLineage(c, origins[c], "derived" if c in reads else "direct") for c in names]

    def to_code(self) -> str:
        code = self.params.input
        columns = list(self._last_columns) if self._last_columns is not None else None
        for name, text in self._checked().items():
            if _needs_types(text):
                select = (
                    sql_select(columns, name, text)
                    if columns is not None
                    else f"SELECT *, {text} AS {quote(name)} FROM self"
                )
                code += f".sql({select!r})"
            else:
                code += f".with_columns(pl.sql_expr({text!r}).alias({name!r}))"
            if columns is not None and name not in columns:
                columns.append(name)
        return code

"""Column transforms: select, drop, rename, cast, derive."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from pipeline_lab.components import component
from pipeline_lab.components._base import (
    ColumnLineage,
    Component,
    ComponentError,
    ComponentParams,
    Lineage,
    NodeInput,
)
from pipeline_lab.components._expressions import (
    TYPED_SQL,
    quote,
    require_columns,
    sql_select,
    with_sql_column,
)

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
    return comp.apply({source: frame}).collect_schema().names()


def same_name_lineage(
    comp: Component[Any], input_schemas: Schemas, how: Lineage
) -> list[ColumnLineage]:
    """Each output column comes from the same-named input column, ``how``."""
    source = comp.params.input
    return [ColumnLineage(c, ((source, c),), how) for c in output_columns(comp, input_schemas)]


def resolved(comp: Component[Any], plan: pl.LazyFrame, param: str, text: str) -> pl.LazyFrame:
    """``plan`` once polars has resolved its types (no data is read), so type errors show here."""
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
_SIMPLE_TYPES = {
    **{f"{s}int{b}": f"{s.upper()}Int{b}" for s in ("", "u") for b in (8, 16, 32, 64)},
    "float32": "Float32",
    "float64": "Float64",
    "string": "String",
    "bool": "Boolean",
    "date": "Date",
    "time": "Time",
    "datetime": "Datetime",
    "categorical": "Categorical",
}
_ALIASES = {"int": "int64", "integer": "int64", "float": "float64", "double": "float64"}
_ALIASES |= {"str": "string", "utf8": "string", "text": "string", "boolean": "bool"}
_DATETIME = re.compile(r"datetime\((ms|us|ns)(?:,([^,()]+))?\)")
_DECIMAL = re.compile(r"decimal\((\d+),(\d+)\)")
TYPE_NAMES = [*_SIMPLE_TYPES, "datetime(UNIT[, TIME_ZONE])", "decimal(PRECISION, SCALE)"]
"""The type names ``cast`` accepts (UNIT is ms, us or ns), shown when a name is unknown."""


def type_name(text: str) -> str:
    """The canonical spelling of a type name (``Decimal(10, 2)`` -> ``decimal(10,2)``)."""
    name = re.sub(r"\s+", "", text).lower()
    name = _ALIASES.get(name, name)
    if name in _SIMPLE_TYPES:
        return name
    if match := _DECIMAL.fullmatch(name):
        precision, scale = int(match[1]), int(match[2])
        if not 1 <= precision <= 38 or scale > precision:
            raise ValueError(f"{text!r}: decimal needs 1 <= precision <= 38 and scale <= precision")
        return name
    if match := _DATETIME.fullmatch(name):
        zone = re.sub(r"\s+", "", text)[len(f"datetime({match[1]},") : -1] if match[2] else ""
        if zone:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"{text!r}: unknown time zone {zone!r}") from None
            return f"datetime({match[1]}, {zone})"
        return f"datetime({match[1]})"
    raise ValueError(f"unknown type {text!r}; known types: {', '.join(TYPE_NAMES)}")


def _dtype(name: str) -> tuple[pl.DataType, str]:
    """The polars type of a canonical type name, and its code."""
    import polars as pl

    if name in _SIMPLE_TYPES:
        attr = _SIMPLE_TYPES[name]
        return getattr(pl, attr)(), f"pl.{attr}"
    if match := _DECIMAL.fullmatch(name):
        precision, scale = int(match[1]), int(match[2])
        return pl.Decimal(precision, scale), f"pl.Decimal({precision}, {scale})"
    unit, _, zone = name[len("datetime(") : -1].partition(", ")
    if zone:
        return pl.Datetime(unit, zone), f"pl.Datetime({unit!r}, {zone!r})"  # type: ignore[arg-type]
    return pl.Datetime(unit), f"pl.Datetime({unit!r})"  # type: ignore[arg-type]


# Conversions polars refuses, by target and source type (strings to temporals are parsed).
_UNSUPPORTED = {
    "Boolean": ("String", "Date", "Datetime", "Time"),
    "Date": ("Decimal", "Time"),
    "Datetime": ("Decimal", "Time"),
    "Time": ("Date", "Decimal"),
    "Decimal": ("Boolean", "Date", "Datetime", "Time"),
}


def _checked(values: pl.Series, *, convert: pl.Expr, type_name: str, node: str | None) -> pl.Series:
    """``values`` converted, or an error with how many values fail and examples."""
    out = values.to_frame().select(convert).to_series()
    failed = values.is_not_null() & out.is_null()
    count = int(failed.sum())
    if count:
        examples = values.filter(failed).unique(maintain_order=True).head(5).to_list()
        raise ComponentError(
            f"cast: column {values.name!r}: {count} of {values.len() - values.null_count()} "
            f"non-null values do not convert to {type_name}, e.g. "
            + ", ".join(map(repr, examples)),
            node=node,
            hint="fix or filter those values first, or set strict: false to make them null",
        )
    return out


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
        return {column: type_name(kind) for column, kind in columns.items()}


@component
class Cast(Component[CastParams]):
    """Convert columns to other types; strings are parsed (dates and datetimes as ISO 8601).

    With ``strict`` (the default) a value that does not convert fails the run with the
    column, how many values fail and examples; without it such values become null. The
    strict check needs whole columns, so it runs as a (Python) step of the plan.
    """

    name = "cast"
    category = "transform"
    description = "Convert columns to other types"
    Params = CastParams
    _seen: Mapping[str, pl.DataType] | None = None

    def _conversion(self, column: str, source: pl.DataType, strict: bool) -> tuple[pl.Expr, str]:
        """The expression converting ``column`` (of type ``source``), and its code."""
        import polars as pl

        name = self.params.columns[column]
        target, target_code = _dtype(name)
        expr, code = pl.col(column), f"pl.col({column!r})"
        if (target == pl.Categorical and source != pl.String) or (
            source in (pl.Categorical, pl.Enum) and target != pl.Categorical
        ):
            expr, code, source = expr.cast(pl.String), code + ".cast(pl.String)", pl.String()
        if source == pl.String and isinstance(target, pl.Datetime):
            unit, zone = target.time_unit, target.time_zone
            expr = expr.str.to_datetime(time_unit=unit, time_zone=zone, strict=strict)
            options = f"time_unit={unit!r}, time_zone={zone!r}, strict={strict}"
            return expr, f"{code}.str.to_datetime({options})"
        if source == pl.String and target in (pl.Date, pl.Time):
            method = "to_date" if target == pl.Date else "to_time"
            return getattr(expr.str, method)(strict=strict), f"{code}.str.{method}(strict={strict})"
        if source.base_type().__name__ in _UNSUPPORTED.get(target.base_type().__name__, ()):
            hint = "cast it to another type first, or derive the column with SQL"
            if target == pl.Boolean and source == pl.String:
                quoted = '"' + column.replace('"', '""') + '"'
                hint = f"derive it with SQL, e.g. {column}: \"lower({quoted}) IN ('true', 'yes')\""
            raise ComponentError(
                f"{self.name}: column {column!r} of type {source} cannot be cast to {name}",
                node=self.node,
                hint=hint,
            )
        naive = source == pl.Date or (source == pl.Datetime and source.time_zone is None)  # type: ignore[attr-defined]
        if isinstance(target, pl.Datetime) and target.time_zone and naive:
            # A naive time is read as local time in the zone, as naive strings are.
            unit, zone = target.time_unit, target.time_zone
            options = "" if strict else ", ambiguous='null', non_existent='null'"
            policy: Literal["raise", "null"] = "raise" if strict else "null"
            expr = expr.cast(pl.Datetime(unit), strict=strict).dt.replace_time_zone(
                zone, ambiguous=policy, non_existent=policy
            )
            code += f".cast(pl.Datetime({unit!r}), strict={strict})"
            return expr, f"{code}.dt.replace_time_zone({zone!r}{options})"
        return expr.cast(target, strict=strict), f"{code}.cast({target_code}, strict={strict})"

    def apply(self, inputs: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
        import polars as pl

        frame = inputs[self.params.input]
        require_input(self, frame, self.params.columns, "columns")
        schema = frame.collect_schema()
        self._seen = schema
        exprs = [self._conversion(c, schema[c], strict=False)[0] for c in self.params.columns]
        if not self.params.strict:
            return frame.with_columns(exprs)
        # polars' own strict casts count a sample of the failures, not all of them.
        checked = []
        for (column, name), expr in zip(self.params.columns.items(), exprs, strict=True):
            check = partial(_checked, convert=expr, type_name=name, node=self.node)
            checked.append(pl.col(column).map_batches(check, return_dtype=_dtype(name)[0]))
        return frame.with_columns(checked)

    def columns(self, input_schemas: Schemas) -> list[ColumnLineage]:
        source, cast = self.params.input, self.params.columns
        return [
            ColumnLineage(c, ((source, c),), "derived" if c in cast else "direct")
            for c in output_columns(self, input_schemas)
        ]

    def to_code(self) -> str:
        """The conversions for the input types last seen (else: strings, for temporals).

        Strict, it uses polars' own strict casts: the same result, though their error
        counts only a sample of the values that fail.
        """
        import polars as pl

        parts = []
        for column, name in self.params.columns.items():
            if self._seen is not None:
                source = self._seen[column]
            else:
                source = pl.String() if name.startswith(("date", "time")) else pl.Int64()
            parts.append(self._conversion(column, source, self.params.strict)[1])
        return f"{self.params.input}.with_columns({', '.join(parts)})"


# -- derive ------------------------------------------------------------------------------------
class DeriveParams(ComponentParams):
    input: str = NodeInput()
    columns: dict[str, str] = Field(
        min_length=1, description="new column -> SQL expression, e.g. total: price * quantity"
    )


def _needs_types(text: str) -> bool:
    """Whether polars must know the columns' types to parse ``text`` (e.g. DATE_TRUNC)."""
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

    def _steps(
        self, frame: pl.LazyFrame
    ) -> tuple[pl.LazyFrame, dict[str, frozenset[str]], set[str]]:
        """The plan, the columns each derived column reads, and those computed through SQL."""
        reads: dict[str, frozenset[str]] = {}
        typed: set[str] = set()
        for name, text in self.params.columns.items():
            frame, reads[name], via_sql = with_sql_column(
                frame,
                name,
                text,
                param=f"columns.{name}",
                component=self.name,
                node=self.node,
                input_name=self.params.input,
            )
            resolved(self, frame, f"columns.{name}", text)
            if via_sql:
                typed.add(name)
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
        for name, text in self.params.columns.items():
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

"""Type conversion rules of ``cast`` and ``schema``: column types, and the polars expressions
that reach them.

Strings are parsed the way data arrives in files: numbers with surrounding spaces, optional
thousands separators and decimal commas, booleans in their common spellings, dates and
datetimes in a given strftime ``format`` (else ISO 8601) and time zone. Empty strings are
missing values, not failures. Each expression is built as a :class:`Chain`, which keeps the
code that builds it, so a component's ``to_code()`` is exactly what its plan runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError, field_validator, model_validator

from pipeline_lab.components._base import Component, ComponentError, ComponentParams
from pipeline_lab.components._types import INTEGERS, TimeUnit, TypeName, check_zone, parse_type

if TYPE_CHECKING:
    import polars as pl

TRUE_VALUES = ("true", "t", "yes", "y", "1", "on")
FALSE_VALUES = ("false", "f", "no", "n", "0", "off")
ISO_DATES = ("%Y-%m-%d",)
ISO_TIMES = ("%H:%M:%S%.f", "%H:%M")
ISO_DATETIMES = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%d")
AWARE_FORMAT = re.compile(r"%[:#]*z|%\+")
# Conversions polars refuses, by target and source type (strings are parsed, categoricals and
# the categorical target go through strings, numbers become booleans by value).
_UNSUPPORTED = {
    "bool": ("Date", "Datetime", "Time"),
    "date": ("Decimal", "Time"),
    "datetime": ("Decimal", "Time"),
    "time": ("Date", "Decimal"),
    "decimal": ("Boolean", "Date", "Datetime", "Time"),
}


class Chain:
    """A polars expression with the code that builds it: ``to_code`` shows exactly what runs."""

    __slots__ = ("code", "expr")

    def __init__(self, expr: Any, code: str) -> None:
        self.expr, self.code = expr, code

    @staticmethod
    def pl(function: str, *args: Any, **kwargs: Any) -> Chain:
        import polars as pl

        value = getattr(pl, function)(*_exprs(args), **_exprs(kwargs))
        return Chain(value, f"pl.{function}({_render(args, kwargs)})")

    def call(self, method: str, *args: Any, **kwargs: Any) -> Chain:
        target = self.expr
        for part in method.split("."):
            target = getattr(target, part)
        return Chain(
            target(*_exprs(args), **_exprs(kwargs)),
            f"{self.code}.{method}({_render(args, kwargs)})",
        )

    def __and__(self, other: Chain) -> Chain:
        return Chain(self.expr & other.expr, f"({self.code} & {other.code})")

    def __invert__(self) -> Chain:
        return Chain(~self.expr, f"~{self.code}")


def _exprs(value: Any) -> Any:
    if isinstance(value, Chain):
        return value.expr
    if isinstance(value, (list, tuple)):
        return type(value)(_exprs(v) for v in value)
    if isinstance(value, dict):
        return {k: _exprs(v) for k, v in value.items()}
    return value


def _code(value: Any) -> str:
    import polars as pl

    if isinstance(value, Chain):
        return value.code
    if isinstance(value, pl.DataType) or (
        isinstance(value, type) and issubclass(value, pl.DataType)
    ):
        return f"pl.{value!r}"
    if isinstance(value, list):
        return "[" + ", ".join(map(_code, value)) + "]"
    return repr(value)


def _render(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str:
    return ", ".join([*map(_code, args), *(f"{k}={_code(v)}" for k, v in kwargs.items())])


class ColumnType(ComponentParams):
    """A declared column type and how to read it from strings."""

    type: str
    format: str | None = None
    time_zone: str | None = None
    time_unit: TimeUnit = "us"
    ambiguous: Literal["error", "earliest", "latest"] = "error"
    true_values: tuple[str, ...] | None = None
    false_values: tuple[str, ...] | None = None
    thousands: str | None = None
    decimal: Literal[".", ","] = "."
    nullable: bool = True

    @model_validator(mode="before")
    @classmethod
    def _unit_and_zone_of_the_name(cls, data: Any) -> Any:
        """``datetime(ms, UTC)`` is ``datetime`` with time_unit ``ms`` and time_zone ``UTC``."""
        if not isinstance(data, Mapping) or not isinstance(data.get("type"), str):
            return data
        try:
            parsed = parse_type(data["type"])
        except ValueError:
            return data  # the type's own validator says what is wrong
        if parsed.unit is None:
            return data
        data = {**data, "type": "datetime"}
        for key, value in (("time_unit", parsed.unit), ("time_zone", parsed.zone)):
            given = data.get(key)
            if value is not None and given is not None and given != value:
                raise ValueError(
                    f"type {parsed.text!r} has {key} {value!r} but option {key!r} is {given!r}"
                )
            if value is not None:
                data[key] = value
        return data

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        return parse_type(value).text

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else check_zone(value)

    @model_validator(mode="after")
    def _separators_differ(self) -> ColumnType:
        if self.thousands is not None and self.thousands == self.decimal:
            raise ValueError(f"thousands and decimal separators are both {self.decimal!r}")
        return self

    @property
    def name(self) -> str:
        """The type's canonical name, time unit and zone included: ``datetime(ms, UTC)``."""
        if self.type == "datetime" and (self.time_unit != "us" or self.time_zone):
            return TypeName("datetime", unit=self.time_unit, zone=self.time_zone).text
        return self.type

    def dtype(self) -> pl.DataType:
        return parse_type(self.name).dtype()

    def label(self) -> str:
        return self.name + (f" (format {self.format!r})" if self.format else "")


def problem(exc: ValidationError) -> str:
    """A ColumnType validation error in a sentence."""
    problems = []
    for error in exc.errors():
        where = ".".join(map(str, error["loc"]))
        if error["type"] == "extra_forbidden":
            problems.append(
                f"unknown option {where!r} (known: {', '.join(ColumnType.model_fields)})"
            )
        elif error["type"] == "missing":
            problems.append(f"option {where!r} is required")
        else:
            message = error["msg"].removeprefix("Value error, ")
            problems.append(message if where in ("type", "") else f"option {where!r}: {message}")
    return "; ".join(problems)


def column_type(spec: str | Mapping[str, Any] | ColumnType) -> ColumnType:
    """A type spec (``"int64"`` or ``{"type": "date", "format": "%d/%m/%Y"}``) as a ColumnType."""
    if isinstance(spec, ColumnType):
        return spec
    if not isinstance(spec, (str, Mapping)):
        raise ValueError(f"a type is a name such as 'int64' or a mapping with 'type', not {spec!r}")
    return ColumnType.model_validate({"type": spec} if isinstance(spec, str) else dict(spec))


@dataclass(frozen=True)
class Conversion:
    """How one column converts: its value, and which input values were present to convert."""

    column: str
    spec: ColumnType
    value: Chain
    present: Chain | None  # None: the column is missing and filled with nulls

    @property
    def failed(self) -> Chain:
        if self.present is None:
            return Chain.pl("lit", False)
        return self.present & self.value.call("is_null")


class Unconvertible(ValueError):
    """polars has no conversion from a column's type to the declared one."""

    def __init__(self, column: str, source: pl.DataType, spec: ColumnType) -> None:
        super().__init__(f"column {column!r} of type {source} cannot be cast to {spec.name}")


def conversion(column: str, source: pl.DataType, spec: ColumnType) -> Conversion:
    """The expressions that convert ``column`` (of type ``source``) to ``spec``.

    Raises :class:`Unconvertible` for a pair of types polars cannot convert.
    """
    import polars as pl

    col = Chain.pl("col", column)
    target = spec.dtype()
    if source in (pl.Categorical, pl.Enum):
        col, source = col.call("cast", pl.String), pl.String()
    if source == pl.String and spec.type not in ("string", "categorical"):
        text = col.call("str.strip_chars")
        present = text.call("ne", "")  # null stays null: not counted
        return Conversion(column, spec, _from_text(text, spec, target), present)
    kind = spec.type.partition("(")[0]
    if source.is_nested() or source.base_type().__name__ in _UNSUPPORTED.get(kind, ()):
        raise Unconvertible(column, source, spec)
    present = col.call("is_not_null")
    if spec.type == "categorical" and source != pl.String:
        value = col.call("cast", pl.String).call("cast", target)
    elif source.is_numeric() and spec.type == "bool":
        value = Chain.pl("when", col.call("eq", 1)).call("then", True)
        value = value.call("when", col.call("eq", 0)).call("then", False)
    elif (source.is_float() or source.is_decimal()) and spec.type in INTEGERS:
        cast = col.call("cast", target, strict=False)  # keep only whole numbers
        value = Chain.pl("when", cast.call("cast", source).call("eq", col)).call("then", cast)
    elif spec.type == "datetime" and source in (pl.Datetime, pl.Date):
        zone = getattr(source, "time_zone", None)
        if source == pl.Date:
            value = col.call("cast", pl.Datetime(spec.time_unit))
        else:  # an aware value keeps its zone unless time_zone asks for another
            value = col.call("dt.cast_time_unit", spec.time_unit)
        if spec.time_zone:
            value = _in_zone(value, spec, aware=zone is not None)
    else:
        value = col.call("cast", target, strict=False)
    return Conversion(column, spec, value, present)


def convert_column(
    comp: Component[Any], column: str, source: pl.DataType, spec: ColumnType
) -> Conversion:
    """The conversion of ``column``, or an error naming the component if polars has none."""
    try:
        return conversion(column, source, spec)
    except Unconvertible as exc:
        raise ComponentError(
            f"{comp.name}: {exc}",
            node=comp.node,
            hint="cast it to another type first, or derive the column with SQL",
        ) from None


def _from_text(text: Chain, spec: ColumnType, target: pl.DataType) -> Chain:
    import polars as pl

    kind = spec.type
    if kind == "bool":
        truthy = {v.strip().lower(): True for v in spec.true_values or TRUE_VALUES}
        falsy = {v.strip().lower(): False for v in spec.false_values or FALSE_VALUES}
        lowered = text.call("str.to_lowercase")
        return lowered.call(
            "replace_strict", {**truthy, **falsy}, default=None, return_dtype=pl.Boolean
        )
    if kind in INTEGERS or kind.startswith(("float", "decimal")):
        if spec.thousands:
            grouped = rf"^[+-]?\d{{1,3}}(?:{re.escape(spec.thousands)}\d{{3}})*(?:{re.escape(spec.decimal)}\d*)?$"
            plain = text.call("str.replace_all", spec.thousands, "", literal=True)
            bad = text.call("str.contains", spec.thousands, literal=True) & ~text.call(
                "str.contains", grouped
            )
            text = Chain.pl("when", ~bad).call("then", plain)
        if kind in INTEGERS:
            return text.call("str.to_integer", dtype=target, strict=False)
        if spec.decimal != ".":
            text = text.call("str.replace_all", spec.decimal, ".", literal=True)
        return text.call("cast", target, strict=False)
    if kind == "date":
        return _parsed(text, "str.to_date", spec.format, ISO_DATES)
    if kind == "time":
        return _parsed(text, "str.to_time", spec.format, ISO_TIMES)
    if spec.format is not None and AWARE_FORMAT.search(spec.format):
        value = text.call("str.to_datetime", spec.format, time_unit=spec.time_unit, strict=False)
        return value.call("dt.convert_time_zone", spec.time_zone) if spec.time_zone else value
    unit = spec.time_unit
    if spec.format is None:  # ISO 8601, with a "T" or a space; a UTC offset needs a time_zone
        iso = text.call("str.replace", "T", " ", literal=True)
        naive = _parsed(iso, "str.to_datetime", None, ISO_DATETIMES, time_unit=unit)
    else:
        naive = text.call("str.to_datetime", spec.format, time_unit=unit, strict=False)
    if not spec.time_zone:
        return naive
    naive = _in_zone(naive, spec, aware=False)
    if spec.format is not None:
        return naive
    aware = text.call("str.to_datetime", "%+", time_unit=unit, strict=False)
    return Chain.pl("coalesce", [naive, aware.call("dt.convert_time_zone", spec.time_zone)])


def _parsed(
    text: Chain, method: str, fmt: str | None, iso: tuple[str, ...], **options: Any
) -> Chain:
    parses = [text.call(method, f, **options, strict=False) for f in ((fmt,) if fmt else iso)]
    return parses[0] if len(parses) == 1 else Chain.pl("coalesce", parses)


def _in_zone(value: Chain, spec: ColumnType, *, aware: bool) -> Chain:
    """Naive values are wall times in ``spec.time_zone``; aware ones are converted to it."""
    if aware:
        return value.call("dt.convert_time_zone", spec.time_zone)
    ambiguous = "null" if spec.ambiguous == "error" else spec.ambiguous  # null counts as a failure
    return value.call(
        "dt.replace_time_zone", spec.time_zone, ambiguous=ambiguous, non_existent="null"
    )

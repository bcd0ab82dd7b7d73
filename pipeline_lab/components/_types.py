"""Type names: the one vocabulary of ``cast``, ``schema`` and the file sources' overrides.

A type name is a base name (``int64``, ``string``, ``date``, ...), an alias of one
(``integer``, ``utf8``, ``category``, ...), ``decimal(PRECISION[, SCALE])`` (scale 0 unless
given) or ``datetime(UNIT[, TIME_ZONE])``. Case and spaces do not matter, except in the name
of a time zone. :func:`parse_type` is the only parser and :data:`NAMES` with :data:`ALIASES`
the only table, so every component reads a name the same way.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pipeline_lab.suggest import did_you_mean

if TYPE_CHECKING:
    import polars as pl

INTEGERS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
FLOATS = ("float32", "float64")
NAMES = (*INTEGERS, *FLOATS, "bool", "string", "date", "datetime", "time", "categorical")
ALIASES = {
    "int": "int64",
    "integer": "int64",
    "float": "float64",
    "double": "float64",
    "boolean": "bool",
    "str": "string",
    "utf8": "string",
    "text": "string",
    "category": "categorical",
}
FORMS = (*NAMES, "datetime(UNIT[, TIME_ZONE])", "decimal(PRECISION, SCALE)")
"""Every name :func:`parse_type` accepts, as an unknown name's error lists them."""
TimeUnit = Literal["ms", "us", "ns"]
UNITS: tuple[TimeUnit, ...] = ("ms", "us", "ns")
_CALL = re.compile(r"(decimal|datetime)\s*\((.*)\)", re.IGNORECASE | re.DOTALL)
_POLARS = {"bool": "Boolean", "categorical": "Categorical", "string": "String"}


@dataclass(frozen=True)
class TypeName:
    """A parsed type name: ``base`` is one of :data:`NAMES` or ``decimal``."""

    base: str
    precision: int | None = None
    scale: int = 0
    unit: TimeUnit | None = None  # datetime(UNIT, ...) only
    zone: str | None = None

    @property
    def text(self) -> str:
        """The canonical spelling: ``int64``, ``decimal(10,2)``, ``datetime(ms, UTC)``."""
        if self.base == "decimal":
            return f"decimal({self.precision},{self.scale})"
        if self.unit is not None:
            return f"datetime({self.unit}{', ' + self.zone if self.zone else ''})"
        return self.base

    def dtype(self) -> pl.DataType:
        import polars as pl

        if self.base == "decimal":
            return pl.Decimal(self.precision, self.scale)
        if self.base == "datetime":
            return pl.Datetime(self.unit or "us", self.zone)
        name = _POLARS.get(self.base) or self.base.capitalize().replace("Uint", "UInt")
        dtype: pl.DataType = getattr(pl, name)()  # Int64, UInt8, Float32, Date, Time, ...
        return dtype


def parse_type(text: str) -> TypeName:
    """``text`` as a type name, or a ValueError that says what is wrong and what is known."""
    if not isinstance(text, str):
        raise ValueError(f"a type is a name such as 'int64', not {text!r}")
    name = re.sub(r"\s+", "", text).lower()
    name = ALIASES.get(name, name)
    if name in NAMES:
        return TypeName(name)
    if name == "decimal":
        raise ValueError("decimal needs a precision and a scale, e.g. 'decimal(12,2)'")
    call = _CALL.fullmatch(text.strip())
    if call is not None:
        kind, args = call[1].lower(), [a.strip() for a in call[2].split(",")]
        if kind == "decimal" and 1 <= len(args) <= 2 and all(a.isdigit() for a in args):
            precision, scale = int(args[0]), int(args[1]) if len(args) == 2 else 0
            if not 1 <= precision <= 38 or scale > precision:
                raise ValueError(
                    f"{text!r}: decimal needs 1 <= precision <= 38 and scale <= precision"
                )
            return TypeName("decimal", precision, scale)
        if kind == "datetime" and 1 <= len(args) <= 2 and args[0].lower() in UNITS:
            unit: TimeUnit = args[0].lower()  # type: ignore[assignment]
            zone = check_zone(args[1]) if len(args) == 2 and args[1] else None
            if unit == "us" and zone is None:
                return TypeName("datetime")  # the default: one spelling
            return TypeName("datetime", unit=unit, zone=zone)
    close = did_you_mean(name, [*NAMES, *ALIASES])
    hint = f"; {close}" if close else ""
    raise ValueError(f"unknown type {text!r} (known: {', '.join(FORMS)}){hint}")


def check_zone(zone: str) -> str:
    """``zone`` if it names an IANA time zone, else a ValueError."""
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {zone!r} (use an IANA name such as 'Europe/Paris')"
        ) from None
    return zone

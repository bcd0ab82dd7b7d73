"""Conversion checks that run inside the plan and are read once it is collected.

A strict ``cast`` or ``schema`` must say which values do not convert: the column, the target
type, how many and a few examples. That needs the whole column, and running Python inside a
polars plan (``map_batches``) can deadlock polars' thread pool against the GIL when several
plans run at once. So the plan itself computes, per checked column, one hidden struct column
of native aggregates (failures, non-null values, nulls, up to five distinct failing values);
a scalar broadcast to every row, which polars keeps as one value. The component's
``finish`` reads it off the collected frame, drops it and raises the error, so such a
component is always collected where it is (``Component.must_collect``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline_lab.components._base import HIDDEN_PREFIX
from pipeline_lab.components._conversion import Conversion

if TYPE_CHECKING:
    import polars as pl

CHECK = HIDDEN_PREFIX + "check_"
_VALUE = HIDDEN_PREFIX + "value_"
EXAMPLES = 5


@dataclass(frozen=True)
class Counts:
    """What the check of one converted column found."""

    failed: int  # present values that did not convert
    valid: int  # non-null converted values
    nulls: int  # null converted values, failures included
    examples: tuple[str, ...]  # up to five distinct failing values, in order of appearance

    @property
    def shown(self) -> str:
        return ", ".join(map(repr, self.examples))


def converted(
    frame: pl.LazyFrame, convs: Sequence[Conversion], *, checks: Collection[int], select: bool
) -> pl.LazyFrame:
    """``frame`` with each conversion applied, plus a hidden column per index in ``checks``.

    ``select`` keeps only the converted columns (in their order), else the others stay.
    """
    import polars as pl

    if not checks:
        exprs = [c.value.call("alias", c.column).expr for c in convs]
        return frame.select(exprs) if select else frame.with_columns(exprs)
    # Convert once into temporary columns; the values and the checks are read off them.
    temps = [f"{_VALUE}{i}" for i in range(len(convs))]
    frame = frame.with_columns(c.value.expr.alias(t) for t, c in zip(temps, convs, strict=True))
    exprs = [pl.col(t).alias(c.column) for t, c in zip(temps, convs, strict=True)]
    for i in sorted(checks):
        conv, value = convs[i], pl.col(temps[i])
        if conv.present is None:  # a missing column filled with nulls: nothing fails
            failed, raw = pl.lit(False), pl.lit(None, dtype=pl.String)
        else:  # with_columns reads its input: this is the value before conversion
            failed, raw = conv.present.expr & value.is_null(), pl.col(conv.column).cast(pl.String)
        counts = pl.struct(
            failed=failed.sum().cast(pl.Int64),
            valid=value.is_not_null().sum().cast(pl.Int64),
            nulls=value.is_null().sum().cast(pl.Int64),
            examples=raw.filter(failed).unique(maintain_order=True).head(EXAMPLES).implode(),
        )
        exprs.append(counts.alias(f"{CHECK}{i}"))
    if select:
        return frame.select(exprs)
    return frame.with_columns(exprs).drop(temps)


def read_checks(frame: pl.DataFrame) -> tuple[pl.DataFrame, dict[int, Counts]]:
    """The collected ``frame`` without its hidden check columns, and their counts by index."""
    keys = [c for c in frame.columns if c.startswith(CHECK)]
    if not keys:
        return frame, {}
    first = frame.select(keys).head(1)  # each is one value broadcast: never expand it
    found = {}
    for key in keys:
        row = first.get_column(key)[0] if first.height else None
        found[int(key.removeprefix(CHECK))] = (
            Counts(int(row["failed"]), int(row["valid"]), int(row["nulls"]), tuple(row["examples"]))
            if row
            else Counts(0, 0, 0, ())
        )
    return frame.drop(keys), found


def check_code(source: str, plan: str, counts: Sequence[str]) -> str:
    """Code that converts like ``plan`` and raises like the component when ``counts`` (code of
    named sums of failures) are not all zero: a cell, its last line the converted frame."""
    lines = "".join(f"    {c},\n" for c in counts)
    return (
        f"converted = {plan}\nfailed = {source}.lazy().select(\n{lines}).collect()\n"
        "problems = {c: n for c, n in failed.row(0, named=True).items() if n}\n"
        "if problems:\n"
        '    raise ValueError(f"values that do not convert (or nulls where not allowed): {problems}")\n'
        "converted"
    )

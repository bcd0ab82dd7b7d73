"""Many files as one frame: partition columns from ``key=value`` folders, a column naming
each row's file, columns that must agree across files, and recovery when one file fails.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from pipeline_lab.errors import ConnectorError

if TYPE_CHECKING:
    import polars as pl

HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


def hive_columns(files: list[str], root: str | None) -> dict[str, dict[str, Any]]:
    """``key=value`` folders between ``root`` and each file, typed, per file ({} if none)."""
    if root is None:
        return {}
    found: dict[str, dict[str, str | None]] = {}
    for path in files:
        relative = os.path.relpath(os.path.dirname(path), root).replace(os.sep, "/")
        pairs = [p.split("=", 1) for p in relative.split("/") if "=" in p]
        found[path] = {k: None if v == HIVE_NULL else unquote(v) for k, v in pairs}
    if not any(found.values()):
        return {}
    keys = list(dict.fromkeys(k for values in found.values() for k in values))
    typed = {k: _typed([v.get(k) for v in found.values()]) for k in keys}
    return {path: {k: typed[k][i] for k in keys} for i, path in enumerate(found)}


def _typed(values: list[str | None]) -> list[Any]:
    """Partition values as integers, floats or dates when they all are, else text."""
    for parse in (int, float, dt.date.fromisoformat):
        try:
            return [None if v is None else parse(v) for v in values]
        except ValueError:
            continue
    return values


def with_constants(plan: pl.LazyFrame, values: Mapping[str, Any]) -> pl.LazyFrame:
    """``plan`` with a constant column per value (a file's partition values, its path)."""
    import polars as pl

    if not values:
        return plan
    return plan.with_columns(
        pl.lit(v, dtype=pl.String if isinstance(v, str) else None).alias(k)
        for k, v in values.items()
    )


def per_file(
    files: list[str],
    scan_one: Callable[[str], pl.LazyFrame],
    hive: Mapping[str, Mapping[str, Any]],
    source_column: str | None,
) -> pl.LazyFrame:
    """Each file's plan with its constant columns, one after the other."""
    import polars as pl

    plans = [with_constants(scan_one(p), constants(p, hive, source_column)) for p in files]
    return plans[0] if len(plans) == 1 else pl.concat(plans, how="vertical_relaxed")


def constants(
    path: str, hive: Mapping[str, Mapping[str, Any]], source_column: str | None
) -> dict[str, Any]:
    constants = dict(hive.get(path, {}))
    if source_column:
        constants[source_column] = path
    return constants


def check_schema(
    plan: pl.LazyFrame, files: list[str], scan: Callable[[str], pl.LazyFrame]
) -> dict[str, Exception] | None:
    """None when the plan's columns resolve; else the files whose own columns do not.

    Raises an error naming the first file whose columns differ from the first file's, or
    the original error when every file resolves alone.
    """
    import polars as pl

    try:
        plan.collect_schema()
        return None
    except pl.exceptions.PolarsError as exc:
        error = exc
    columns: dict[str, list[str]] = {}
    broken: dict[str, Exception] = {}
    for path in files:
        try:
            columns[path] = scan(path).collect_schema().names()
        except pl.exceptions.PolarsError as exc:
            broken[path] = exc
    readable = list(columns)
    for path in readable[1:]:
        if columns[path] != columns[readable[0]]:
            raise _other_columns(path, columns[path], readable[0], columns[readable[0]]) from error
    if not broken:
        raise error
    return broken


def recover(
    files: list[str],
    plan: pl.LazyFrame,
    error: Exception,
    hive: Mapping[str, Mapping[str, Any]],
    source_column: str | None,
    scan: Callable[[str, Mapping[str, Any]], pl.DataFrame],
    reread: Callable[[str, Mapping[str, Any], Exception], pl.DataFrame],
) -> pl.DataFrame:
    """The frame after polars failed: each file again, the failing ones line by line."""
    import polars as pl

    schema = plan.collect_schema()
    extra = {source_column, *(k for values in hive.values() for k in values)}
    data = {c: t for c, t in schema.items() if c not in extra}
    frames = []
    failed = False
    for path in files:
        try:
            frame = scan(path, data)
        except pl.exceptions.PolarsError as exc:
            failed = True
            frame = reread(path, data, exc)
        if frame.columns != list(data):
            raise _other_columns(path, frame.columns, files[0], list(data)) from error
        frames.append(with_constants(frame.lazy(), constants(path, hive, source_column)).collect())
    if not failed:  # not one file's content: let the original error speak
        raise error
    return pl.concat(frames, how="vertical_relaxed").select(schema.names())


def _other_columns(
    path: str, columns: list[str], first: str, expected: list[str]
) -> ConnectorError:
    return ConnectorError(
        f"{path} has other columns than {first}",
        dataset=path,
        hint=f"its columns: {', '.join(columns)}; the first file's: {', '.join(expected)}. "
        "Read them separately, or with a narrower glob",
    )

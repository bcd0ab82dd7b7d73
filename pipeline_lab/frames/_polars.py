"""polars implementations of the frame functions (imported only once polars is in use)."""

from __future__ import annotations

import polars as pl

from pipeline_lab.frames._dispatch import (
    _columns,
    _isolated,
    _shape,
    _to_lazy,
    _to_pandas,
    _to_polars,
)


@_shape.register
def _(value: pl.DataFrame) -> tuple[int, int]:
    return value.height, value.width


@_shape.register
def _(value: pl.Series) -> tuple[int, int]:
    return value.len(), 1


@_columns.register
def _(value: pl.DataFrame) -> list[str]:
    return value.columns


@_columns.register
def _(value: pl.LazyFrame) -> list[str]:
    return value.collect_schema().names()


@_columns.register
def _(value: pl.Series) -> list[str]:
    return [value.name]


@_to_polars.register
def _(value: pl.DataFrame) -> pl.DataFrame:
    return value


@_to_polars.register
def _(value: pl.LazyFrame) -> pl.DataFrame:
    return value.collect()


@_to_polars.register
def _(value: pl.Series) -> pl.DataFrame:
    return value.to_frame()


@_to_pandas.register
def _(value: pl.DataFrame) -> object:
    return value.to_pandas()


@_to_pandas.register
def _(value: pl.LazyFrame) -> object:
    return value.collect().to_pandas()


@_to_pandas.register
def _(value: pl.Series) -> object:
    return value.to_frame().to_pandas()


@_to_lazy.register
def _(value: pl.LazyFrame) -> pl.LazyFrame:
    return value


@_isolated.register
def _(value: pl.DataFrame) -> pl.DataFrame:
    return value.clone()


@_isolated.register
def _(value: pl.LazyFrame) -> pl.LazyFrame:
    return value.clone()

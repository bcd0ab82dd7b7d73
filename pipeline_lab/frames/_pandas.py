"""pandas implementations of the frame functions (imported only once pandas is in use)."""

from __future__ import annotations

import pandas as pd

from pipeline_lab.frames._dispatch import _columns, _isolated, _shape, _to_pandas, _to_polars


@_shape.register
def _(value: pd.DataFrame) -> tuple[int, int]:
    rows, cols = value.shape
    return int(rows), int(cols)


@_shape.register
def _(value: pd.Series) -> tuple[int, int]:
    return len(value), 1


@_columns.register
def _(value: pd.DataFrame) -> list[str]:
    return [str(c) for c in value.columns]


@_columns.register
def _(value: pd.Series) -> list[str]:
    return [str(c) for c in value.to_frame().columns]


@_to_pandas.register
def _(value: pd.DataFrame) -> pd.DataFrame:
    return value


@_to_pandas.register
def _(value: pd.Series) -> pd.DataFrame:
    return value.to_frame()


@_to_polars.register
def _(value: pd.DataFrame) -> object:
    import polars as pl

    return pl.from_pandas(value)


@_to_polars.register
def _(value: pd.Series) -> object:
    import polars as pl

    return pl.from_pandas(value.to_frame())


@_isolated.register
def _(value: pd.DataFrame) -> pd.DataFrame:
    # Deep before copy-on-write (pandas < 3 without the option): a shallow copy shares data.
    return value.copy(deep=not _copy_on_write())


@_isolated.register
def _(value: pd.Series) -> pd.Series:
    return value.copy(deep=not _copy_on_write())


def _copy_on_write() -> bool:
    return int(pd.__version__.split(".")[0]) >= 3 or bool(pd.get_option("mode.copy_on_write"))

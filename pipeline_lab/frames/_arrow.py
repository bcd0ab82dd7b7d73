"""pyarrow implementations of the frame functions (imported only once pyarrow is in use)."""

from __future__ import annotations

import pyarrow as pa

from pipeline_lab.frames._dispatch import _columns, _shape, _to_pandas, _to_polars


@_shape.register
def _(value: pa.Table) -> tuple[int, int]:
    return value.num_rows, value.num_columns


@_columns.register
def _(value: pa.Table) -> list[str]:
    return list(value.column_names)


@_to_polars.register
def _(value: pa.Table) -> object:
    import polars as pl

    return pl.from_arrow(value)


@_to_pandas.register
def _(value: pa.Table) -> object:
    return value.to_pandas()

"""Frame-type dispatch: one place that knows polars, pandas and Arrow.

Functions dispatch with ``functools.singledispatch``. Implementations for a library are
registered the first time a value of that library is seen, so importing Pipeline Lab never
imports polars or pandas itself (a value of theirs can only exist once they are imported).
"""

from __future__ import annotations

from pipeline_lab.frames._dispatch import (
    columns,
    is_frame,
    isolated,
    shape,
    to_lazy,
    to_pandas,
    to_polars,
    with_schema,
)

__all__ = [
    "columns",
    "is_frame",
    "isolated",
    "shape",
    "to_lazy",
    "to_pandas",
    "to_polars",
    "with_schema",
]

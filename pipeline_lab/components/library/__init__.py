"""The built-in components; importing this package registers them."""

from __future__ import annotations

from pipeline_lab.components.library import (  # noqa: F401  (importing registers them)
    columns,
    combine,
    custom,
    reshape,
    rows,
    schema,
    sql,
    window,
)

"""The built-in components; importing this package registers them."""

from __future__ import annotations

from pipeline_lab.components.library import (  # noqa: F401  (importing registers them)
    columns,
    combine,
    custom,
    io_files,
    io_http,
    io_sql,
    reshape,
    rows,
    schema,
    sql,
    window,
)

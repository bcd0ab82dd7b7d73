"""``read`` and ``write``: one call for a URL, a file path or URL, or a managed source name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pipeline_lab.connectors._base import WriteMode, WriteResult
from pipeline_lab.connectors._config import DataSourceConfig
from pipeline_lab.connectors._resolve import SourceCatalog, open_connector, split_options

if TYPE_CHECKING:
    import polars as pl


def read(
    source: str | DataSourceConfig,
    *,
    table: str | None = None,
    query: str | None = None,
    params: Mapping[str, Any] | None = None,
    catalog: SourceCatalog | None = None,
    **options: Any,
) -> pl.DataFrame:
    """Read ``source`` into a polars DataFrame.

    Parameters
    ----------
    source
        A SQLAlchemy URL (``postgresql+psycopg://user@host/db``), a file path, glob or
        fsspec URL (``data/*.csv``, ``s3://bucket/key.parquet``), an http(s) URL, or the
        name of a managed data source.
    table, query, params
        For databases: a table, or a query whose ``:name`` placeholders bind ``params``.
    options
        Connector options (CSV delimiter, JSON path to records, pagination, ...).

    Examples
    --------
    >>> orders = pipeline_lab.read("postgresql+psycopg://me@db/shop", table="orders")
    >>> recent = pipeline_lab.read("warehouse", query="SELECT * FROM t WHERE day >= :d",
    ...                            params={"d": "2025-01-01"})
    """
    picking, rest = split_options(options)
    connector = open_connector(source, catalog, **picking)
    return connector.read(table=table, query=query, params=params, **rest)


def write(
    frame: Any,
    target: str | DataSourceConfig,
    *,
    table: str | None = None,
    mode: WriteMode | None = None,
    key: str | list[str] | None = None,
    catalog: SourceCatalog | None = None,
    **options: Any,
) -> WriteResult:
    """Write ``frame`` to ``target`` atomically (a transaction, or a temporary file + rename)."""
    picking, rest = split_options(options)
    connector = open_connector(target, catalog, **picking)
    return connector.write(frame, table=table, mode=mode, key=key, **rest)

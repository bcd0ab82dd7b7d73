"""``read`` and ``write``: one call for a URL, a file path or URL, or a managed source name.

These are ``pipeline_lab.read`` and ``pipeline_lab.write``. A name is looked up in the run's
catalog inside a run, and in the store's outside one, unless ``PIPELINE_LAB_STORE=off``:
then names are refused with a clear error, and no store is opened or created.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pipeline_lab.connectors._base import WriteMode, WriteResult
from pipeline_lab.connectors._catalogs import SourceCatalog
from pipeline_lab.connectors._config import DataSourceConfig
from pipeline_lab.connectors._resolve import open_connector, split_options

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
        A SQLAlchemy URL (``postgresql+psycopg://user@host/db``), a file path, glob or fsspec
        URL (``data/*.csv``, ``s3://bucket/key.parquet``), an http(s) URL, or the name of a
        managed data source (``pipeline-lab sources add NAME URL``). The store is opened only
        to look a name up.
    table, query, params
        For databases: a table, or a query whose ``:name`` placeholders bind ``params``.
    catalog
        Where names are looked up, instead of the run's or the store's.
    options
        Connector options (CSV delimiter, JSON path to records, pagination, ...).

    Examples
    --------
    >>> orders = pipeline_lab.read("postgresql+psycopg://me@db/shop", table="orders")
    >>> recent = pipeline_lab.read("warehouse", query="SELECT * FROM orders WHERE day >= :d",
    ...                            params={"d": "2025-01-01"})
    >>> sales = pipeline_lab.read("data/sales_*.csv")
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
    """Write ``frame`` (polars, pandas or Arrow) to ``target`` atomically.

    A transaction, or a temporary file renamed into place: all of it is written, or nothing.

    Parameters
    ----------
    target
        A SQLAlchemy URL, a file path or fsspec URL, or the name of a managed data source.
    table
        For databases: the table, created from the frame's schema when absent.
    mode
        ``append``, ``replace``, ``upsert`` (on ``key``) or ``error`` (if it exists);
        by default files are replaced and tables appended to.
    catalog
        Where names are looked up, instead of the run's or the store's.

    Examples
    --------
    >>> pipeline_lab.write(report, "warehouse", table="daily_report", mode="upsert", key="day")
    >>> pipeline_lab.write(report, "output/report.parquet")
    """
    picking, rest = split_options(options)
    connector = open_connector(target, catalog, creating=True, **picking)
    return connector.write(frame, table=table, mode=mode, key=key, **rest)

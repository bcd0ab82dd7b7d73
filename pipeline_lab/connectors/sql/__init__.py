"""Databases through SQLAlchemy: PostgreSQL, MySQL/MariaDB, SQL Server, Oracle and SQLite.

Examples
--------
>>> import pipeline_lab
>>> orders = pipeline_lab.read("postgresql+psycopg://me@db:5432/shop", table="orders")
>>> recent = pipeline_lab.read(
...     "postgresql+psycopg://me@db:5432/shop",
...     query="SELECT * FROM orders WHERE day >= :day",
...     params={"day": date(2025, 1, 1)},
... )
>>> pipeline_lab.write(orders, "mysql+pymysql://me@db/shop", table="orders", mode="upsert", key="id")

Read options: ``columns`` (of a table), ``limit`` and ``offset``, ``chunk_size`` (rows per
fetch), ``partition_on`` and ``partitions`` (parallel ranges of a numeric or date key), and
``reader`` (``"auto"``, ``"connectorx"`` or ``"driver"``). Write option: ``chunk_size``.
Source options: ``schema`` (the default schema) and ``connect_timeout`` (seconds). The
password is a secret reference: ``DataSourceConfig(..., secrets={"password": "env:PG_PW"})``.
"""

from __future__ import annotations

from pipeline_lab.connectors.sql._connector import (
    MySqlConnector,
    OracleConnector,
    PostgresConnector,
    SqlConnector,
    SqliteConnector,
    SqlServerConnector,
)
from pipeline_lab.connectors.sql._engine import dispose_engines

__all__ = [
    "MySqlConnector",
    "OracleConnector",
    "PostgresConnector",
    "SqlConnector",
    "SqlServerConnector",
    "SqliteConnector",
    "dispose_engines",
]

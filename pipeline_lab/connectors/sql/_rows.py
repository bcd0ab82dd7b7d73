"""Moving a frame's rows into a table: ``COPY`` on PostgreSQL, batched inserts elsewhere.

Values are bound as the frame holds them (text as text, structs and lists as JSON); MySQL
and SQLite receive time-zone-aware timestamps as UTC wall-clock times, as they store them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline_lab.connectors.sql._copy import copies, copy_in
from pipeline_lab.connectors.sql._types import dtype_family

if TYPE_CHECKING:
    import polars as pl
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection


def insert_rows(connection: Connection, table: Table, frame: pl.DataFrame, chunk: int) -> None:
    """Insert every row of ``frame`` into ``table``, ``chunk`` rows at a time."""
    if frame.height == 0:
        return
    if copies(connection.dialect):
        copy_in(connection, table, frame, chunk)
        return
    from sqlalchemy import insert

    bound = binding_table(table, frame)
    for part in python_ready(frame, connection.dialect.name).iter_slices(chunk):
        connection.execute(insert(bound), part.to_dicts())


def python_ready(frame: pl.DataFrame, dialect: str) -> pl.DataFrame:
    """Values the driver takes: MySQL and SQLite store time-zone-aware timestamps as UTC."""
    import polars as pl

    changes = []
    for name, dtype in frame.schema.items():
        if (
            isinstance(dtype, pl.Datetime)
            and dtype.time_zone
            and dialect in {"mysql", "mariadb", "sqlite"}
        ):
            changes.append(pl.col(name).dt.convert_time_zone("UTC").dt.replace_time_zone(None))
        elif isinstance(dtype, (pl.Categorical, pl.Enum)):
            changes.append(pl.col(name).cast(pl.String))
    return frame.with_columns(changes) if changes else frame


def binding_table(table: Table, frame: pl.DataFrame) -> Table:
    """``table`` with the frame's columns, typed so values bind as the frame holds them:
    text as text (JSON text stays as written), structs and lists serialized as JSON."""
    from sqlalchemy import JSON, Column, MetaData, String, Table

    columns = []
    for name, dtype in frame.schema.items():
        family = dtype_family(dtype)
        sql_type = (
            String() if family == "string" else JSON() if family == "json" else table.c[name].type
        )
        columns.append(Column(name, sql_type))
    return Table(table.name, MetaData(), *columns, schema=table.schema)

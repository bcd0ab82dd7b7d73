"""Writing a frame into a table: all of it, or nothing.

Modes: ``append`` adds the rows; ``replace`` leaves the table holding exactly the frame (its
definition, indexes and grants are kept when the frame has the same columns, else it is
recreated from the frame's schema); ``upsert`` inserts new keys and replaces the rows of
existing ones, with ``ON CONFLICT`` where a constraint covers the key, else by deleting and
inserting (see ``_upsert``); ``error`` refuses to touch an existing table. A missing table is created from the frame's
schema (with the key as primary key).

Where DDL is transactional (PostgreSQL, SQLite, SQL Server) everything is one transaction.
MySQL and Oracle commit DDL on their own, so a table they must create is filled under a
staging name and renamed into place only when every row is in. PostgreSQL rows travel by
``COPY ... FROM STDIN`` (CSV written by polars); other databases use batched inserts.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pipeline_lab.connectors.sql._engine import literal_dialect, run_sql
from pipeline_lab.connectors.sql._rows import insert_rows
from pipeline_lab.connectors.sql._schema import (
    check_columns,
    closest,
    listing,
    reflect,
    reflect_if_exists,
    split_table,
)
from pipeline_lab.connectors.sql._types import column_type, write_cast
from pipeline_lab.connectors.sql._upsert import upsert
from pipeline_lab.errors import ConnectorError

if TYPE_CHECKING:
    import polars as pl
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection, Engine

WRITE_OPTIONS = ("chunk_size",)
_TRANSACTIONAL_DDL = {"postgresql", "sqlite", "mssql"}
_MODES = ("append", "replace", "upsert", "error")
_DEFAULT_CHUNK = 100_000
_SHOWN_KEYS = 5


def write_frame(
    engine: Engine,
    frame: pl.DataFrame,
    *,
    table: str | None,
    mode: str,
    key: str | Sequence[str] | None,
    default_schema: str | None,
    chunk_size: int | None = None,
) -> int:
    """Write ``frame`` into ``table``; returns the number of rows written."""
    if not table:
        raise ConnectorError(
            "writing to a database needs table=", hint="write(frame, url, table='orders')"
        )
    if mode not in _MODES:
        raise ConnectorError(
            f"unknown write mode '{mode}'", hint=f"use one of: {', '.join(_MODES)}"
        )
    keys = [key] if isinstance(key, str) else list(key or [])
    _check_frame(frame, mode, keys)
    schema, name = split_table(table, default_schema)
    chunk = chunk_size or _DEFAULT_CHUNK
    if engine.dialect.name in _TRANSACTIONAL_DDL:
        with engine.begin() as connection:
            existing = reflect_if_exists(connection, name, schema)
            _refuse_existing(existing, mode)
            if existing is not None and not (mode == "replace" and not _fits(existing, frame)):
                _write_existing(connection, frame, existing, mode, keys, chunk)
                return frame.height
            if existing is not None:
                existing.drop(connection)
            created = _create(
                connection, frame, existing.name if existing is not None else name, schema, keys
            )
            insert_rows(connection, created, frame, chunk)
        return frame.height
    with engine.connect() as connection:
        existing = reflect_if_exists(connection, name, schema)
    _refuse_existing(existing, mode)
    if existing is None or (mode == "replace" and not _fits(existing, frame)):
        _write_staged(
            engine,
            frame,
            name if existing is None else existing.name,
            schema,
            keys,
            existing,
            chunk,
        )
        return frame.height
    with engine.begin() as connection:
        _write_existing(
            connection, frame, reflect(connection, existing.name, schema), mode, keys, chunk
        )
    return frame.height


def _check_frame(frame: pl.DataFrame, mode: str, keys: list[str]) -> None:
    if frame.width == 0:
        raise ConnectorError("the frame has no columns: there is nothing to write")
    for k in keys:
        if k not in frame.columns:
            near = closest(k, frame.columns)
            raise ConnectorError(
                f"key '{k}' is not a column of the frame; its columns: {listing(frame.columns)}",
                hint=f"did you mean {' or '.join(map(repr, near))}?" if near else None,
            )
    if mode == "upsert" and not keys:
        raise ConnectorError("mode='upsert' needs key= (the column or columns that identify a row)")
    if keys:
        nulls = {k: n for k in keys if (n := frame[k].null_count())}
        if nulls:
            where = ", ".join(
                f"'{k}' is null in {n} of {frame.height} rows" for k, n in nulls.items()
            )
            raise ConnectorError(
                f"key column {where}; a key cannot be null (NULL equals nothing in SQL: such a "
                "row would match no row of the table, and be added again at every write)",
                hint=f"drop or fill those rows first, e.g. frame.drop_nulls(subset={list(nulls)!r})",
            )
    if mode == "upsert":
        twice = frame.select(keys).filter(frame.select(keys).is_duplicated())
        dupes = twice.unique(maintain_order=True)
        if dupes.height:
            shown = "; ".join(
                ", ".join(f"{k}={_shown(v)}" for k, v in zip(keys, row, strict=True))
                for row in dupes.head(_SHOWN_KEYS).rows()
            )
            more = f" and {dupes.height - _SHOWN_KEYS} more" if dupes.height > _SHOWN_KEYS else ""
            raise ConnectorError(
                f"the frame holds the same key more than once ({shown}{more}); "
                "an upsert needs one row per key",
                hint=f"deduplicate first, e.g. frame.unique(subset={keys!r}, keep='last')",
            )


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _refuse_existing(existing: Table | None, mode: str) -> None:
    if existing is not None and mode == "error":
        raise ConnectorError(
            f"table '{existing.name}' already exists (mode='error')",
            hint="use mode='append', 'replace' or 'upsert'",
        )


def _fits(table: Table, frame: pl.DataFrame) -> bool:
    """Whether ``frame`` has exactly the table's columns, each writable into its column."""
    names = {c.name for c in table.columns}
    if set(frame.columns) != names:
        return False
    return all(write_cast(dtype, table.c[n].type)[0] for n, dtype in frame.schema.items())


def conform_to_table(frame: pl.DataFrame, table: Table) -> pl.DataFrame:
    """``frame`` renamed and cast to fit ``table``; a conflict raises before any row moves."""
    import polars as pl

    columns = check_columns(table, frame.columns, what="the frame's column")
    problems, casts, renames = [], [], {}
    for (name, dtype), column in zip(frame.schema.items(), columns, strict=True):
        if column.name != name:
            renames[name] = column.name
        ok, cast = write_cast(dtype, column.type)
        if not ok:
            problems.append(f"'{name}' holds {dtype} but the table's column is {column.type}")
        elif cast is not None:
            casts.append(pl.col(name).cast(cast))
    written = {c.name for c in columns}
    for column in table.columns:
        required = not column.nullable and column.server_default is None
        if column.name not in written and required and column.autoincrement is not True:
            problems.append(
                f"the table's column '{column.name}' is NOT NULL and the frame has no such column"
            )
    if problems:
        raise ConnectorError(
            f"the frame does not fit table '{table.name}': " + "; ".join(problems),
            hint="cast or rename the frame's columns, or write with mode='replace' to "
            "recreate the table from the frame",
        )
    try:
        return frame.with_columns(casts).rename(renames)
    except pl.exceptions.PolarsError as exc:
        raise ConnectorError(f"the frame does not fit table '{table.name}': {exc}") from None


def _write_existing(
    connection: Connection,
    frame: pl.DataFrame,
    table: Table,
    mode: str,
    keys: list[str],
    chunk: int,
) -> None:
    frame = conform_to_table(frame, table)
    keys = [c.name for c in check_columns(table, keys, what="key")]
    if mode == "upsert":
        upsert(connection, table, frame, keys, chunk)
        return
    if mode == "replace":
        if connection.dialect.name == "postgresql":
            preparer = literal_dialect(connection.dialect).identifier_preparer
            run_sql(connection, f"TRUNCATE {preparer.format_table(table)}")
        else:
            connection.execute(table.delete())
    insert_rows(connection, table, frame, chunk)


def _create(
    connection: Connection, frame: pl.DataFrame, name: str, schema: str | None, keys: list[str]
) -> Table:
    import polars as pl
    from sqlalchemy import Column, MetaData, Table

    dialect = connection.dialect.name
    columns = []
    for column, dtype in frame.schema.items():
        longest = None
        if dtype == pl.String:
            longest = frame[column].str.len_chars().max()
        sql_type = column_type(dtype, dialect, key=column in keys, max_chars=longest)  # type: ignore[arg-type]
        columns.append(
            Column(
                column,
                sql_type,
                primary_key=column in keys,
                nullable=column not in keys,
                autoincrement=False,
            )
        )
    options: dict[str, Any] = (
        {"mysql_charset": "utf8mb4"} if dialect in {"mysql", "mariadb"} else {}
    )
    table = Table(name, MetaData(), *columns, schema=schema, **options)
    table.create(connection)
    return table


def _write_staged(
    engine: Engine,
    frame: pl.DataFrame,
    name: str,
    schema: str | None,
    keys: list[str],
    existing: Table | None,
    chunk: int,
) -> None:
    """Fill a new table under a staging name, then rename it into place (MySQL, Oracle)."""
    staging = f"{name[:40]}__pl_{uuid.uuid4().hex[:8]}"
    with engine.begin() as connection:
        created = _create(connection, frame, staging, schema, keys)
    try:
        with engine.begin() as connection:
            insert_rows(connection, created, frame, chunk)
        with engine.begin() as connection:
            _swap(connection, staging, name, schema, replace=existing is not None)
    except BaseException:
        with engine.begin() as connection:
            created.drop(connection, checkfirst=True)
        raise


def _swap(
    connection: Connection, staging: str, name: str, schema: str | None, *, replace: bool
) -> None:
    from sqlalchemy import MetaData, Table

    preparer = literal_dialect(connection.dialect).identifier_preparer
    new, old = (preparer.format_table(Table(n, MetaData(), schema=schema)) for n in (staging, name))
    if connection.dialect.name in {"mysql", "mariadb"}:
        if replace:
            retired = preparer.format_table(Table(f"{staging}_old", MetaData(), schema=schema))
            run_sql(connection, f"RENAME TABLE {old} TO {retired}, {new} TO {old}")
            run_sql(connection, f"DROP TABLE {retired}")
        else:
            run_sql(connection, f"RENAME TABLE {new} TO {old}")
        return
    if replace:  # Oracle: no atomic swap; the new rows are complete before the old go
        run_sql(connection, f"DROP TABLE {old} PURGE")
    run_sql(connection, f"ALTER TABLE {new} RENAME TO {preparer.quote(name)}")

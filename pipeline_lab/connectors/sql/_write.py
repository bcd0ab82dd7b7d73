"""Writing a frame into a table: all of it, or nothing.

Modes: ``append`` adds the rows; ``replace`` leaves the table holding exactly the frame (its
definition, indexes and grants are kept when the frame has the same columns, else it is
recreated from the frame's schema); ``upsert`` inserts new keys and updates existing ones;
``error`` refuses to touch an existing table. A missing table is created from the frame's
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

from pipeline_lab.connectors.sql._copy import copies, copy_in
from pipeline_lab.connectors.sql._engine import literal_dialect, run_sql
from pipeline_lab.connectors.sql._schema import (
    check_columns,
    closest,
    listing,
    reflect,
    reflect_if_exists,
    split_table,
)
from pipeline_lab.connectors.sql._types import column_type, dtype_family, write_cast
from pipeline_lab.connectors.sql._upsert import merge_rows, upsert_statement
from pipeline_lab.errors import ConnectorError

if TYPE_CHECKING:
    import polars as pl
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection, Engine

WRITE_OPTIONS = ("chunk_size",)
_TRANSACTIONAL_DDL = {"postgresql", "sqlite", "mssql"}
_MODES = ("append", "replace", "upsert", "error")
_DEFAULT_CHUNK = 100_000


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
            _insert(connection, created, frame, chunk)
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
        nulls = [k for k in keys if frame[k].null_count()]
        if nulls:
            raise ConnectorError(
                f"key column(s) {', '.join(map(repr, nulls))} hold nulls; a key cannot be null"
            )
    if mode == "upsert":
        dupes = frame.filter(frame.select(keys).is_duplicated()).select(keys).unique().head(5)
        if dupes.height:
            raise ConnectorError(
                f"the frame holds the same key more than once ({', '.join(map(str, dupes.rows()))}"
                f"{', ...' if dupes.height == 5 else ''}); an upsert needs one row per key",
                hint=f"deduplicate first, e.g. frame.unique(subset={keys!r}, keep='last')",
            )


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
        _require_unique(connection, table, keys)
        _upsert(connection, table, frame, keys, chunk)
        return
    if mode == "replace":
        if connection.dialect.name == "postgresql":
            preparer = literal_dialect(connection.dialect).identifier_preparer
            run_sql(connection, f"TRUNCATE {preparer.format_table(table)}")
        else:
            connection.execute(table.delete())
    _insert(connection, table, frame, chunk)


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
            _insert(connection, created, frame, chunk)
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


def _require_unique(connection: Connection, table: Table, keys: list[str]) -> None:
    from sqlalchemy import inspect

    inspector = inspect(connection)
    pk = inspector.get_pk_constraint(table.name, table.schema).get("constrained_columns") or []
    unique: list[list[Any]] = [
        u["column_names"] for u in inspector.get_unique_constraints(table.name, table.schema)
    ]
    unique += [
        i["column_names"]
        for i in inspector.get_indexes(table.name, table.schema)
        if i.get("unique")
    ]
    if any(set(cols) == set(keys) for cols in [pk, *unique] if cols):
        return
    have = [f"primary key ({', '.join(pk)})"] if pk else []
    have += [f"unique ({', '.join(str(c) for c in cols)})" for cols in unique]
    preparer = literal_dialect(connection.dialect).identifier_preparer
    raise ConnectorError(
        f"an upsert on key ({', '.join(keys)}) needs a primary key or unique constraint on "
        f"exactly those columns; table '{table.name}' has {', '.join(have) or 'none'}",
        hint=f"ALTER TABLE {preparer.format_table(table)} ADD UNIQUE "
        f"({', '.join(preparer.quote(k) for k in keys)})",
    )


def _insert(connection: Connection, table: Table, frame: pl.DataFrame, chunk: int) -> None:
    if frame.height == 0:
        return
    if copies(connection.dialect):
        copy_in(connection, table, frame, chunk)
        return
    from sqlalchemy import insert

    bound = _binding_table(table, frame)
    for part in _python_ready(frame, connection.dialect.name).iter_slices(chunk):
        connection.execute(insert(bound), part.to_dicts())


def _upsert(
    connection: Connection, table: Table, frame: pl.DataFrame, keys: list[str], chunk: int
) -> None:
    from sqlalchemy import Column, MetaData, Table, select

    if frame.height == 0:
        return
    if copies(connection.dialect):
        # COPY into a temporary copy of the table, then one INSERT ... ON CONFLICT from it.
        preparer = literal_dialect(connection.dialect).identifier_preparer
        stage = f"pl_stage_{uuid.uuid4().hex[:12]}"
        # The frame's columns only, with the table's types and no constraints or defaults.
        columns = ", ".join(preparer.quote(c) for c in frame.columns)
        run_sql(
            connection,
            f"CREATE TEMPORARY TABLE {preparer.quote(stage)} ON COMMIT DROP AS "
            f"SELECT {columns} FROM {preparer.format_table(table)} WITH NO DATA",
        )
        staged = Table(stage, MetaData(), *[Column(c, table.c[c].type) for c in frame.columns])
        copy_in(connection, staged, frame, chunk)
        target = Table(
            table.name,
            MetaData(),
            *[Column(c, table.c[c].type) for c in frame.columns],
            schema=table.schema,
        )
        source = select(*[staged.c[c] for c in frame.columns])
        connection.execute(upsert_statement(target, keys, connection.dialect, source))
        return
    bound = _binding_table(table, frame)
    stmt = upsert_statement(bound, keys, connection.dialect)
    merge = connection.dialect.name not in {"postgresql", "sqlite", "mysql", "mariadb"}
    for part in _python_ready(frame, connection.dialect.name).iter_slices(chunk):
        rows = part.to_dicts()
        connection.execute(stmt, merge_rows(rows, frame.columns) if merge else rows)


def _python_ready(frame: pl.DataFrame, dialect: str) -> pl.DataFrame:
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


def _binding_table(table: Table, frame: pl.DataFrame) -> Table:
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

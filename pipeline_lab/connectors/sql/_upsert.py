"""Upserts: insert new keys, replace the rows of existing ones, in the write's transaction.

Where a primary key or unique constraint covers exactly the key columns, one statement per
dialect family does it: PostgreSQL and SQLite ``INSERT ... ON CONFLICT (key) DO UPDATE``,
MySQL and MariaDB ``INSERT ... ON DUPLICATE KEY UPDATE`` (columns the frame lacks keep
their values). SQL Server and Oracle ``MERGE``, which needs no constraint. Everywhere else,
dlt's ``delete-insert``: the frame goes to a temporary table (indexed on the key), the
table's rows whose key is there are deleted, and the frame's rows inserted, in the same
transaction, so a failure at any step leaves the table as it was. Several rows of one key
become one. As with a constraint, columns the frame lacks keep their values in rows that
were there (the staging table takes them from the table before the delete) and take their
defaults in new rows.

Keys are never null (the write refuses a frame with a null key: NULL equals nothing in
SQL, so such a row could only ever be added again); rows of the table whose key is null are
never matched, so they stay. Every value is a bound parameter; identifiers are quoted by
the dialect.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pipeline_lab.connectors.sql._copy import copies, copy_in
from pipeline_lab.connectors.sql._engine import literal_dialect, run_sql
from pipeline_lab.connectors.sql._rows import binding_table, insert_rows, python_ready

if TYPE_CHECKING:
    import polars as pl
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection, Dialect

_MERGES = frozenset({"mssql", "oracle"})
_INDEX_PREFIX = 191  # MySQL indexes text by a prefix: 191 characters fit any utf8mb4 key


def upsert(
    connection: Connection, table: Table, frame: pl.DataFrame, keys: list[str], chunk: int
) -> None:
    """Upsert ``frame`` into ``table`` on ``keys`` (the frame is checked: one row per key)."""
    if frame.height == 0:
        return
    dialect = connection.dialect
    if dialect.name in _MERGES:
        bound = binding_table(table, frame)
        stmt = upsert_statement(bound, keys, dialect)
        for part in python_ready(frame, dialect.name).iter_slices(chunk):
            connection.execute(stmt, merge_rows(part.to_dicts(), frame.columns))
    elif not unique_on(connection, table, keys):
        delete_insert(connection, table, frame, keys, chunk)
    elif copies(dialect):
        # COPY into a temporary copy of the table, then one INSERT ... ON CONFLICT from it.
        from sqlalchemy import Column, MetaData, Table, select

        staged = _stage(connection, table, frame, keys, chunk)
        target = Table(
            table.name,
            MetaData(),
            *[Column(c, table.c[c].type) for c in frame.columns],
            schema=table.schema,
        )
        source = select(*[staged.c[c] for c in frame.columns])
        connection.execute(upsert_statement(target, keys, dialect, source))
    else:
        stmt = upsert_statement(binding_table(table, frame), keys, dialect)
        for part in python_ready(frame, dialect.name).iter_slices(chunk):
            connection.execute(stmt, part.to_dicts())


def unique_on(connection: Connection, table: Table, keys: Sequence[str]) -> bool:
    """Whether a primary key, unique constraint or unique index covers exactly ``keys``."""
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
    return any(set(cols) == set(keys) for cols in [pk, *unique] if cols)


def delete_insert(
    connection: Connection, table: Table, frame: pl.DataFrame, keys: list[str], chunk: int
) -> None:
    """Delete the rows whose key the frame holds, then insert the frame (no constraint needed)."""
    from sqlalchemy import and_, delete, exists, update

    kept = [c.name for c in table.columns if c.name not in frame.columns]
    staged = _stage(connection, table, frame, keys, chunk, kept=kept)
    try:
        matched = and_(*(staged.c[k] == table.c[k] for k in keys))
        if kept:  # the values of the columns the frame lacks, from the rows about to go
            values = {staged.c[c]: table.c[c] for c in kept} | {staged.c[_MATCHED]: 1}
            connection.execute(update(staged).values(values).where(matched))
        connection.execute(delete(table).where(exists().where(matched)))
        if not kept:
            _insert_from(connection, table, staged, list(frame.columns))
            return
        old = staged.c[_MATCHED] == 1
        _insert_from(connection, table, staged, [*frame.columns, *kept], old)
        _insert_from(connection, table, staged, list(frame.columns), staged.c[_MATCHED].is_(None))
    finally:
        if not copies(connection.dialect):  # PostgreSQL drops its own at commit or rollback
            _drop_stage(connection, staged)


_MATCHED = "pl_stage_matched"
"""The staging table's mark on a row whose key the table held (so its kept columns are set)."""


def _insert_from(
    connection: Connection, table: Table, staged: Table, columns: list[str], where: Any = None
) -> None:
    """``INSERT INTO table (columns) SELECT columns FROM staged [WHERE ...]``."""
    from sqlalchemy import Column, MetaData, Table, insert, select

    target = Table(
        table.name, MetaData(), *[Column(c, table.c[c].type) for c in columns], schema=table.schema
    )
    rows = select(*[staged.c[c] for c in columns])
    if where is not None:
        rows = rows.where(where)
    connection.execute(insert(target).from_select(columns, rows))


def _stage(
    connection: Connection,
    table: Table,
    frame: pl.DataFrame,
    keys: list[str],
    chunk: int,
    *,
    kept: Sequence[str] = (),
) -> Table:
    """A temporary table of the frame's columns (the table's types, no constraints), filled.

    ``kept`` columns of the table, and a :data:`_MATCHED` mark, are there too, empty.
    """
    from sqlalchemy import Column, Index, Integer, MetaData, Table

    name = f"pl_stage_{uuid.uuid4().hex[:12]}"
    names = [*frame.columns, *kept]
    marks = [Column(_MATCHED, Integer)] if kept else []
    if copies(connection.dialect):
        preparer = literal_dialect(connection.dialect).identifier_preparer
        columns = ", ".join(preparer.quote(c) for c in names)
        mark = f", CAST(NULL AS INTEGER) AS {preparer.quote(_MATCHED)}" if kept else ""
        run_sql(
            connection,
            f"CREATE TEMPORARY TABLE {preparer.quote(name)} ON COMMIT DROP AS "
            f"SELECT {columns}{mark} FROM {preparer.format_table(table)} WITH NO DATA",
        )
        staged = Table(name, MetaData(), *[Column(c, table.c[c].type) for c in names], *marks)
        copy_in(connection, staged, frame, chunk)
        run_sql(connection, f"ANALYZE {preparer.quote(name)}")  # plan the join on real counts
        return staged
    staged = Table(
        name,
        MetaData(),
        *[Column(c, table.c[c].type) for c in names],
        *marks,
        prefixes=["TEMPORARY"],
    )
    # Indexed on the key, so each of the table's rows finds its match without a scan.
    texts = {k: _INDEX_PREFIX for k in keys if _is_text(staged.c[k].type)}
    Index(f"{name}_key", *[staged.c[k] for k in keys], mysql_length=texts or None)
    staged.create(connection)
    try:
        insert_rows(connection, staged, frame, chunk)
    except BaseException:
        _drop_stage(connection, staged)
        raise
    return staged


def _drop_stage(connection: Connection, staged: Table) -> None:
    preparer = literal_dialect(connection.dialect).identifier_preparer
    temporary = "TEMPORARY " if connection.dialect.name in {"mysql", "mariadb"} else ""
    run_sql(connection, f"DROP {temporary}TABLE IF EXISTS {preparer.quote(staged.name)}")


def _is_text(sql_type: Any) -> bool:
    from sqlalchemy import LargeBinary, Text

    return isinstance(sql_type, Text | LargeBinary)


def upsert_statement(
    table: Table, keys: Sequence[str], dialect: Dialect, source: Any = None
) -> Any:
    """Insert the rows bound to ``table``'s columns, updating those whose ``keys`` exist.

    ``source`` (PostgreSQL and SQLite) is a SELECT to insert from instead of bound rows.
    """
    name = dialect.name
    columns = [c.name for c in table.columns]
    others = [c for c in columns if c not in keys]
    stmt: Any
    if name in {"postgresql", "sqlite"}:
        from sqlalchemy.dialects import postgresql, sqlite

        stmt = (postgresql if name == "postgresql" else sqlite).insert(table)
        if source is not None:
            stmt = stmt.from_select(columns, source)
        if not others:
            return stmt.on_conflict_do_nothing(index_elements=list(keys))
        return stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: stmt.excluded[c] for c in others}
        )
    if name in {"mysql", "mariadb"}:
        from sqlalchemy.dialects import mysql

        stmt = mysql.insert(table)
        changed = others or list(keys)  # nothing to update: a no-op keeps the row as it is
        return stmt.on_duplicate_key_update({c: stmt.inserted[c] for c in changed})
    return merge_statement(table, keys, dialect)


def merge_statement(table: Table, keys: Sequence[str], dialect: Dialect) -> Any:
    """``MERGE`` of one bound row into ``table`` (SQL Server, Oracle), for executemany.

    Parameters are named ``p0``, ``p1``, ... in column order (column names may not be valid
    parameter names).
    """
    from sqlalchemy import bindparam, text

    quote = literal_dialect(dialect).identifier_preparer

    def q(identifier: str) -> str:
        return quote.quote(identifier).replace(":", r"\:")  # a colon would start a parameter

    target = quote.format_table(table).replace(":", r"\:")
    columns = [c.name for c in table.columns]
    param = {c: f"p{i}" for i, c in enumerate(columns)}
    values = ", ".join(f":{param[c]} AS {q(c)}" for c in columns)
    on = " AND ".join(f"t.{q(k)} = s.{q(k)}" for k in keys)
    update = ", ".join(f"t.{q(c)} = s.{q(c)}" for c in columns if c not in keys)
    insert = (
        f"INSERT ({', '.join(q(c) for c in columns)}) "
        f"VALUES ({', '.join(f's.{q(c)}' for c in columns)})"
    )
    if dialect.name == "mssql":
        sql = f"MERGE INTO {target} WITH (HOLDLOCK) AS t USING (SELECT {values}) AS s ON {on}"
        if update:
            sql += f" WHEN MATCHED THEN UPDATE SET {update}"
        sql += f" WHEN NOT MATCHED THEN {insert};"
    else:
        sql = f"MERGE INTO {target} t USING (SELECT {values} FROM dual) s ON ({on})"
        if update:
            sql += f" WHEN MATCHED THEN UPDATE SET {update}"
        sql += f" WHEN NOT MATCHED THEN {insert}"
    binds = [bindparam(param[c], type_=table.c[c].type) for c in columns]
    return text(sql).bindparams(*binds)


def merge_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> list[dict[str, Any]]:
    """Rows keyed by column name as the ``p0``, ``p1``, ... parameters of a MERGE."""
    return [{f"p{i}": row[c] for i, c in enumerate(columns)} for row in rows]

"""Insert-or-update statements, one per dialect family.

PostgreSQL and SQLite: ``INSERT ... ON CONFLICT (key) DO UPDATE``; MySQL and MariaDB:
``INSERT ... ON DUPLICATE KEY UPDATE``; SQL Server and Oracle: ``MERGE``. Every value is a
bound parameter; identifiers are quoted by the dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pipeline_lab.connectors.sql._engine import literal_dialect

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Dialect


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

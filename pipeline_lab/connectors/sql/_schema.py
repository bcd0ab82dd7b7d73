"""Names in a database: tables and columns checked against the reflected schema.

Every identifier a user gives (a table, a column, a key) is looked up in what the database
reports before any SQL is built, so a typo gives a message that lists what exists and the
closest names, and the SQL only ever holds identifiers quoted by the dialect.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from pipeline_lab.connectors.sql._errors import driver_code
from pipeline_lab.errors import ConnectorError

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection

_LISTED = 30  # names shown in a message before "..."


def split_table(table: str, default_schema: str | None) -> tuple[str | None, str]:
    """``schema.table`` -> (schema, table); a bare name uses ``default_schema``."""
    if "." in table:
        schema, _, name = table.partition(".")
        return schema, name
    return default_schema, table


def closest(name: str, candidates: Iterable[str]) -> list[str]:
    """Up to three candidates near ``name`` (case-insensitively)."""
    by_lower = {c.lower(): c for c in candidates}
    return [by_lower[c] for c in difflib.get_close_matches(name.lower(), list(by_lower), n=3)]


def listing(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_LISTED])
    return (shown + f", ... ({len(names)} in all)") if len(names) > _LISTED else shown or "none"


def table_names(connection: Connection, schema: str | None) -> list[str]:
    from sqlalchemy import inspect

    inspector = inspect(connection)
    return sorted(inspector.get_table_names(schema) + inspector.get_view_names(schema))


def find_table(connection: Connection, name: str, schema: str | None) -> str | None:
    """The stored name of table (or view) ``name``: exact, else the one equal ignoring case."""
    names = table_names(connection, schema)
    if name in names:
        return name
    folded = [n for n in names if n.lower() == name.lower()]
    return folded[0] if len(folded) == 1 else None


def missing_table(connection: Connection, name: str, schema: str | None) -> ConnectorError:
    names = table_names(connection, schema)
    where = f"schema '{schema}'" if schema else "the database"
    near = closest(name, names)
    return ConnectorError(
        f"table '{name}' does not exist in {where}; its tables: {listing(names)}",
        hint=f"did you mean {' or '.join(map(repr, near))}?" if near else None,
    )


def reflect(connection: Connection, table: str, schema: str | None) -> Table:
    """Table ``table`` as the database describes it; a missing table lists those that exist."""
    from sqlalchemy import MetaData, Table

    stored = find_table(connection, table, schema)
    if stored is None:
        raise missing_table(connection, table, schema)
    return Table(stored, MetaData(), schema=schema, autoload_with=connection)


def reflect_if_exists(connection: Connection, table: str, schema: str | None) -> Table | None:
    from sqlalchemy import MetaData, Table

    stored = find_table(connection, table, schema)
    if stored is None:
        return None
    return Table(stored, MetaData(), schema=schema, autoload_with=connection)


def check_columns(table: Table, columns: Iterable[str], what: str = "column") -> list[Any]:
    """The table's columns named ``columns``; an unknown name lists the table's columns."""
    found = []
    names = [c.name for c in table.columns]
    for column in columns:
        if column in table.columns:
            found.append(table.columns[column])
            continue
        folded = [n for n in names if n.lower() == column.lower()]
        if len(folded) == 1:
            found.append(table.columns[folded[0]])
            continue
        near = closest(column, names)
        raise ConnectorError(
            f"{what} '{column}' is not a column of table '{table.name}'; its columns: "
            f"{listing(names)}",
            hint=f"did you mean {' or '.join(map(repr, near))}?" if near else None,
        )
    return found


_FROM = re.compile(
    r"""\b(?:from|join|into|update)\s+((?:[`"\[]?[\w$]+[`"\]]?\.)?[`"\[]?[\w$]+[`"\]]?)""",
    re.IGNORECASE,
)


def tables_in_query(query: str) -> list[str]:
    """The table names a query reads, as written (best effort, for lineage and messages)."""
    without_strings = re.sub(r"'(?:[^']|'')*'", "''", query)
    names = [re.sub(r"[`\"\[\]]", "", m) for m in _FROM.findall(without_strings)]
    return list(dict.fromkeys(n for n in names if n.lower() not in {"select", "lateral"}))


# What databases say when a query names a table or column that is not there.
_MISSING_TABLE = (
    re.compile(r'relation "([^"]+)" does not exist'),
    re.compile(r"Table '(?:[^'.]+\.)?([^']+)' doesn't exist"),
    re.compile(r"no such table: (\S+)"),
)
_MISSING_COLUMN = (
    re.compile(r'column "?([^"\s]+)"? does not exist'),
    re.compile(r"Unknown column '([^']+)'"),
    re.compile(r"no such column: (\S+)"),
)


def explain_missing(
    exc: BaseException, connection: Connection, query: str, schema: str | None
) -> ConnectorError | None:
    """For a query that names a missing table or column: a message listing what exists."""
    sqlstate, _ = driver_code(exc)
    text = str(getattr(exc, "orig", None) or exc)
    # SQLSTATEs: PostgreSQL 42P01/42703, MySQL 42S02/42S22; SQLite has none.
    table = _match(_MISSING_TABLE, text) if sqlstate in {None, "42P01", "42S02"} else None
    if table is not None:
        return missing_table(connection, table.split(".")[-1], schema)
    column = _match(_MISSING_COLUMN, text) if sqlstate in {None, "42703", "42S22"} else None
    if column is None:
        return None
    column = column.split(".")[-1]
    known = set(table_names(connection, schema))
    lines, candidates = [], []
    for name in tables_in_query(query):
        stored = find_table(connection, name.split(".")[-1], schema)
        if stored is None or stored not in known:
            continue
        table_obj = reflect(connection, stored, schema)
        names = [c.name for c in table_obj.columns]
        candidates += names
        lines.append(f"{stored}({listing(names)})")
    near = closest(column, candidates)
    return ConnectorError(
        f"the query names column '{column}', which does not exist"
        + (f"; columns of the tables it reads: {'; '.join(lines)}" if lines else ""),
        hint=f"did you mean {' or '.join(map(repr, near))}?" if near else None,
    )


def _match(patterns: Iterable[re.Pattern[str]], text: str) -> str | None:
    for pattern in patterns:
        found = pattern.search(text)
        if found:
            return found.group(1)
    return None

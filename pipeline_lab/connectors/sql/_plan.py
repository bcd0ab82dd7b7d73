"""Planning a read: the SQL to run and the schema its result should have.

A table read reflects the table (a missing table or column lists what exists) and selects
its columns, quoted by the dialect. A query runs as written when it has no parameters (so
connectorx and COPY can take it verbatim) and as a ``text()`` clause with bound ``:name``
parameters otherwise. Either way the server describes the result (a zero-row run) where it
can, which gives exact polars dtypes even for an empty result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from pipeline_lab.connectors.sql._engine import literal_dialect, run_sql
from pipeline_lab.connectors.sql._errors import driver_code
from pipeline_lab.connectors.sql._schema import (
    check_columns,
    find_table,
    reflect,
    split_table,
    tables_in_query,
)
from pipeline_lab.connectors.sql._types import described_dtype, polars_dtype
from pipeline_lab.errors import ConnectorError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

PLACEHOLDER = "__pipeline_lab_query__"
DESCRIBED = {"postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql"}
"""Dialects whose servers describe a result's types (and their connectorx URL schemes)."""


@dataclass(frozen=True)
class ReadPlan:
    """What to run and what the result looks like."""

    base: Any  # a Select over the table, or the user's query as a TextClause
    table: bool  # True: base is a Select of table columns (never bound parameters)
    bound: bool  # the query has bound parameters: only the driver can run it
    raw: str | None = None  # the user's query text, when it runs as written
    schema: dict[str, Any] = field(default_factory=dict)  # column -> polars dtype or None
    connectorx: bool = False  # connectorx reads every column without loss
    order: tuple[Any, ...] = ()  # ORDER BY for OFFSET paging (primary key)
    query: str | None = None  # the user's query (for types a server does not describe)
    guessed: bool = False  # schema from the declared types of the tables a query names


def plan(
    connection: Connection,
    *,
    table: str | None,
    query: str | None,
    params: Mapping[str, Any] | None,
    columns: Sequence[str] | None,
    default_schema: str | None,
) -> ReadPlan:
    """The read's SQL, its identifiers checked, and its result schema."""
    from sqlalchemy import select, text

    if (table is None) == (query is None):
        raise ConnectorError(
            "give either table= or query=, not both" if table else "give table= or query=",
            hint="read('postgresql+psycopg://me@host/db', table='orders') or "
            "query='SELECT * FROM orders WHERE day >= :day', params={'day': ...}",
        )
    if table is not None:
        if params:
            raise ConnectorError("params= bind to a query's :name placeholders, not to a table")
        schema, name = split_table(table, default_schema)
        reflected = reflect(connection, name, schema)
        chosen = check_columns(reflected, columns) if columns else list(reflected.columns)
        order = tuple(reflected.primary_key.columns) or (chosen[0],)
        base = select(*chosen)
        return _described(connection, ReadPlan(base, True, False, order=order), reflected)
    if columns:
        raise ConnectorError("columns= picks columns of a table; a query selects its own")
    assert query is not None
    sql = query.strip().rstrip(";").strip()
    if params:
        clause = text(sql).bindparams(*_bindparams(text(sql), params))
        return _described(connection, ReadPlan(clause, False, True, query=sql))
    return _described(connection, ReadPlan(text(PLACEHOLDER), False, False, raw=sql, query=sql))


def _bindparams(clause: Any, params: Mapping[str, Any]) -> list[Any]:
    from sqlalchemy import bindparam

    wanted = set(clause.compile().binds)
    missing, extra = sorted(wanted - set(params)), sorted(set(params) - wanted)
    if missing or extra:
        problems = []
        if missing:
            problems.append(f"no value for {', '.join(':' + m for m in missing)}")
        if extra:
            problems.append(f"no :name placeholder for {', '.join(map(repr, extra))}")
        raise ConnectorError(
            "the query's parameters do not match params=: " + "; ".join(problems),
            hint=f"the query's placeholders: {', '.join(':' + w for w in sorted(wanted)) or 'none'}"
            " (write a literal colon as \\:)",
        )
    return [
        bindparam(name, value, expanding=isinstance(value, (list, tuple, set, frozenset)))
        if not isinstance(value, (set, frozenset))
        else bindparam(name, sorted(value), expanding=True)
        for name, value in params.items()
    ]


def _described(connection: Connection, read: ReadPlan, table: Any = None) -> ReadPlan:
    """``read`` with its result schema: described by the server, or from the reflected table."""
    from sqlalchemy.exc import ProgrammingError

    dialect = connection.dialect.name
    if dialect in DESCRIBED:
        try:
            result = execute(connection, read, limit=0)
        except ProgrammingError as exc:
            if table is not None or not _syntax_error(exc):
                raise
            # Not a query that can sit in a subquery (SHOW, EXPLAIN, CALL): run as written.
            connection.rollback()
            return read
        description = result.cursor.description or []
        result.close()
        schema, lossless = {}, True
        for column in description:
            name = column[0]
            if name in schema:
                raise ConnectorError(
                    f"the result has two columns named '{name}'",
                    hint="give one of them another name (... AS other_name)",
                )
            schema[name], fits = described_dtype(column, dialect)
            lossless = lossless and fits
        if table is not None:  # what the server does not describe, the catalog may say
            for column in read.base.selected_columns:
                if schema.get(column.name) is None:
                    schema[column.name] = polars_dtype(column.type)
        return replace(read, schema=schema, connectorx=lossless and not read.bound)
    if table is not None:
        return replace(
            read, schema={c.name: polars_dtype(c.type) for c in read.base.selected_columns}
        )
    return replace(read, schema=_declared(connection, read.query or ""), guessed=True)


def _syntax_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a syntax error (SQLSTATE 42601; MySQL error 1064)."""
    sqlstate, code = driver_code(exc)
    return sqlstate == "42601" or code == 1064


def _declared(connection: Connection, query: str) -> dict[str, Any]:
    """Types of a query's columns on a database that does not describe results (SQLite): the
    declared types of same-named columns of the tables it names, where they agree."""
    types: dict[str, Any] = {}
    disagree: set[str] = set()
    for name in tables_in_query(query):
        schema, table = split_table(name, None)
        stored = find_table(connection, table, schema)
        if stored is None:
            continue
        for column in reflect(connection, stored, schema).columns:
            dtype = polars_dtype(column.type)
            if types.setdefault(column.name, dtype) != dtype:
                disagree.add(column.name)
    return {k: v for k, v in types.items() if k not in disagree and v is not None}


def statement(
    read: ReadPlan,
    dialect: Any,
    *,
    where: Any = None,
    limit: int | None = None,
    offset: int | None = None,
) -> Any:
    """The SQL to run: a literal SQL string, or a bound SQLAlchemy statement."""
    from sqlalchemy import literal_column, select, text

    stmt = read.base
    if read.table:
        if where is not None:
            stmt = stmt.where(where)
    elif where is not None or limit is not None or offset:
        stmt = select(literal_column("*")).select_from(stmt.columns().subquery("q"))
        if where is not None:
            stmt = stmt.where(where)
    if limit is not None:
        stmt = stmt.limit(limit)
    if offset:
        order = read.order if read.table else (text("(SELECT NULL)"),)
        stmt = stmt.offset(offset).order_by(*order)
    if read.bound:
        return stmt
    if not read.table and stmt is read.base:
        return read.raw
    literal = literal_dialect(dialect)
    sql = str(stmt.compile(dialect=literal, compile_kwargs={"literal_binds": True}))
    return sql if read.raw is None else sql.replace(PLACEHOLDER, read.raw)


def execute(connection: Connection, read: ReadPlan, **shape: Any) -> Any:
    return run(connection, statement(read, connection.dialect, **shape))


def run(connection: Connection, stmt: Any) -> Any:
    """Run literal SQL text as written, or a statement with bound parameters."""
    return run_sql(connection, stmt) if isinstance(stmt, str) else connection.execute(stmt)

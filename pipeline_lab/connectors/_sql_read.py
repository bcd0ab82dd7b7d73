"""Reading a table or a query straight into polars.

A read is planned once (:class:`ReadPlan`): the SQL, bound to the user's parameters or fully
literal, and the polars schema the result should have, as the database describes it. It then
runs through one of two readers:

* **connectorx** (Rust, Arrow, several connections): PostgreSQL and MySQL reads without bound
  parameters whose column types it reads without loss. This is the fast path for big reads.
* **the driver** (SQLAlchemy, a server-side cursor fetching ``chunk_size`` rows at a time):
  everything else, including every parameterized query.

Partitioned reads split the result on a numeric or date key into ranges read in parallel.
"""

from __future__ import annotations

import importlib.util
import itertools
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from pipeline_lab.connectors._sql_copy import Unparsable, copies, copy_out, readable
from pipeline_lab.connectors._sql_schema import check_columns, reflect, split_table
from pipeline_lab.connectors._sql_types import described_dtype, polars_dtype
from pipeline_lab.errors import ConnectorError

if TYPE_CHECKING:
    import polars as pl
    from sqlalchemy.engine import Connection, Engine

Reader = Literal["auto", "connectorx", "copy", "cursor"]
READ_OPTIONS = ("columns", "limit", "offset", "chunk_size", "partition_on", "partitions", "reader")
_PLACEHOLDER = "__pipeline_lab_query__"
_DEFAULT_CHUNK = 50_000
_MAX_WORKERS = 8  # partitions read at once (each holds a pooled connection)
_CONNECTORX_DIALECTS = {"postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql"}


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
        return _described(connection, ReadPlan(clause, False, True))
    return _described(connection, ReadPlan(text(_PLACEHOLDER), False, False, raw=sql))


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
    dialect = connection.dialect.name
    if dialect in _CONNECTORX_DIALECTS:
        result = execute(connection, read, limit=0)
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
    return read


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
    # A dialect with named parameters: psycopg's would double every % in the SQL.
    literal_dialect = type(dialect)(paramstyle="named")
    sql = str(stmt.compile(dialect=literal_dialect, compile_kwargs={"literal_binds": True}))
    return sql if read.raw is None else sql.replace(_PLACEHOLDER, read.raw)


def execute(connection: Connection, read: ReadPlan, **shape: Any) -> Any:
    sql = statement(read, connection.dialect, **shape)
    if isinstance(sql, str):
        return connection.exec_driver_sql(sql)
    return connection.execute(sql)


def frames(
    engine: Engine,
    read: ReadPlan,
    *,
    connectorx_url: Any,
    limit: int | None = None,
    offset: int | None = None,
    chunk_size: int | None = None,
    partition_on: str | None = None,
    partitions: int = 4,
    reader: Reader = "auto",
) -> Iterator[pl.DataFrame]:
    """The result, in chunks of at most ``chunk_size`` rows (one chunk without it)."""
    if chunk_size is not None and chunk_size < 1:
        raise ConnectorError(f"chunk_size must be at least 1, not {chunk_size}")
    fast = _use_connectorx(engine, read, reader)
    wheres: list[Any] = [None]
    if partition_on is not None:
        if limit is not None or offset:
            raise ConnectorError(
                "partition_on= reads everything; it cannot be combined with limit=/offset="
            )
        wheres = _partitions(engine, read, partition_on, partitions)
    if fast:
        sqls = [
            statement(read, engine.dialect, where=w, limit=limit, offset=offset) for w in wheres
        ]
        yield from _connectorx(connectorx_url(), sqls, read.schema, chunk_size)
        return
    if len(wheres) == 1:
        yield from _driver(engine, read, wheres[0], limit, offset, chunk_size, reader)
        return
    workers = min(len(wheres), _MAX_WORKERS)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sql-partition") as pool:
        parts = pool.map(
            lambda w: list(_driver(engine, read, w, None, None, chunk_size, reader)), wheres
        )
        for part in parts:
            yield from part


def _use_connectorx(engine: Engine, read: ReadPlan, reader: Reader) -> bool:
    if reader not in ("auto", "connectorx", "copy", "cursor"):
        raise ConnectorError(
            f"unknown reader {reader!r}", hint="use 'auto', 'connectorx', 'copy' or 'cursor'"
        )
    if reader in ("copy", "cursor"):
        return False
    dialect = engine.dialect.name
    why = None
    if dialect not in _CONNECTORX_DIALECTS:
        why = f"connectorx does not read {dialect} here"
    elif read.bound:
        why = "connectorx cannot bind parameters"
    elif not read.connectorx:
        why = "a result column has a type connectorx would not read without loss"
    elif importlib.util.find_spec("connectorx") is None:
        why = "connectorx is not installed (pip install connectorx)"
    if why is not None and reader == "connectorx":
        raise ConnectorError(
            f"reader='connectorx' is not possible: {why}", hint="use reader='auto'"
        )
    return why is None


def connectorx_url(url: Any) -> str:
    """The URL connectorx connects with (it holds the password: keep it only in memory)."""
    scheme = _CONNECTORX_DIALECTS[url.get_backend_name()]
    return str(url.set(drivername=scheme).render_as_string(hide_password=False))


def _connectorx(
    url: str, sqls: list[str], schema: Mapping[str, Any], chunk_size: int | None
) -> Iterator[pl.DataFrame]:
    import connectorx as cx
    import polars as pl

    query: str | list[str] = sqls[0] if len(sqls) == 1 else sqls
    if chunk_size is None or len(sqls) > 1:
        table = cx.read_sql(url, query, return_type="arrow")
        yield conform(pl.from_arrow(table), schema)  # type: ignore[arg-type]
        return
    reader = cx.read_sql(url, query, return_type="arrow_stream", batch_size=chunk_size)
    empty = True
    for batch in reader:
        if batch.num_rows or empty:
            empty = False
            yield conform(pl.from_arrow(batch), schema)  # type: ignore[arg-type]


def _driver(
    engine: Engine,
    read: ReadPlan,
    where: Any,
    limit: int | None,
    offset: int | None,
    chunk_size: int | None,
    reader: Reader,
) -> Iterator[pl.DataFrame]:
    """Through the driver: PostgreSQL's COPY where it can, else a server-side cursor."""
    stmt = statement(read, engine.dialect, where=where, limit=limit, offset=offset)
    copy = copies(engine.dialect) and readable(read.schema)
    if reader == "copy" and not copy:
        raise ConnectorError(
            "reader='copy' needs PostgreSQL through psycopg, and result columns of types "
            "it parses (not intervals, arrays or unconstrained numerics)",
            hint="use reader='auto'",
        )
    if copy and reader != "cursor":
        given = False
        try:
            for frame in copy_out(engine, stmt, read.schema, chunk_size):
                given = True
                yield frame
            return
        except Unparsable as exc:
            if given or reader == "copy":
                raise ConnectorError(
                    f"a value of the result cannot be read from COPY: {exc}",
                    hint="read it with reader='cursor'",
                ) from None
    yield from _cursor(engine, stmt, read.schema, chunk_size)


def _cursor(
    engine: Engine, stmt: Any, schema: Mapping[str, Any], chunk_size: int | None
) -> Iterator[pl.DataFrame]:
    """Rows from a server-side cursor, ``chunk_size`` at a time."""
    size = chunk_size or _DEFAULT_CHUNK
    with engine.connect() as connection:
        streaming = connection.execution_options(stream_results=True, max_row_buffer=size)
        if isinstance(stmt, str):
            result = streaming.exec_driver_sql(stmt)
        else:
            result = streaming.execute(stmt)
        names = list(result.keys())
        empty = True
        while True:
            rows = result.fetchmany(size)
            if not rows and not empty:
                break
            empty = False
            yield conform(rows_frame(names, rows, schema), schema)
            if len(rows) < size:
                break
        result.close()


def rows_frame(
    names: Sequence[str], rows: Sequence[Any], schema: Mapping[str, Any]
) -> pl.DataFrame:
    """A frame of driver rows, each column built with its described dtype when it fits."""
    import polars as pl

    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    series = []
    for name, values in zip(names, columns, strict=True):
        dtype = schema.get(name)
        plain = _plain(values)
        built = None
        if dtype is not None:
            try:
                built = pl.Series(name, plain, dtype=dtype, strict=True)
            except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
                built = None  # e.g. 0/1 for a boolean: built as integers, cast in conform()
        if built is None:
            built = pl.Series(name, plain, strict=False)
        series.append(built)
    return pl.DataFrame(series)


def _plain(values: Sequence[Any]) -> Sequence[Any]:
    """Driver values polars cannot take as they are (UUIDs, JSON objects, buffers) as text."""
    import json
    import uuid

    first = next((v for v in values if v is not None), None)
    if first is None or isinstance(first, (str, int, float, bytes, bool)):
        return values
    if isinstance(first, uuid.UUID):
        return [None if v is None else str(v) for v in values]
    if isinstance(first, (dict, list)):
        return [None if v is None else json.dumps(v) for v in values]
    if isinstance(first, memoryview):
        return [None if v is None else bytes(v) for v in values]
    return values


def conform(frame: pl.DataFrame, schema: Mapping[str, Any]) -> pl.DataFrame:
    """``frame`` with every column cast to its described dtype (where one is known)."""
    import polars as pl

    casts = []
    for name, dtype in schema.items():
        if dtype is None or name not in frame.columns or frame.schema[name] == dtype:
            continue
        column = pl.col(name)
        if frame.schema[name] == pl.String and dtype == pl.Boolean:
            column = column.cast(pl.Int8)  # SQLite and MySQL store booleans as 0/1
        elif frame.schema[name].is_float() and isinstance(dtype, pl.Decimal):
            column = column.round(dtype.scale or 0)
        casts.append(column.cast(dtype))
    return frame.with_columns(casts) if casts else frame


def _partitions(engine: Engine, read: ReadPlan, key: str, count: int) -> list[Any]:
    """WHERE clauses that split the result on ``key`` into ``count`` ranges (and its nulls)."""
    import datetime as dt
    import decimal

    from sqlalchemy import and_, bindparam, column, func, select

    if count < 1:
        raise ConnectorError(f"partitions must be at least 1, not {count}")
    if read.schema and key not in read.schema:
        raise ConnectorError(
            f"partition_on='{key}' is not a column of the result; its columns: "
            f"{', '.join(read.schema)}"
        )
    target = read.base.selected_columns[key] if read.table else column(key)
    bounds = select(func.min(target), func.max(target))
    if not read.table:
        bounds = bounds.select_from(read.base.columns().subquery("q"))
    sql = (
        statement(replace(read, base=bounds, table=True), engine.dialect)
        if not read.bound
        else bounds
    )
    with engine.connect() as connection:
        result = (
            connection.exec_driver_sql(sql) if isinstance(sql, str) else connection.execute(sql)
        )
        low, high = result.one()
    nulls = target.is_(None)
    if low is None:
        return [nulls]
    if isinstance(low, bool) or not isinstance(
        low, (int, float, decimal.Decimal, dt.date, dt.datetime)
    ):
        raise ConnectorError(
            f"partition_on='{key}' must be a numeric or date column (it holds {type(low).__name__})"
        )
    edges = _edges(low, high, count)
    wheres: list[Any] = []
    for i, (start, end) in enumerate(itertools.pairwise(edges)):
        lower = target >= bindparam(None, start, unique=True)
        last = i == len(edges) - 2
        upper = (
            (target <= bindparam(None, end, unique=True))
            if last
            else (target < bindparam(None, end, unique=True))
        )
        wheres.append(and_(lower, upper))
    wheres[0] = wheres[0] | nulls
    return wheres


def _edges(low: Any, high: Any, count: int) -> list[Any]:
    """``count`` + 1 increasing range edges from ``low`` to ``high`` (fewer if they repeat)."""
    import datetime as dt

    span = high - low
    edges = [low]
    for i in range(1, count):
        if isinstance(low, int):
            edge = low + span * i // count
        elif isinstance(low, dt.date) and not isinstance(low, dt.datetime):
            edge = low + dt.timedelta(days=span.days * i // count)
        else:
            edge = low + span * i / count
        if edge > edges[-1]:
            edges.append(edge)
    if high > edges[-1] or len(edges) == 1:
        edges.append(high)
    return edges
